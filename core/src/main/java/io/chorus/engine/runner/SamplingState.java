package io.chorus.engine.runner;

import io.chorus.engine.api.SamplingParams;
import io.chorus.structured.CompiledGrammar;
import io.chorus.structured.GrammarMatcher;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * One sequence's sampling state: its parameters, its own random generator (so its tokens do not
 * depend on what else is in the batch), the token counts its penalties need, and its parameters'
 * token lists in the form the logits processor reads fast, and, for a constrained request, where its
 * output stands in the grammar ({@link GrammarMatcher}, advanced by the runner with every token).
 *
 * <p>Implementation notes: the bias and allowed-token arrays are built once here and never change;
 * {@link #counts()} exists only when a penalty is active and is brought up to date by the runner
 * before each sample. Touched only by the engine loop thread.
 */
public final class SamplingState {
    private final SamplingParams params;
    private final RandomGenerator random;
    private final int[] biasIds;       // logit_bias tokens, ascending
    private final float[] biasValues;  // their biases
    private final int[] allowedIds;    // allowed_token_ids, ascending and distinct; empty = all allowed
    private final TokenCounts counts;  // null when no penalty is active
    private final GrammarMatcher matcher; // null when the output is unconstrained
    private int[] endIds;              // EOS and stop tokens, as the grammar mask needs them; built on first use

    public SamplingState(SamplingParams params, RandomGenerator random) {
        this(params, random, null);
    }

    public SamplingState(SamplingParams params, RandomGenerator random, GrammarMatcher matcher) {
        this.params = params;
        this.matcher = matcher;
        this.random = random;
        Map<Integer, Float> bias = params.logitBias();
        biasIds = bias.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        biasValues = new float[biasIds.length];
        for (int i = 0; i < biasIds.length; i++) biasValues[i] = bias.get(biasIds[i]);
        allowedIds = params.allowedTokenIds().stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
        counts = hasPenalties(params) ? new TokenCounts() : null;
    }

    /** The state of completion {@code index} of a request seeded with {@code seed}: seed + index. */
    public static SamplingState seeded(SamplingParams params, long seed, int index) {
        return new SamplingState(params, new SplittableRandom(seed + index));
    }

    /** As {@link #seeded(SamplingParams, long, int)}, at the start of {@code grammar} when it is not null. */
    public static SamplingState seeded(SamplingParams params, long seed, int index, CompiledGrammar grammar) {
        return new SamplingState(params, new SplittableRandom(seed + index), grammar == null ? null : grammar.newMatcher());
    }

    static boolean hasPenalties(SamplingParams p) {
        return p.presencePenalty() != 0 || p.frequencyPenalty() != 0 || p.repetitionPenalty() != 1;
    }

    public SamplingParams params() { return params; }

    public RandomGenerator random() { return random; }

    int[] biasIds() { return biasIds; }

    float[] biasValues() { return biasValues; }

    int[] allowedIds() { return allowedIds; }

    /** Where the output stands in its grammar, or null when it is unconstrained. */
    public GrammarMatcher matcher() { return matcher; }

    /** The model's EOS ids followed by the request's stop token ids (built once). */
    int[] endIds(int[] eos) {
        if (endIds == null) {
            int[] stops = params.stopTokenIds().stream().mapToInt(Integer::intValue).toArray();
            endIds = java.util.Arrays.copyOf(eos, eos.length + stops.length);
            System.arraycopy(stops, 0, endIds, eos.length, stops.length);
        }
        return endIds;
    }

    /** Token counts for the penalties, or null when the request has none. */
    public TokenCounts counts() { return counts; }

    /** Counts the sequence's tokens not yet counted (prompt tokens only if repetition_penalty needs them). */
    public void observe(int[] tokens, int promptLen, int numTokens) {
        if (counts != null) counts.update(tokens, promptLen, numTokens, params.repetitionPenalty() != 1);
    }
}
