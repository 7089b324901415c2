package io.chorus.engine.api;

import io.chorus.structured.GrammarSpec;
import java.util.List;
import java.util.Map;

/**
 * How one request samples and when it stops: the OpenAI and vLLM sampling parameters, validated
 * at construction with messages a client can act on ({@link InvalidRequestException}). Defaults
 * are vLLM's. Build with {@link #builder()}.
 *
 * @param temperature       0 for greedy (lowest token id wins ties), otherwise softmax temperature
 * @param topP              nucleus sampling mass in (0, 1]; 1 disables
 * @param topK              keep the k most likely tokens; 0 or -1 disables
 * @param minP              drop tokens below minP x the top token's probability; 0 disables
 * @param presencePenalty   subtracted once from the logit of every token already generated, [-2, 2]
 * @param frequencyPenalty  subtracted per occurrence from generated tokens' logits, [-2, 2]
 * @param repetitionPenalty divides positive / multiplies negative logits of tokens in prompt or output, > 0; 1 disables
 * @param logitBias         token id to bias added to its logit, [-100, 100]
 * @param seed              seed of the request's random generator; null for a random seed
 * @param maxTokens         most tokens to generate (at least 1)
 * @param minTokens         EOS and stop tokens cannot be sampled before this many tokens
 * @param ignoreEos         keep generating after the model's EOS tokens
 * @param stop              stop strings (matched on the detokenized text by the front end)
 * @param stopTokenIds      tokens that end generation (reported as the matched stop token)
 * @param includeStopStrInOutput keep the matched stop string in the returned text
 * @param n                 completions to generate from the one prompt (they share its KV blocks)
 * @param logprobs          number of top alternatives to return per generated token (0 = only the
 *                          chosen token's logprob); null = no logprobs
 * @param promptLogprobs    the same for prompt tokens (completions {@code echo}); null = none
 * @param skipSpecialTokens leave special tokens out of the returned text
 * @param allowedTokenIds   when not empty, only these tokens may be sampled
 * @param grammar           what the output is constrained to (JSON schema, regex, choice, GBNF); null = unconstrained
 */
