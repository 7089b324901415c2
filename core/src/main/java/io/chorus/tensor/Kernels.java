package io.chorus.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise and row kernels of the forward pass (everything but matmul and attention), written
 * with the Vector API. Each works on one row of a row-major buffer given by an offset, so callers
 * loop over the tokens of a batch without copying. None allocates.
 */
public final class Kernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Kernels() {}

    /** out[o..o+n) = w * x / sqrt(mean(x^2) + eps), x read from x[xo..xo+n). out may alias x. */
    public static void rmsnorm(float[] out, int o, float[] x, int xo, float[] w, int n, float eps) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            acc = v.fma(v, acc);
        }
        float ss = VectorMath.sum(acc);
        for (; i < n; i++) ss += x[xo + i] * x[xo + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.mul(scale).mul(FloatVector.fromArray(F, w, i)).intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = w[i] * (x[xo + i] * scale);
    }

    /** x[xo..xo+n) += y[yo..yo+n). */
    public static void add(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).add(FloatVector.fromArray(F, y, yo + i)).intoArray(x, xo + i);
        }
        for (; i < n; i++) x[xo + i] += y[yo + i];
    }

    /** out[o+i] = silu(g[go+i]) * u[uo+i] for i < n, silu(v) = v / (1 + e^-v). out may alias g or u. */
    public static void swiglu(float[] out, int o, float[] g, int go, float[] u, int uo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector gv = FloatVector.fromArray(F, g, go + i);
            FloatVector s = gv.div(VectorMath.exp(gv.neg()).add(1f));
            s.mul(FloatVector.fromArray(F, u, uo + i)).intoArray(out, o + i);
        }
        for (; i < n; i++) {
            float gv = g[go + i];
            out[o + i] = gv / (VectorMath.exp(-gv) + 1f) * u[uo + i];
        }
    }

    /** In-place numerically stable softmax of x[xo..xo+n). */
    public static void softmax(float[] x, int xo, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[xo + i]);
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector sumV = FloatVector.zero(F);
        for (; i < bound; i += F.length()) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, xo + i).sub(max));
            e.intoArray(x, xo + i);
            sumV = sumV.add(e);
        }
        float sum = VectorMath.sum(sumV);
        for (; i < n; i++) {
            float e = VectorMath.exp(x[xo + i] - max);
            x[xo + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += F.length()) FloatVector.fromArray(F, x, xo + i).mul(inv).intoArray(x, xo + i);
        for (; i < n; i++) x[xo + i] *= inv;
    }

    /**
     * Rotary position embedding of the heads of one token, in place. {@code x[xo + h*headDim ..]} is
     * head h; only the first {@code 2 * cos.length/...} dims ({@code rotDim}) rotate. {@code cos/sin}
     * hold the token's angles for pair i at {@code co + i}, i < rotDim/2.
     *
     * @param neox true for the NEOX layout (pairs i and i + rotDim/2: Qwen, Phi-3), false for the
     *             interleaved layout (pairs 2i and 2i+1: Llama GGUF files, whose converter permutes q/k)
     */
    public static void rope(float[] x, int xo, int heads, int headDim, int rotDim, float[] cos, float[] sin, int co, boolean neox) {
        int half = rotDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = xo + h * headDim;
            if (neox) {
                for (int i = 0; i < half; i++) {
                    float c = cos[co + i], s = sin[co + i];
                    float a = x[base + i], b = x[base + i + half];
                    x[base + i] = a * c - b * s;
                    x[base + i + half] = a * s + b * c;
                }
            } else {
                for (int i = 0; i < half; i++) {
                    float c = cos[co + i], s = sin[co + i];
                    float a = x[base + 2 * i], b = x[base + 2 * i + 1];
                    x[base + 2 * i] = a * c - b * s;
                    x[base + 2 * i + 1] = a * s + b * c;
                }
            }
        }
    }

    /** Dot product of a[ao..ao+n) and b[bo..bo+n). */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = VectorMath.sum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }
}
