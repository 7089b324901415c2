package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Q8_0 weights. Block of 32 values in 34 bytes: {@code half d; int8 qs[32]}; x[j] = d * qs[j].
 */
public final class Q8_0Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 34;

    public Q8_0Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q8_0; }

    /**
     * A single token decodes straight into registers (no round trip through the scratch buffer),
     * with the very operations of the tiled path in the same order (each weight d * q as a float,
     * one FMA per lane in ascending columns, lanes summed per column chunk), so its results are
     * bit-identical to the token's inside any batch.
     */
    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (T != 1) {
            super.matmul(x, T, out, outStride, r0, r1);
            return;
        }
        float[] red = laneBuffer();
        int r = r0;
        for (; r + ROWS <= r1; r += ROWS) {
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int c1 = Math.min(cols, c0 + KC);
                long b0 = r * rowBytes + (long) (c0 / BLOCK) * BYTES, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int c = c0; c < c1; c += BLOCK, b0 += BYTES, b1 += BYTES, b2 += BYTES, b3 += BYTES) {
                    float d0 = half(b0), d1 = half(b1), d2 = half(b2), d3 = half(b3);
                    for (int k = 0; k < BLOCK; k += L) {
                        FloatVector xv = FloatVector.fromArray(F, x, c + k);
                        a0 = ((FloatVector) bytes(data, b0 + 2 + k).convertShape(B2F, F, 0)).mul(d0).fma(xv, a0);
                        a1 = ((FloatVector) bytes(data, b1 + 2 + k).convertShape(B2F, F, 0)).mul(d1).fma(xv, a1);
                        a2 = ((FloatVector) bytes(data, b2 + 2 + k).convertShape(B2F, F, 0)).mul(d2).fma(xv, a2);
                        a3 = ((FloatVector) bytes(data, b3 + 2 + k).convertShape(B2F, F, 0)).mul(d3).fma(xv, a3);
                    }
                }
                a0.intoArray(red, 0); a1.intoArray(red, L); a2.intoArray(red, 2 * L); a3.intoArray(red, 3 * L);
                float s0 = FloatTiles.lanes(red, 0), s1 = FloatTiles.lanes(red, L);
                float s2 = FloatTiles.lanes(red, 2 * L), s3 = FloatTiles.lanes(red, 3 * L);
                if (c0 > 0) {
                    out[r] += s0; out[r + 1] += s1; out[r + 2] += s2; out[r + 3] += s3;
                } else {
                    out[r] = s0; out[r + 1] = s1; out[r + 2] = s2; out[r + 3] = s3;
                }
            }
        }
        if (r < r1) super.matmul(x, 1, out, outStride, r, r1); // the last rows, one at a time as there
    }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b);
            int y = off + c - c0;
            for (int k = 0; k < BLOCK; k += L) {
                ((FloatVector) bytes(data, b + 2 + k).convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + k);
            }
        }
    }
}
