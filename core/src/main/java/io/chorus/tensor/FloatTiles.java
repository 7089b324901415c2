package io.chorus.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-tiled float micro-kernels shared by every weight type: weight rows already decoded to
 * floats (in a per-thread scratch array) times activation rows. Accumulators are local variables
 * (never arrays of vectors) so C2 keeps them in registers; a 4 rows x 4 tokens tile uses 16
 * accumulators + 4 weight + 1 activation registers: within AVX-512's 32, and C2 spills little at
 * AVX2's and NEON's 16 (measured).
 *
 * <p>The vector shape is the CPU's preferred one ({@link #F}: 16 floats on AVX-512, 8 on AVX2, 4
 * on NEON or with {@code -XX:MaxVectorSize=16}): a species wider than the hardware is emulated by
 * the Vector API at a ~100x cost.
 *
 * <p>All kernels compute the partial dot products over columns [c0, c1) and either store them
 * ({@code add == false}) or add them to {@code out[t * outStride + r]}; {@code red} is a scratch
 * array of at least 16 L floats for the lane sums. Weight row i of the tile
 * holds column c at {@code w[wOff + i * ws + c]}. Every kernel computes each (row, token) sum with
 * the same operations in the same order (one accumulator per pair, lanes reduced, then the scalar
 * column tail), so a token's result does not depend on which kernel, or which batch, it came in.
 */
final class FloatTiles {
    private FloatTiles() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /**
     * The sum of red[o .. o + L) in lane order: how every kernel reduces an accumulator (stored
     * there first). reduceLanes(ADD) leaves the order open, and C2's 8- and 16-lane reductions
     * add in another order than the interpreter's and C1's code, so a kernel gave other bits once
     * compiled, and k4x4 and k4x1 (compiled at different times) other bits for the same token. A
     * plain scalar method: no vector crosses the call, so nothing is boxed if it is not inlined.
     */
    static float lanes(float[] red, int o) {
        float s = red[o];
        for (int j = 1; j < L; j++) s += red[o + j];
        return s;
    }

