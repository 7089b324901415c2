package io.chorus.engine.runner;

import io.chorus.engine.api.SamplingParams;

/**
 * Samples the next token from one row of processed logits (see {@link LogitsProcessor}): temperature
 * 0 (or below 1e-5, as vLLM) is greedy (lowest id wins ties); otherwise softmax(logits / T) restricted by min_p, top_k and
 * top_p ({@link TopKTopPFilter}), drawn with the sequence's own generator (exactly one
 * {@code nextDouble()} per token, so a seeded sequence's draws do not depend on the batch).
 *
 * <p>The draw finds its token in two levels: the chunk of {@value #CHUNK} tokens holding the target
 * mass by the chunks' sums, then the token inside it, instead of a scalar walk over the vocabulary.
 *
 * <p>Implementation notes: the weight and chunk-sum buffers and the filter's scratch are owned here
 * and reused for every row (grown only for a larger vocabulary), so sampling allocates nothing per
 * token. One instance per runner; engine loop thread only.
 */
public final class TemperatureSampler implements Sampler {
    private static final int CHUNK = 1024;
    /** As vLLM: a temperature this small is greedy (1/T would overflow the float weights). */
    static final double GREEDY_BELOW = 1e-5;

    private final TopKTopPFilter filter = new TopKTopPFilter();
    private float[] weights = new float[0];
    private double[] chunkSums = new double[0];

    @Override
    public int sample(float[] logits, int offset, int vocab, SamplingState state) {
        SamplingParams p = state.params();
        int argmax = GreedySampler.argmax(logits, offset, vocab);
        if (p.temperature() < GREEDY_BELOW) return argmax;
        float max = logits[offset + argmax];
        if (!(max > Float.NEGATIVE_INFINITY) || max == Float.POSITIVE_INFINITY) return argmax; // nothing to draw from, or one certain token
        if (weights.length < vocab) {
            weights = new float[vocab];
            chunkSums = new double[(vocab + CHUNK - 1) / CHUNK];
        }
        filter.weights(logits, offset, vocab, max, p.temperature(), p.topK(), p.topP(), p.minP(), weights);
        int chunks = (vocab + CHUNK - 1) / CHUNK;
        double total = 0;
        for (int c = 0; c < chunks; c++) total += chunkSums[c] = RowKernels.sum(weights, c * CHUNK, Math.min(vocab, (c + 1) * CHUNK));
        double target = state.random().nextDouble() * total;

        double acc = 0;
        int c = 0;
        while (c < chunks - 1 && acc + chunkSums[c] <= target) acc += chunkSums[c++];
        int last = argmax;
        for (int v = c * CHUNK; v < vocab; v++) { // normally ends inside chunk c; rounding may carry it on
            float w = weights[v];
            if (w == 0) continue;
            acc += w;
            last = v;
            if (acc > target) return v;
        }
        return last; // rounding: the last token with any weight
    }
}
