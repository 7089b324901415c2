package io.chorus.engine.api;

import java.time.Instant;

/**
 * One generation request as the engine sees it: already tokenized.
 *
 * @param requestId      unique among live requests
 * @param promptTokenIds the prompt (not copied by the caller later; the engine copies it)
 * @param sampling       sampling and stopping
 * @param priority       for the priority policy: lower runs first, then earlier arrival
 * @param deadline       the engine aborts the request once past it; null for none
 * @param pooling        non-null for an embedding request: the prompt is only prefilled, and its
 *                       final hidden states pooled this way come back as one normalised vector
 *                       ({@link RequestOutput#embedding()}); nothing is sampled
 */
public record EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, int priority, Instant deadline,
                            Pooling pooling) {
    public EngineRequest {
        if (requestId == null || requestId.isEmpty()) throw new InvalidRequestException("request id is required");
        if (promptTokenIds == null || promptTokenIds.length == 0) {
            throw new InvalidRequestException("the prompt must contain at least one token");
        }
        if (sampling == null) throw new InvalidRequestException("sampling parameters are required");
        promptTokenIds = promptTokenIds.clone();
    }

    public EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, int priority, Instant deadline) {
        this(requestId, promptTokenIds, sampling, priority, deadline, null);
    }

    public EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling) {
        this(requestId, promptTokenIds, sampling, 0, null, null);
    }

    /** An embedding request: prefill only, pooled as asked. */
    public static EngineRequest embedding(String requestId, int[] promptTokenIds, Pooling pooling, Instant deadline) {
        if (pooling == null) throw new InvalidRequestException("an embedding request needs a pooling");
        return new EngineRequest(requestId, promptTokenIds, SamplingParams.greedy(1), 0, deadline, pooling);
    }
}
