package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IQ4_NL weights. Block of 32 values in 18 bytes: {@code half d; u8 qs[16]}; the nibbles index a
 * fixed non-linear table: x[j] = d * K[qs[j] & 0xF] and x[j + 16] = d * K[qs[j] >> 4] for j < 16,
 * with K = {@link #VALUES} (llama.cpp's kvalues_iq4nl).
 */
public final class IQ4_NLMatrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 18;

    /** The 16 levels of the non-linear 4-bit code. */
    static final byte[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** True when a byte vector has 16 lanes, so the whole table fits one and a lookup is one shuffle. */
    static final boolean WIDE = BL.length() >= 16;
    /** The table in byte vectors: all of it in T0 when {@link #WIDE}, else levels 0-7 in T0 and 8-15 in T1. */
    static final ByteVector T0 = ByteVector.fromArray(BL, VALUES, 0);
    static final ByteVector T1 = ByteVector.fromArray(BL, VALUES, WIDE ? 0 : 8);

    public IQ4_NLMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.IQ4_NL; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        ByteVector t0 = T0, t1 = T1;
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b);
            int y = off + c - c0;
            for (int k = 0; k < 16; k += L) {
                ByteVector q = bytes(data, b + 2 + k);
                ByteVector i = q.and((byte) 0x0F);
                ByteVector j = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                // a 16-entry lookup: one byte shuffle in 16 lanes, else two 8-entry ones and a blend
                ByteVector lo = WIDE ? i.selectFrom(t0)
                        : i.and((byte) 7).selectFrom(t0).blend(i.and((byte) 7).selectFrom(t1), i.compare(VectorOperators.GT, (byte) 7));
                ByteVector hi = WIDE ? j.selectFrom(t0)
                        : j.and((byte) 7).selectFrom(t0).blend(j.and((byte) 7).selectFrom(t1), j.compare(VectorOperators.GT, (byte) 7));
                ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + k);
                ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).intoArray(dst, y + 16 + k);
            }
        }
    }
}
