package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * Q4_0 weights. Block of 32 values in 18 bytes: {@code half d; u8 qs[16]};
 * x[j] = ((qs[j] & 0xF) - 8) * d and x[j + 16] = ((qs[j] >> 4) - 8) * d for j < 16.
 */
public final class Q4_0Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 18;

    public Q4_0Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q4_0; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b);
            int y = off + c - c0;
            for (int k = 0; k < 16; k += L) {
                // high nibbles: shifted in 16-bit lanes and masked (x86 has no byte-lane shift)
                ByteVector q = bytes(data, b + 2 + k);
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F).sub((byte) 8);
                ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + k);
                ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + 16 + k);
            }
        }
    }
}
