package io.chorus.model;

/**
 * The rope angles of a loaded model, fixed for the context one sequence may reach: each rotated
 * pair's frequency theta^(-2i / rotDim), divided by the checkpoint's factors for that pair, and the
 * factor that multiplies cos and sin. The backend's rope then rotates q and k with them.
 *
 * <p>The factors are, as llama.cpp picks them: the Llama 3 {@code rope_freqs} when the checkpoint has
 * them, else Phi-3's long or short longrope factors ({@link LongRope#factors}), else none. Longrope's
 * attention factor scales cos and sin, so q and k alike, whichever set is used. Linear or yarn
 * {@link RopeScaling} then multiplies each pair's frequency (after the factors, as ggml's rope does)
 * and cos and sin by its mscale.
 */
final class RotaryEmbedding {
    private final float[] invFreq;   // [rotDim / 2] frequency of each rotated pair, as float32 like llama.cpp and transformers
    private final float scale;       // multiplies cos and sin: longrope's attention factor times the rope scaling's mscale, else 1
    private final String description;

    /**
     * @param ropeFreqs          rope_freqs.weight [rotDim / 2], or null
     * @param contextPerSequence the most tokens one sequence may hold (max-model-len): it picks longrope's factors
     */
    RotaryEmbedding(ModelConfig c, float[] ropeFreqs, int contextPerSequence) {
        LongRope lr = c.longRope();
        float[] factors = ropeFreqs != null ? ropeFreqs : lr != null ? lr.factors(contextPerSequence) : null;
        RopeScaling rs = c.ropeScaling();
        int half = c.rotDim() / 2;
        invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(c.ropeTheta(), -2.0 * i / c.rotDim());
            // llama.cpp divides pair i's frequency by the factor (theta / freq_factors[i] in ggml's rope)
            if (factors != null) freq /= factors[i];
            if (rs != null) freq *= rs.frequencyMultiplier(i, c.rotDim(), c.ropeTheta());
            invFreq[i] = (float) freq;
        }
        scale = (lr != null ? lr.attnFactor() : 1f) * (rs != null ? rs.mscale() : 1f);
        String longRope = lr == null ? null
                : ropeFreqs != null ? String.format(java.util.Locale.ROOT, "rope_freqs factors (they take precedence over longrope), attention factor %.2f", lr.attnFactor())
                : lr.describe(contextPerSequence);
        description = rs == null ? longRope : longRope == null ? rs.describe() : longRope + "; " + rs.describe();
    }

    /** cos[off + i], sin[off + i] of pair i at position {@code pos}, for every rotated pair. */
    void angles(int pos, float[] cos, float[] sin, int off) {
        for (int i = 0; i < invFreq.length; i++) {
            double angle = (double) pos * invFreq[i];
            cos[off + i] = (float) (Math.cos(angle) * scale);
            sin[off + i] = (float) (Math.sin(angle) * scale);
        }
    }

    /** The long-context scaling in use ("long factors (context 131072 > original 4096), attention factor 1.19"), or null without one. */
    String describe() {
        return description;
    }
}
