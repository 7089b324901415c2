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
