package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IQ4_XS weights. Super-block of 256 values in 136 bytes:
 * {@code half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}.
 * Sub-block j (32 values) has a 6-bit scale ls = nibble j % 2 of scales_l[j / 2] | (bits 2j..2j+1
 * of scales_h) << 4; its codes are the low nibbles of qs[16j .. 16j + 16) (values 32j + l) and the
 * high nibbles (values 32j + 16 + l); y = d * (ls - 32) * K[code] with IQ4_NL's table K ({@link IQ4_NLMatrix#VALUES}).
 */
public final class IQ4_XSMatrix extends TiledMatrix {
    static final int BLOCK = 256, BYTES = 136;

    public IQ4_XSMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.IQ4_XS; }

    /** Scale of sub-block j (already minus 32) from scales_h (low 16 bits of sh) and scales_l (sl). */
    static int scale(int sh, int sl, int j) {
        return ((sl >>> (4 * j) & 0xF) | (sh >>> (2 * j) & 3) << 4) - 32;
    }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        ByteVector t0 = IQ4_NLMatrix.T0, t1 = IQ4_NLMatrix.T1;
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b);
            int sh = data.get(LE_INT, b) >>> 16, sl = data.get(LE_INT, b + 4);
            for (int s = 0; s < 8; s++) {
                float dl = d * scale(sh, sl, s);
                int y = off + c - c0 + 32 * s;
                for (int k = 0; k < 16; k += L) {
                    ByteVector q = bytes(data, b + 8 + 16 * s + k);
                    ByteVector i = q.and((byte) 0x0F);
                    ByteVector j = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    // as IQ4_NL: one 16-entry byte shuffle, or two 8-entry ones and a blend
                    ByteVector lo = IQ4_NLMatrix.WIDE ? i.selectFrom(t0)
                            : i.and((byte) 7).selectFrom(t0).blend(i.and((byte) 7).selectFrom(t1), i.compare(VectorOperators.GT, (byte) 7));
                    ByteVector hi = IQ4_NLMatrix.WIDE ? j.selectFrom(t0)
                            : j.and((byte) 7).selectFrom(t0).blend(j.and((byte) 7).selectFrom(t1), j.compare(VectorOperators.GT, (byte) 7));
                    ((FloatVector) lo.convertShape(B2F, F, 0)).mul(dl).intoArray(dst, y + k);
                    ((FloatVector) hi.convertShape(B2F, F, 0)).mul(dl).intoArray(dst, y + 16 + k);
                }
            }
        }
    }
}
