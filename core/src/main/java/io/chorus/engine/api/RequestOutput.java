package io.chorus.engine.api;

/**
 * One event of a request's output stream: the tokens one sequence produced in one step, and, on its
 * last event, why it finished.
 *
 * @param index            which of the request's {@code n} completions (0 when n = 1)
 * @param newTokenIds      tokens generated this step (empty on an abort or error event)
 * @param finishReason     null until the sequence finishes
 * @param stopTokenId      the stop token that ended it (not set for EOS), or null
 * @param promptTokens     prompt length
 * @param generationTokens tokens generated so far by this sequence
 * @param timings          engine-side timings, {@link System#nanoTime()} based
 * @param error            the failure message when finishReason is ERROR, else null
 * @param logprobs         one entry per new token when the request asked for logprobs, else null
 * @param promptLogprobs   on the first event of a request that asked for prompt logprobs, one entry
 *                         per prompt token (the first, which has no prediction, is null); else null
 * @param embedding        on the final event of an embedding request, its pooled, L2-normalised vector; else null
 */
public record RequestOutput(
        String requestId, int index, int[] newTokenIds, FinishReason finishReason, Integer stopTokenId,
        int promptTokens, int generationTokens, Timings timings, String error,
        TokenLogprobs[] logprobs, TokenLogprobs[] promptLogprobs, float[] embedding) {

    public RequestOutput(String requestId, int index, int[] newTokenIds, FinishReason finishReason, Integer stopTokenId,
                         int promptTokens, int generationTokens, Timings timings, String error,
                         TokenLogprobs[] logprobs, TokenLogprobs[] promptLogprobs) {
        this(requestId, index, newTokenIds, finishReason, stopTokenId, promptTokens, generationTokens, timings, error,
                logprobs, promptLogprobs, null);
    }

    public boolean finished() { return finishReason != null; }

    /**
     * @param arrivalNanos    when the engine accepted the request
     * @param firstTokenNanos when the first token was generated, 0 before that
     * @param finishNanos     when this sequence finished, 0 before that
     */
    public record Timings(long arrivalNanos, long firstTokenNanos, long finishNanos) {}
}
