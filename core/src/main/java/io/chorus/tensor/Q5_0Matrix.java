package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Q5_0 weights. Block of 32 values in 22 bytes: {@code half d; u8 qh[4]; u8 qs[16]}. With
 * h = qh read as a little-endian int, for j < 16:
 * x[j] = ((qs[j] & 0xF | bit j of h << 4) - 16) * d and
 * x[j + 16] = ((qs[j] >> 4 | bit j + 16 of h << 4) - 16) * d.
 */
public final class Q5_0Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 22;

    public Q5_0Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q5_0; }

    /**
     * The fifth bits become lane masks straight from qh (16 bits per half); 16 is subtracted only
     * where the bit is clear, which is (nibble | 16) - 16 where it is set.
     */
    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b);
            int h = data.get(LE_INT, b + 2);
            int y = off + c - c0;
            for (int k = 0; k < 16; k += L) {
                ByteVector q = bytes(data, b + 6 + k);
                VectorMask<Byte> h0 = VectorMask.fromLong(BL, (h & 0xFFFF) >>> k), h1 = VectorMask.fromLong(BL, h >>> (16 + k));
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 16, h0.not());
                ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .sub((byte) 16, h1.not());
                ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + k);
                ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + 16 + k);
            }
        }
    }
}
