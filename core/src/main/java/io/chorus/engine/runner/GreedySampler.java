package io.chorus.engine.runner;

/** Argmax; the lowest token id wins ties, NaN never wins. */
public final class GreedySampler implements Sampler {
    @Override
    public int sample(float[] logits, int offset, int vocab, SamplingState state) {
        return argmax(logits, offset, vocab);
    }

    public static int argmax(float[] logits, int offset, int vocab) {
        float max = RowKernels.max(logits, offset, vocab); // vectorised: two cheap passes beat one branchy one
        if (max > Float.NEGATIVE_INFINITY) return RowKernels.firstIndexOf(logits, offset, vocab, max);
        return scalarArgmax(logits, offset, vocab); // all -inf or NaN
    }

    private static int scalarArgmax(float[] logits, int offset, int vocab) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        boolean found = false;
        for (int v = 0; v < vocab; v++) {
            float x = logits[offset + v];
            if (!found ? x == x : x > bestValue) {
                best = v;
                bestValue = x;
                found = true;
            }
        }
        return best;
    }
}
