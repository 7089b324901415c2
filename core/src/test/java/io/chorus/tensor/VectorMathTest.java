package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The fixed-bits exp, tanh and lane sum: every lane equals the scalar twin, and both are accurate. */
class VectorMathTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static final float[] EDGES = {0f, -0f, 1f, -1f, 1e-30f, -1e-30f, 0.5f, 0.624f, 0.625f, 0.626f, -0.625f,
            -86.99f, -87f, -87.01f, 87.99f, 88f, 88.01f, -200f, 200f, 1e30f, -1e30f, Float.NaN,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE, 20f, -20f};

    private static float[] inputs() {
        SplittableRandom rnd = new SplittableRandom(7);
        int n = 4096;
        float[] x = new float[n + EDGES.length];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble() * 190 - 95);
        System.arraycopy(EDGES, 0, x, n, EDGES.length);
        return x;
    }

    private static int ulps(float a, double exact) {
        float e = (float) exact;
        if (a == e) return 0;
        return Math.abs(Float.floatToIntBits(a) - Float.floatToIntBits(e));
    }

    @Test
    void everyExpLaneIsTheScalarTwinsBits() {
        float[] x = inputs();
        float[] lanes = new float[F.length()];
        for (int i = 0; i + F.length() <= x.length; i += F.length()) {
            VectorMath.exp(FloatVector.fromArray(F, x, i)).intoArray(lanes, 0);
            for (int j = 0; j < F.length(); j++) {
                assertThat(Float.floatToIntBits(lanes[j])).as("exp(%s)", x[i + j])
                        .isEqualTo(Float.floatToIntBits(VectorMath.exp(x[i + j])));
            }
        }
    }

    @Test
    void expIsWithinTwoUlpsAndSaturatesOutsideItsRange() {
        for (float x = -87f; x <= 88f; x += 0.0137f) {
            assertThat(ulps(VectorMath.exp(x), Math.exp(x))).as("exp(%s)", x).isLessThanOrEqualTo(2);
        }
        assertThat(VectorMath.exp(0f)).isEqualTo(1f);
        assertThat(VectorMath.exp(-87.5f)).isEqualTo(0f);
        assertThat(VectorMath.exp(Float.NEGATIVE_INFINITY)).isEqualTo(0f);
        assertThat(VectorMath.exp(88.5f)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(VectorMath.exp(Float.NaN)).isNaN();
    }

    @Test
    void everyTanhLaneIsTheScalarTwinsBits() {
        float[] x = inputs();
        for (int i = 0; i < x.length; i++) x[i] /= 10; // mostly inside (-10, 10), both branches
        float[] lanes = new float[F.length()];
        for (int i = 0; i + F.length() <= x.length; i += F.length()) {
            VectorMath.tanh(FloatVector.fromArray(F, x, i)).intoArray(lanes, 0);
            for (int j = 0; j < F.length(); j++) {
                assertThat(Float.floatToIntBits(lanes[j])).as("tanh(%s)", x[i + j])
                        .isEqualTo(Float.floatToIntBits(VectorMath.tanh(x[i + j])));
            }
        }
    }

    @Test
    void tanhIsAccurateOnBothSidesOfItsBranch() {
        for (float x = -12f; x <= 12f; x += 0.00731f) {
            float t = VectorMath.tanh(x);
            double exact = Math.tanh(x);
            // relative to the value near 0 (the polynomial), absolute beyond (1 - 2 / (e^2x + 1))
            if (Math.abs(x) < 0.625f) assertThat(ulps(t, exact)).as("tanh(%s)", x).isLessThanOrEqualTo(3);
            else assertThat(Math.abs(t - exact)).as("tanh(%s)", x).isLessThanOrEqualTo(1.2e-7);
        }
        assertThat(VectorMath.tanh(0f)).isEqualTo(0f);
        assertThat(VectorMath.tanh(100f)).isEqualTo(1f);
        assertThat(VectorMath.tanh(-100f)).isEqualTo(-1f);
        assertThat(VectorMath.tanh(Float.NaN)).isNaN();
    }

    @Test
    void sumAddsTheLanesInLaneOrder() {
        float[] v = new float[F.length()];
        // 1e8 + 1 + (-1e8) + 1 + ... in lane order keeps none of the 1s that a pairwise order would
        for (int j = 0; j < v.length; j++) v[j] = j % 2 == 1 ? 1f : (j % 4 == 0 ? 1e8f : -1e8f);
        float expected = v[0];
        for (int j = 1; j < v.length; j++) expected += v[j];
        assertThat(VectorMath.sum(FloatVector.fromArray(F, v, 0))).isEqualTo(expected);
        float[] w = new float[F.length()];
        for (int j = 0; j < w.length; j++) w[j] = j + 0.25f;
        assertThat(VectorMath.sum(FloatVector.fromArray(F, w, 0))).isEqualTo(w.length * (w.length - 1) / 2f + w.length * 0.25f);
    }
}
