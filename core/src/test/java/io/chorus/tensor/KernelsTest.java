package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every row kernel of {@link Kernels} against a plain scalar reference (double math), on odd sizes. */
class KernelsTest {

    // ---- scalar references ----

    static void refRmsnorm(double[] out, float[] x, int xo, float[] w, int n, double eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[xo + i] * x[xo + i];
        double s = 1 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) out[i] = w[i] * x[xo + i] * s;
    }

    static double[] refSoftmax(float[] x, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) sum += out[i] = Math.exp(x[i] - max);
        for (int i = 0; i < n; i++) out[i] /= sum;
        return out;
    }

    /** Rotates one head with angles pos * freq[i]; NEOX pairs (i, i + rot/2), else (2i, 2i+1). */
    static void refRope(double[] head, int rotDim, int pos, double[] freq, boolean neox) {
        for (int i = 0; i < rotDim / 2; i++) {
            double a = pos * freq[i], c = Math.cos(a), s = Math.sin(a);
            int p = neox ? i : 2 * i, q = neox ? i + rotDim / 2 : 2 * i + 1;
            double x0 = head[p], x1 = head[q];
            head[p] = x0 * c - x1 * s;
            head[q] = x0 * s + x1 * c;
        }
    }

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 64, 100, 896, 1001})
    void rmsnormMatchesReference(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] x = random(r, n + 5, 3), w = random(r, n, 1);
        float[] out = new float[n + 3];
        Kernels.rmsnorm(out, 3, x, 5, w, n, 1e-5f);
        double[] ref = new double[n];
        refRmsnorm(ref, x, 5, w, n, 1e-5);
        for (int i = 0; i < n; i++) assertThat((double) out[3 + i]).isCloseTo(ref[i], within(1e-5 + 1e-5 * Math.abs(ref[i])));
        assertThat(out[0]).isZero();
        // In place (out aliases x), as the model uses it for per-head norms.
        Kernels.rmsnorm(x, 5, x, 5, w, n, 1e-5f);
        for (int i = 0; i < n; i++) assertThat((double) x[5 + i]).isCloseTo(ref[i], within(1e-5 + 1e-5 * Math.abs(ref[i])));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 15, 17, 128, 513})
    void softmaxMatchesReference(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] x = random(r, n, 20);
        double[] ref = refSoftmax(x, n);
        float[] y = new float[n + 2];
        System.arraycopy(x, 0, y, 2, n);
        Kernels.softmax(y, 2, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            assertThat((double) y[2 + i]).isCloseTo(ref[i], within(1e-6 + 1e-5 * ref[i]));
            sum += y[2 + i];
        }
        assertThat(sum).isCloseTo(1.0, within(1e-5));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 16, 31, 4864})
    void swigluAndAddMatchReference(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] g = random(r, n, 6), u = random(r, n, 2);
        float[] out = new float[n];
        Kernels.swiglu(out, 0, g, 0, u, 0, n);
        for (int i = 0; i < n; i++) {
            double ref = g[i] / (1 + Math.exp(-g[i])) * u[i];
            assertThat((double) out[i]).isCloseTo(ref, within(1e-5 + 1e-5 * Math.abs(ref)));
        }
        float[] x = g.clone();
        Kernels.add(x, 0, u, 0, n);
        for (int i = 0; i < n; i++) assertThat(x[i]).isEqualTo(g[i] + u[i]);
        assertThat((double) Kernels.dot(g, 0, u, 0, n)).isCloseTo(refDot(g, u, n), within(1e-4 * n));
    }

    private static double refDot(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[i] * b[i];
        return s;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void ropeMatchesReferenceInBothLayouts(boolean neox) {
        SplittableRandom r = new SplittableRandom(neox ? 1 : 2);
        int heads = 3, headDim = 12, rotDim = 8, pos = 37; // partial rotation: the last 4 dims stay
        double[] freq = new double[rotDim / 2];
        float[] cos = new float[rotDim / 2], sin = new float[rotDim / 2];
        for (int i = 0; i < rotDim / 2; i++) {
            freq[i] = Math.pow(10000, -2.0 * i / rotDim) / (i == 2 ? 4.0 : 1.0); // one rope_freqs factor
            cos[i] = (float) Math.cos(pos * freq[i]);
            sin[i] = (float) Math.sin(pos * freq[i]);
        }
        float[] x = random(r, 2 + heads * headDim, 1);
        float[] orig = x.clone();
        Kernels.rope(x, 2, heads, headDim, rotDim, cos, sin, 0, neox);
        for (int h = 0; h < heads; h++) {
            double[] head = new double[headDim];
            for (int i = 0; i < headDim; i++) head[i] = orig[2 + h * headDim + i];
            refRope(head, rotDim, pos, freq, neox);
            for (int i = 0; i < headDim; i++) assertThat((double) x[2 + h * headDim + i]).isCloseTo(head[i], within(1e-5));
        }
        assertThat(x[0]).isEqualTo(orig[0]);
    }
}