public record SamplingParams(
        double temperature, double topP, int topK, double minP,
        double presencePenalty, double frequencyPenalty, double repetitionPenalty,
        Map<Integer, Float> logitBias, Long seed, int maxTokens, int minTokens, boolean ignoreEos,
        List<String> stop, List<Integer> stopTokenIds, boolean includeStopStrInOutput, int n,
        Integer logprobs, Integer promptLogprobs, boolean skipSpecialTokens, List<Integer> allowedTokenIds,
        GrammarSpec grammar) {

    /** Most alternatives a client may ask for per token (OpenAI allows 20). */
    public static final int MAX_LOGPROBS = 20;

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new InvalidRequestException("temperature must be a finite number >= 0, got " + temperature, "temperature");
        }
        if (!(topP > 0 && topP <= 1)) throw new InvalidRequestException("top_p must be in (0, 1], got " + topP, "top_p");
        if (topK < -1) throw new InvalidRequestException("top_k must be -1 (disabled) or at least 1, got " + topK, "top_k");
        if (!(minP >= 0 && minP <= 1)) throw new InvalidRequestException("min_p must be in [0, 1], got " + minP, "min_p");
        if (!(presencePenalty >= -2 && presencePenalty <= 2)) {
            throw new InvalidRequestException("presence_penalty must be in [-2, 2], got " + presencePenalty, "presence_penalty");
        }
        if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2)) {
            throw new InvalidRequestException("frequency_penalty must be in [-2, 2], got " + frequencyPenalty, "frequency_penalty");
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new InvalidRequestException("repetition_penalty must be a finite number > 0, got " + repetitionPenalty, "repetition_penalty");
        }
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            if (!(e.getValue() >= -100 && e.getValue() <= 100)) {
                throw new InvalidRequestException("logit_bias values must be in [-100, 100], got " + e.getValue() + " for token " + e.getKey(), "logit_bias");
            }
        }
        if (maxTokens < 1) throw new InvalidRequestException("max_tokens must be at least 1, got " + maxTokens, "max_tokens");
        if (minTokens < 0 || minTokens > maxTokens) {
            throw new InvalidRequestException("min_tokens must be in [0, max_tokens], got " + minTokens, "min_tokens");
        }
        if (n < 1 || n > 128) throw new InvalidRequestException("n must be in [1, 128], got " + n, "n");
        if (logprobs != null && (logprobs < 0 || logprobs > MAX_LOGPROBS)) {
            throw new InvalidRequestException("logprobs must be in [0, " + MAX_LOGPROBS + "], got " + logprobs, "logprobs");
        }
        if (promptLogprobs != null && (promptLogprobs < 0 || promptLogprobs > MAX_LOGPROBS)) {
            throw new InvalidRequestException("prompt logprobs must be in [0, " + MAX_LOGPROBS + "], got " + promptLogprobs, "prompt_logprobs");
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new InvalidRequestException("stop strings must not be empty", "stop");
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
        allowedTokenIds = allowedTokenIds == null ? List.of() : List.copyOf(allowedTokenIds);
    }

    public boolean greedy() {
        return temperature == 0;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.temperature = temperature; b.topP = topP; b.topK = topK; b.minP = minP;
        b.presencePenalty = presencePenalty; b.frequencyPenalty = frequencyPenalty; b.repetitionPenalty = repetitionPenalty;
        b.logitBias = logitBias; b.seed = seed; b.maxTokens = maxTokens; b.minTokens = minTokens; b.ignoreEos = ignoreEos;
        b.stop = stop; b.stopTokenIds = stopTokenIds; b.includeStopStrInOutput = includeStopStrInOutput; b.n = n;
        b.logprobs = logprobs; b.promptLogprobs = promptLogprobs; b.skipSpecialTokens = skipSpecialTokens;
        b.allowedTokenIds = allowedTokenIds; b.grammar = grammar;
        return b;
    }

    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    public static SamplingParams random(double temperature, Long seed, int maxTokens) {
        return builder().temperature(temperature).seed(seed).maxTokens(maxTokens).build();
    }

    public SamplingParams withN(int n) { return toBuilder().n(n).build(); }
    public SamplingParams withIgnoreEos(boolean ignore) { return toBuilder().ignoreEos(ignore).build(); }
    public SamplingParams withMinTokens(int min) { return toBuilder().minTokens(min).build(); }
    public SamplingParams withStopTokenIds(List<Integer> ids) { return toBuilder().stopTokenIds(ids).build(); }

    /** Mutable builder with vLLM's defaults. */
    public static final class Builder {
        private double temperature = 1.0, topP = 1.0, minP = 0, presencePenalty = 0, frequencyPenalty = 0, repetitionPenalty = 1.0;
        private int topK = -1, maxTokens = 16, minTokens = 0, n = 1;
        private Map<Integer, Float> logitBias = Map.of();
        private Long seed;
        private boolean ignoreEos, includeStopStrInOutput, skipSpecialTokens = true;
        private List<String> stop = List.of();
        private List<Integer> stopTokenIds = List.of(), allowedTokenIds = List.of();
        private Integer logprobs, promptLogprobs;
        private GrammarSpec grammar;

        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder topK(int v) { topK = v == 0 ? -1 : v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder stopTokenIds(List<Integer> v) { stopTokenIds = v; return this; }
        public Builder includeStopStrInOutput(boolean v) { includeStopStrInOutput = v; return this; }
        public Builder n(int v) { n = v; return this; }
        public Builder logprobs(Integer v) { logprobs = v; return this; }
        public Builder promptLogprobs(Integer v) { promptLogprobs = v; return this; }
        public Builder skipSpecialTokens(boolean v) { skipSpecialTokens = v; return this; }
        public Builder allowedTokenIds(List<Integer> v) { allowedTokenIds = v; return this; }
        /** Constrains the output (null = unconstrained). */
        public Builder grammar(GrammarSpec v) { grammar = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, presencePenalty, frequencyPenalty, repetitionPenalty,
                    logitBias, seed, maxTokens, minTokens, ignoreEos, stop, stopTokenIds, includeStopStrInOutput, n,
                    logprobs, promptLogprobs, skipSpecialTokens, allowedTokenIds, grammar);
        }
    }
}
