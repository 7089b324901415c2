package io.chorus.engine.runner;

/**
 * Samples from softmax(logits / temperature) with the sequence's own generator; temperature 0 is
 * greedy. One pass for the maximum, one for the sum, one to find the drawn token; no allocation.
 */
public final class TemperatureSampler implements Sampler {
    @Override
    public int sample(float[] logits, int offset, int vocab, SamplingState state) {
        double temperature = state.params().temperature();
        if (temperature == 0) return GreedySampler.argmax(logits, offset, vocab);
        int argmax = GreedySampler.argmax(logits, offset, vocab);
        double max = logits[offset + argmax];
        if (max == Double.NEGATIVE_INFINITY) return argmax;
        double inv = 1.0 / temperature;
        double sum = 0;
        for (int v = 0; v < vocab; v++) sum += weight(logits[offset + v], max, inv);
        double target = state.random().nextDouble() * sum;
        double acc = 0;
        int last = argmax;
        for (int v = 0; v < vocab; v++) {
            double w = weight(logits[offset + v], max, inv);
            if (w == 0) continue;
            acc += w;
            last = v;
            if (acc > target) return v;
        }
        return last; // rounding: the last token with any weight
    }

    private static double weight(float logit, double max, double inv) {
        return logit == logit ? Math.exp((logit - max) * inv) : 0; // NaN has no weight
    }
}
