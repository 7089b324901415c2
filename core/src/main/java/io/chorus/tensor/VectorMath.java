package io.chorus.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * exp, tanh and lane sums whose bits are fixed: built only from IEEE operations (add, multiply,
 * fused multiply-add, compare, integer shifts), so they give the same result in the interpreter,
 * C1 and C2, on every CPU and at every vector width, and each vector lane equals the scalar twin
 * of the same input.
 *
 * <p>The Vector API's EXP and TANH are one algorithm when C2 intrinsifies them (x86's SVML) and
 * another before (a loop over {@code Math.exp}), and {@code reduceLanes(ADD)} adds in a different
 * order compiled than interpreted. So the same token got other logits before and after warm-up,
 * and on x86 than on Arm; these functions remove that. exp is within 2 ulp of the true value on
 * [-87, 88] (a degree-6 polynomial after reducing by ln 2), 0 below -87 and infinity above 88.
 */
public final class VectorMath {
    private VectorMath() {}

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f; // ln 2 = HI + LO, HI exact in 9 bits
    private static final float ROUND = 12582912f;                             // 1.5 * 2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float EXP_LO = -87f, EXP_HI = 88f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    // tanh(x) = x + x^3 Q(x^2) for |x| < 0.625, where 1 - 2 / (exp(2|x|) + 1) would cancel
    private static final float TANH_SMALL = 0.625f;
    private static final float Q0 = -5.70498872745e-3f, Q1 = 2.06390887954e-2f, Q2 = -5.37397155531e-2f,
            Q3 = 1.33314422036e-1f, Q4 = -3.33332819422e-1f;

    /** e^x, lane by lane; each lane equals {@link #exp(float)} of it. */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LO).min(EXP_HI);
        FloatVector t = c.fma(LOG2E, ROUND);                        // ROUND + round(c / ln 2)
        FloatVector k = t.sub(ROUND);
        FloatVector r = k.fma(c.broadcast(-LN2_HI), c);
        r = k.fma(c.broadcast(-LN2_LO), r);                         // c - k ln 2, |r| <= ln 2 / 2
        FloatVector p = r.fma(P0, P1).fma(r, c.broadcast(P2)).fma(r, c.broadcast(P3)).fma(r, c.broadcast(P4)).fma(r, c.broadcast(P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) t.reinterpretAsInts()).sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        FloatVector e = y.mul((FloatVector) bits.reinterpretAsFloats());
        e = e.blend(0f, x.compare(VectorOperators.LT, EXP_LO));
        return e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
    }

    /** e^x with the operations of {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        if (x < EXP_LO) return 0f;
        if (x > EXP_HI) return Float.POSITIVE_INFINITY;
        if (x != x) return x;
        float t = Math.fma(x, LOG2E, ROUND);
        float k = t - ROUND;
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23);
    }

    /** tanh(x), lane by lane; each lane equals {@link #tanh(float)} of it. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector z = x.mul(x);
        FloatVector small = z.fma(Q0, Q1).fma(z, x.broadcast(Q2)).fma(z, x.broadcast(Q3)).fma(z, x.broadcast(Q4)).mul(z).fma(x, x);
        FloatVector e = exp(a.add(a));
        FloatVector large = FloatVector.broadcast(x.species(), 2f).div(e.add(1f)).neg().add(1f); // 1 - 2 / (e + 1)
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        VectorMask<Float> isSmall = a.compare(VectorOperators.LT, TANH_SMALL);
        return large.blend(small, isSmall);
    }

    /** tanh(x) with the operations of {@link #tanh(FloatVector)}. */
    public static float tanh(float x) {
        float a = Math.abs(x);
        if (a < TANH_SMALL) {
            float z = x * x;
            return Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(z, Q0, Q1), z, Q2), z, Q3), z, Q4) * z, x, x);
        }
        if (x != x) return x;
        float large = 1f - 2f / (exp(a + a) + 1f);
        return x < 0 ? -large : large;
    }

    /** The sum of v's lanes in lane order (lane 0 first): the same bits compiled or not. */
    public static float sum(FloatVector v) {
        float s = v.lane(0);
        for (int j = 1; j < v.length(); j++) s += v.lane(j);
        return s;
    }
}
