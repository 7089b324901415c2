package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GeGLU and soft-capping against double-precision references written from their definitions
 * (gelu with tanh, not the sigmoid form the kernel uses), in ulps of the float result, on sizes that
 * exercise both the vector body and the scalar tail; plus the values that must come out exactly.
 */
class GemmaKernelsTest {

    /** gelu, tanh approximation, as Gemma and llama.cpp define it: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    static double refGelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    static double refSoftcap(double x, double cap) {
        return cap * Math.tanh(x / cap);
    }

    private static double ulps(float got, double ref) {
        return Math.abs(got - ref) / Math.ulp((float) ref);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100, 768, 1001})
    void gegluMatchesTheTanhDefinition(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] g = KernelsTest.random(r, n + 2, 4), u = KernelsTest.random(r, n + 1, 2);
        float[] out = new float[n + 3];
        GemmaKernels.geglu(out, 3, g, 2, u, 1, n);
        for (int i = 0; i < n; i++) {
            double x = g[2 + i];
            double ref = refGelu(x) * u[1 + i];
            // For x < 0, gelu(x) = x sigmoid(z) with z = -2 sqrt(2/pi) x (1 + 0.044715 x^2) > 0, and the
            // roundings of z (three products) move exp(z) by up to 1.5 |z| ulps: that is the formula's own
            // condition, so the bound is a few ulps plus that.
            double z = 2 * Math.sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x);
            double bound = 4 + 1.5 * Math.abs(z);
            if (Math.abs(ref) > 1e-6) assertThat(ulps(out[3 + i], ref)).as("element %d (x = %s) in ulps", i, x).isLessThanOrEqualTo(bound);
            else assertThat(Math.abs(out[3 + i] - ref)).as("element %d", i).isLessThan(1e-9);
        }
        assertThat(out[0]).isZero();
        assertThat(out[2]).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 20})
    void gegluEdgeValuesAreExact(int n) {
        float[] g = new float[n], u = new float[n];
        java.util.Arrays.fill(u, 1f);
        for (int i = 0; i < n; i++) g[i] = switch (i % 3) { case 0 -> 0f; case 1 -> 30f; default -> -30f; };
        GemmaKernels.geglu(g, 0, g, 0, u, 0, n); // in place
        for (int i = 0; i < n; i++) {
            float want = switch (i % 3) { case 0 -> 0f; case 1 -> 30f; default -> -0f; };
            assertThat(g[i]).as("element %d", i).isEqualTo(want);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100, 512, 1001})
    void softcapMatchesTanh(int n) {
        SplittableRandom r = new SplittableRandom(n);
        for (float cap : new float[] {10f, 30f, 50f}) {
            float[] x = KernelsTest.random(r, n + 4, 3 * cap);
            float[] before = x.clone();
            GemmaKernels.softcap(x, 4, n, cap);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double ref = refSoftcap(before[4 + i], cap);
                if (Math.abs(ref) > 1e-3) worst = Math.max(worst, ulps(x[4 + i], ref));
                else assertThat(Math.abs(x[4 + i] - ref)).isLessThan(1e-9);
                assertThat(Math.abs(x[4 + i])).isLessThanOrEqualTo(cap);
            }
            assertThat(worst).as("cap %s: max error in ulps", cap).isLessThanOrEqualTo(4);
            for (int i = 0; i < 4; i++) assertThat(x[i]).isEqualTo(before[i]);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 20})
    void softcapEdgeValuesAreExact(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = switch (i % 3) { case 0 -> 0f; case 1 -> 1e4f; default -> -1e4f; };
        GemmaKernels.softcap(x, 0, n, 30f);
        for (int i = 0; i < n; i++) {
            float want = switch (i % 3) { case 0 -> 0f; case 1 -> 30f; default -> -30f; };
            assertThat(x[i]).as("element %d", i).isEqualTo(want);
        }
    }
}
