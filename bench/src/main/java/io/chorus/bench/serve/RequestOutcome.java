package io.chorus.bench.serve;

import java.util.Arrays;

/**
 * What happened to one request, as timestamps ({@link System#nanoTime()} values) rather than figures,
 * so every latency is derived in one place and can be tested on synthetic timelines.
 *
 * @param success         the stream ended properly: HTTP 200, a finish_reason and the closing [DONE]
 * @param error           why it failed (null on success)
 * @param startNs         when the request was sent
 * @param tokenChunkNs    arrival time of every streamed chunk that carried generated text
 * @param endNs           when the stream ended ([DONE], or the failure)
 * @param promptTokens    prompt tokens (server's usage, or our estimate)
 * @param outputTokens    generated tokens (server's usage, or the number of text chunks)
 * @param usageReported   whether the token counts came from the server's usage
 */
public record RequestOutcome(boolean success, String error, long startNs, long[] tokenChunkNs, long endNs,
                             int promptTokens, int outputTokens, boolean usageReported) {

    private static final double NS_PER_MS = 1e6;

    public static RequestOutcome success(long startNs, long[] tokenChunkNs, long endNs, int promptTokens, int outputTokens,
                                         boolean usageReported) {
        return new RequestOutcome(true, null, startNs, tokenChunkNs, endNs, promptTokens, outputTokens, usageReported);
    }

    public static RequestOutcome failure(long startNs, long endNs, String error) {
        return new RequestOutcome(false, error, startNs, new long[0], endNs, 0, 0, false);
    }

    /** Time to first token: from sending to the first chunk with text; NaN if none came. */
    public double ttftMs() {
        return tokenChunkNs.length == 0 ? Double.NaN : (tokenChunkNs[0] - startNs) / NS_PER_MS;
    }

    /** End-to-end latency: from sending to the end of the stream. */
    public double e2eMs() {
        return (endNs - startNs) / NS_PER_MS;
    }

    /**
     * Time per output token after the first: (e2e - ttft) / (output_tokens - 1), as vLLM defines it;
     * NaN when fewer than two tokens were generated (there is no decode phase to time).
     */
    public double tpotMs() {
        if (outputTokens < 2 || tokenChunkNs.length == 0) return Double.NaN;
        return (e2eMs() - ttftMs()) / (outputTokens - 1);
    }

    /** Inter-token latencies: the gaps between successive chunks that carried text. */
    public double[] itlsMs() {
        if (tokenChunkNs.length < 2) return new double[0];
        double[] gaps = new double[tokenChunkNs.length - 1];
        for (int i = 1; i < tokenChunkNs.length; i++) gaps[i - 1] = (tokenChunkNs[i] - tokenChunkNs[i - 1]) / NS_PER_MS;
        return gaps;
    }

    /** Output speed one user sees once tokens flow: 1000 / TPOT tokens per second; NaN without a decode phase. */
    public double decodeTokensPerSecond() {
        double tpot = tpotMs();
        return Double.isNaN(tpot) || tpot <= 0 ? Double.NaN : 1000.0 / tpot;
    }

    @Override
    public String toString() {
        return "RequestOutcome[success=" + success + ", error=" + error + ", chunks=" + Arrays.toString(tokenChunkNs)
                + ", e2eMs=" + e2eMs() + ", promptTokens=" + promptTokens + ", outputTokens=" + outputTokens + "]";
    }
}
