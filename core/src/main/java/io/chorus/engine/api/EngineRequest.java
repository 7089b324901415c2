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
 */
public record EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, int priority, Instant deadline) {
    public EngineRequest {
        if (requestId == null || requestId.isEmpty()) throw new InvalidRequestException("request id is required");
        if (promptTokenIds == null || promptTokenIds.length == 0) {
            throw new InvalidRequestException("the prompt must contain at least one token");
        }
        if (sampling == null) throw new InvalidRequestException("sampling parameters are required");
        promptTokenIds = promptTokenIds.clone();
    }

    public EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling) {
        this(requestId, promptTokenIds, sampling, 0, null);
    }
}
