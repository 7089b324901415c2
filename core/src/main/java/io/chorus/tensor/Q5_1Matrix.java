package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Q5_1 weights. Block of 32 values in 24 bytes: {@code half d; half m; u8 qh[4]; u8 qs[16]}. With
 * h = qh read as a little-endian int, for j < 16:
 * x[j] = (qs[j] & 0xF | bit j of h << 4) * d + m and
 * x[j + 16] = (qs[j] >> 4 | bit j + 16 of h << 4) * d + m.
 */
public final class Q5_1Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 24;

    public Q5_1Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q5_1; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b), m = half(b + 2);
            int h = data.get(LE_INT, b + 4);
            int y = off + c - c0;
            for (int k = 0; k < 16; k += L) {
                ByteVector q = bytes(data, b + 8 + k);
                VectorMask<Byte> h0 = VectorMask.fromLong(BL, (h & 0xFFFF) >>> k), h1 = VectorMask.fromLong(BL, h >>> (16 + k));
                ByteVector lo = q.and((byte) 0x0F).add((byte) 16, h0);
                ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F).add((byte) 16, h1);
                // q d is exact in float (5 + 11 significant bits), so this equals ggml's q*d + m bit for bit
                ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).add(m).intoArray(dst, y + k);
                ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).add(m).intoArray(dst, y + 16 + k);
            }
        }
    }
}
