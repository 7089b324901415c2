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
    /** The 16 levels of the non-linear 4-bit code, shared with IQ4_NL. */
    private static final ByteVector TABLE = ByteVector.fromArray(B16, IQ4_NLMatrix.VALUES, 0);

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
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        ByteVector table = TABLE;
        for (int r = r0; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                float d = half(b);
                int sh = data.get(LE_INT, b) >>> 16, sl = data.get(LE_INT, b + 4);
                for (int j = 0; j < 8; j += 2) {
                    acc = pair(b + 8 + 16 * j, table, x, c + 32 * j, d * scale(sh, sl, j), d * scale(sh, sl, j + 1), acc);
                }
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /** Sub-blocks j, j + 1 (64 values from 32 qs bytes at q): codes looked up in the table by byte shuffle. */
    private FloatVector pair(long q, ByteVector table, float[] x, int y, float s0, float s1, FloatVector acc) {
        ByteVector v0 = ByteVector.fromMemorySegment(B16, data, q, LE);
        ByteVector v1 = ByteVector.fromMemorySegment(B16, data, q + 16, LE);
        ByteVector a0 = v0.and((byte) 0xF).selectFrom(table);
        ByteVector b0 = v0.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0xF).selectFrom(table);
        ByteVector a1 = v1.and((byte) 0xF).selectFrom(table);
        ByteVector b1 = v1.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0xF).selectFrom(table);
        FloatVector u = ((FloatVector) b0.convertShape(B2F, F, 0)).fma(FloatVector.fromArray(F, x, y + 16),
                ((FloatVector) a0.convertShape(B2F, F, 0)).mul(FloatVector.fromArray(F, x, y)));
        FloatVector t = ((FloatVector) b1.convertShape(B2F, F, 0)).fma(FloatVector.fromArray(F, x, y + 48),
                ((FloatVector) a1.convertShape(B2F, F, 0)).mul(FloatVector.fromArray(F, x, y + 32)));
        return acc.add(u.mul(s0).add(t.mul(s1)));
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        ByteVector table = TABLE;
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b);
            int sh = data.get(LE_INT, b) >>> 16, sl = data.get(LE_INT, b + 4);
            for (int j = 0; j < 8; j++) {
                float dl = d * scale(sh, sl, j);
                ByteVector v = ByteVector.fromMemorySegment(B16, data, b + 8 + 16 * j, LE);
                ByteVector lo = v.and((byte) 0xF).selectFrom(table);
                ByteVector hi = v.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0xF).selectFrom(table);
                ((FloatVector) lo.convertShape(B2F, F, 0)).mul(dl).intoArray(dst, off + c + 32 * j);
                ((FloatVector) hi.convertShape(B2F, F, 0)).mul(dl).intoArray(dst, off + c + 32 * j + 16);
            }
        }
    }
}
