package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * Q4_1 weights. Block of 32 values in 20 bytes: {@code half d; half m; u8 qs[16]};
 * x[j] = (qs[j] & 0xF) * d + m and x[j + 16] = (qs[j] >> 4) * d + m for j < 16.
 */
public final class Q4_1Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 20;

    public Q4_1Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q4_1; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b), m = half(b + 2);
            int y = off + c - c0;
            for (int k = 0; k < 16; k += L) {
                ByteVector q = bytes(data, b + 4 + k);
                ByteVector lo = q.and((byte) 0x0F);
                ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                // q d is exact in float (4 + 11 significant bits), so this equals ggml's q*d + m bit for bit
                ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).add(m).intoArray(dst, y + k);
                ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).add(m).intoArray(dst, y + 16 + k);
            }
        }
    }
}
