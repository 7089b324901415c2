package io.chorus.engine.api;

import java.util.List;

/**
 * How one request samples and when it stops. The engine's own knobs; a fuller sampler (top-k, top-p,
 * min-p, penalties, logprobs) extends this record later.
 *
 * @param temperature  0 for greedy (lowest token id wins ties), otherwise softmax temperature
 * @param seed         seed of the request's random generator; null for a random seed
 * @param maxTokens    most tokens to generate (at least 1)
 * @param minTokens    EOS and stop tokens cannot be sampled before this many tokens
 * @param ignoreEos    keep generating after the model's EOS tokens
 * @param stopTokenIds tokens that end generation (reported as the matched stop token)
 * @param n            completions to generate from the one prompt (they share its KV blocks)
 */
public record SamplingParams(
        double temperature, Long seed, int maxTokens, int minTokens, boolean ignoreEos,
        List<Integer> stopTokenIds, int n) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new InvalidRequestException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (maxTokens < 1) throw new InvalidRequestException("max_tokens must be >= 1, got " + maxTokens);
        if (minTokens < 0 || minTokens > maxTokens) {
            throw new InvalidRequestException("min_tokens must be in [0, max_tokens], got " + minTokens);
        }
        if (n < 1) throw new InvalidRequestException("n must be >= 1, got " + n);
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, null, maxTokens, 0, false, List.of(), 1);
    }

    public static SamplingParams random(double temperature, Long seed, int maxTokens) {
        return new SamplingParams(temperature, seed, maxTokens, 0, false, List.of(), 1);
    }

    public SamplingParams withN(int n) {
        return new SamplingParams(temperature, seed, maxTokens, minTokens, ignoreEos, stopTokenIds, n);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(temperature, seed, maxTokens, minTokens, ignore, stopTokenIds, n);
    }

    public SamplingParams withMinTokens(int min) {
        return new SamplingParams(temperature, seed, maxTokens, min, ignoreEos, stopTokenIds, n);
    }

    public SamplingParams withStopTokenIds(List<Integer> ids) {
        return new SamplingParams(temperature, seed, maxTokens, minTokens, ignoreEos, ids, n);
    }
}
