package io.chorus.engine.runner;

import io.chorus.engine.api.SamplingParams;

/**
 * Samples the next token from one row of processed logits (see {@link LogitsProcessor}): temperature
 * 0 is greedy (lowest id wins ties); otherwise softmax(logits / T) restricted by min_p, top_k and
 * top_p ({@link TopKTopPFilter}), drawn with the sequence's own generator (exactly one
 * {@code nextDouble()} per token, so a seeded sequence's draws do not depend on the batch).
 *
 * <p>Implementation notes: the weight buffer and the filter's scratch are owned here and reused for
 * every row (grown only for a larger vocabulary), so sampling allocates nothing per token. One
 * instance per runner; engine loop thread only.
 */
public final class TemperatureSampler implements Sampler {
    private final TopKTopPFilter filter = new TopKTopPFilter();
    private float[] weights = new float[0];

    @Override
    public int sample(float[] logits, int offset, int vocab, SamplingState state) {
        SamplingParams p = state.params();
        int argmax = GreedySampler.argmax(logits, offset, vocab);
        if (p.temperature() == 0) return argmax;
        float max = logits[offset + argmax];
        if (!(max > Float.NEGATIVE_INFINITY) || max == Float.POSITIVE_INFINITY) return argmax; // nothing to draw from, or one certain token
        if (weights.length < vocab) weights = new float[vocab];
        double total = filter.weights(logits, offset, vocab, max, p.temperature(), p.topK(), p.topP(), p.minP(), weights);
        double target = state.random().nextDouble() * total;
        double acc = 0;
        int last = argmax;
        for (int v = 0; v < vocab; v++) {
            float w = weights[v];
            if (w == 0) continue;
            acc += w;
            last = v;
            if (acc > target) return v;
        }
        return last; // rounding: the last token with any weight
    }
}
