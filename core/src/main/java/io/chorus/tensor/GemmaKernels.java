package io.chorus.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise kernels Gemma 2 adds to the forward pass: GeGLU with the tanh approximation of
 * gelu, and tanh soft-capping of attention scores and logits. Like {@link Kernels} they work on one
 * span of a row-major buffer and allocate nothing.
 */
public final class GemmaKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** 2 sqrt(2/pi): gelu's tanh argument doubled, for the sigmoid form below. */
    private static final float TWO_SQRT_2_OVER_PI = (float) (2 * Math.sqrt(2 / Math.PI));
    private static final float GELU_CUBIC = 0.044715f;

    private GemmaKernels() {}

    /**
     * out[o+i] = gelu(g[go+i]) * u[uo+i] for i < n, gelu(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
     * Computed as x * sigmoid(2 sqrt(2/pi) x (1 + 0.044715 x^2)), the same function, which needs only
     * exp and has no cancellation near 0. out may alias g or u.
     */
    public static void geglu(float[] out, int o, float[] g, int go, float[] u, int uo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, g, go + i);
            FloatVector z = x.mul(x).fma(GELU_CUBIC, 1f).mul(x).mul(-TWO_SQRT_2_OVER_PI);
            x.div(VectorMath.exp(z).add(1f)).mul(FloatVector.fromArray(F, u, uo + i)).intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = gelu(g[go + i]) * u[uo + i];
    }

    /** The scalar gelu of {@link #geglu}, for its tail. */
    static float gelu(float x) {
        float z = Math.fma(x * x, GELU_CUBIC, 1f) * x * -TWO_SQRT_2_OVER_PI;
        return x / (VectorMath.exp(z) + 1f);
    }

    /** x[xo+i] = cap * tanh(x[xo+i] / cap) for i < n: squeezes values smoothly into (-cap, cap). */
    public static void softcap(float[] x, int xo, int n, float cap) {
        float inv = 1f / cap;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            VectorMath.tanh(FloatVector.fromArray(F, x, xo + i).mul(inv)).mul(cap).intoArray(x, xo + i);
        }
        for (; i < n; i++) x[xo + i] = VectorMath.tanh(x[xo + i] * inv) * cap;
    }
}
