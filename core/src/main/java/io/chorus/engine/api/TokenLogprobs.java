package io.chorus.engine.api;

/**
 * The log-probability of one token (sampled or from the prompt) under the model's distribution
 * before sampling adjustments, with the most likely alternatives at that position.
 *
 * @param tokenId     the token
 * @param logprob     its log-probability
 * @param rank        1 for the most likely token at that position
 * @param topIds      the most likely tokens, best first (length = requested alternatives)
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprobs(int tokenId, float logprob, int rank, int[] topIds, float[] topLogprobs) {}