    /** 4 weight rows (w + wOff + i*ws) x 4 tokens (x + (t0+j)*cols). */
    static void k4x4(float[] w, int wOff, int ws, int cols, float[] x, int t0, float[] out, int outStride, int r,
                     int c0, int c1, boolean add, float[] red) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int w0 = wOff, w1 = wOff + ws, w2 = wOff + 2 * ws, w3 = wOff + 3 * ws;
        int x0 = t0 * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        int c = c0;
        int ub = c0 + ((c1 - c0) & ~(L - 1));
        for (; c < ub; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + c);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + c);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + c);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = v0.fma(xv, a00); a10 = v1.fma(xv, a10); a20 = v2.fma(xv, a20); a30 = v3.fma(xv, a30);
            xv = FloatVector.fromArray(F, x, x1 + c);
            a01 = v0.fma(xv, a01); a11 = v1.fma(xv, a11); a21 = v2.fma(xv, a21); a31 = v3.fma(xv, a31);
            xv = FloatVector.fromArray(F, x, x2 + c);
            a02 = v0.fma(xv, a02); a12 = v1.fma(xv, a12); a22 = v2.fma(xv, a22); a32 = v3.fma(xv, a32);
            xv = FloatVector.fromArray(F, x, x3 + c);
            a03 = v0.fma(xv, a03); a13 = v1.fma(xv, a13); a23 = v2.fma(xv, a23); a33 = v3.fma(xv, a33);
        }
        a00.intoArray(red, 0 * L); a01.intoArray(red, 1 * L); a02.intoArray(red, 2 * L); a03.intoArray(red, 3 * L);
        a10.intoArray(red, 4 * L); a11.intoArray(red, 5 * L); a12.intoArray(red, 6 * L); a13.intoArray(red, 7 * L);
        a20.intoArray(red, 8 * L); a21.intoArray(red, 9 * L); a22.intoArray(red, 10 * L); a23.intoArray(red, 11 * L);
        a30.intoArray(red, 12 * L); a31.intoArray(red, 13 * L); a32.intoArray(red, 14 * L); a33.intoArray(red, 15 * L);
        float s00 = lanes(red, 0 * L), s01 = lanes(red, 1 * L), s02 = lanes(red, 2 * L), s03 = lanes(red, 3 * L);
        float s10 = lanes(red, 4 * L), s11 = lanes(red, 5 * L), s12 = lanes(red, 6 * L), s13 = lanes(red, 7 * L);
        float s20 = lanes(red, 8 * L), s21 = lanes(red, 9 * L), s22 = lanes(red, 10 * L), s23 = lanes(red, 11 * L);
        float s30 = lanes(red, 12 * L), s31 = lanes(red, 13 * L), s32 = lanes(red, 14 * L), s33 = lanes(red, 15 * L);
        for (; c < c1; c++) { // column tail (plain types whose cols is not a multiple of L)
            float q0 = w[w0 + c], q1 = w[w1 + c], q2 = w[w2 + c], q3 = w[w3 + c];
            float y0 = x[x0 + c], y1 = x[x1 + c], y2 = x[x2 + c], y3 = x[x3 + c];
            s00 += q0 * y0; s01 += q0 * y1; s02 += q0 * y2; s03 += q0 * y3;
            s10 += q1 * y0; s11 += q1 * y1; s12 += q1 * y2; s13 += q1 * y3;
            s20 += q2 * y0; s21 += q2 * y1; s22 += q2 * y2; s23 += q2 * y3;
            s30 += q3 * y0; s31 += q3 * y1; s32 += q3 * y2; s33 += q3 * y3;
        }
        int o0 = t0 * outStride + r, o1 = o0 + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
        if (add) {
            out[o0] += s00; out[o0 + 1] += s10; out[o0 + 2] += s20; out[o0 + 3] += s30;
            out[o1] += s01; out[o1 + 1] += s11; out[o1 + 2] += s21; out[o1 + 3] += s31;
            out[o2] += s02; out[o2 + 1] += s12; out[o2 + 2] += s22; out[o2 + 3] += s32;
            out[o3] += s03; out[o3 + 1] += s13; out[o3 + 2] += s23; out[o3 + 3] += s33;
        } else {
            out[o0] = s00; out[o0 + 1] = s10; out[o0 + 2] = s20; out[o0 + 3] = s30;
            out[o1] = s01; out[o1 + 1] = s11; out[o1 + 2] = s21; out[o1 + 3] = s31;
            out[o2] = s02; out[o2 + 1] = s12; out[o2 + 2] = s22; out[o2 + 3] = s32;
            out[o3] = s03; out[o3 + 1] = s13; out[o3 + 2] = s23; out[o3 + 3] = s33;
        }
    }

    /** 4 weight rows x 1 token; two accumulators per row hide FMA latency. */
    static void k4x1(float[] w, int wOff, int ws, int cols, float[] x, int t, float[] out, int outStride, int r,
                     int c0, int c1, boolean add, float[] red) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int w0 = wOff, w1 = wOff + ws, w2 = wOff + 2 * ws, w3 = wOff + 3 * ws;
        int x0 = t * cols;
        int c = c0;
        int ub = c0 + ((c1 - c0) & ~(L - 1));
        for (; c < ub; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromArray(F, w, w0 + c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, w1 + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, w, w2 + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, w, w3 + c).fma(xv, a3);
        }
        a0.intoArray(red, 0); a1.intoArray(red, L); a2.intoArray(red, 2 * L); a3.intoArray(red, 3 * L);
        float s0 = lanes(red, 0), s1 = lanes(red, L), s2 = lanes(red, 2 * L), s3 = lanes(red, 3 * L);
        for (; c < c1; c++) {
            float y = x[x0 + c];
            s0 += w[w0 + c] * y; s1 += w[w1 + c] * y; s2 += w[w2 + c] * y; s3 += w[w3 + c] * y;
        }
        int o = t * outStride + r;
        if (add) {
            out[o] += s0; out[o + 1] += s1; out[o + 2] += s2; out[o + 3] += s3;
        } else {
            out[o] = s0; out[o + 1] = s1; out[o + 2] = s2; out[o + 3] = s3;
        }
    }

    /** 1 weight row x 1 token (row tails). */
    static void k1x1(float[] w, int wOff, int cols, float[] x, int t, float[] out, int outStride, int r,
                     int c0, int c1, boolean add, float[] red) {
        FloatVector a0 = FloatVector.zero(F);
        int x0 = t * cols;
        int c = c0;
        int ub = c0 + ((c1 - c0) & ~(L - 1));
        for (; c < ub; c += L) {
            a0 = FloatVector.fromArray(F, w, wOff + c).fma(FloatVector.fromArray(F, x, x0 + c), a0);
        }
        a0.intoArray(red, 0);
        float s = lanes(red, 0);
        for (; c < c1; c++) s += w[wOff + c] * x[x0 + c];
        int o = t * outStride + r;
        if (add) out[o] += s; else out[o] = s;
    }
}
