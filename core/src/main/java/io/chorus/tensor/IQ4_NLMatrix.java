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
    /** The table as one byte vector: a 16-lane byte lookup is one shuffle instruction. */
    private static final ByteVector TABLE = ByteVector.fromArray(B16, VALUES, 0);

    public IQ4_NLMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.IQ4_NL; }

    /** Fused single-token kernel, 2 rows per pass as {@link Q4_0Matrix#matvec}. */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        int r = r0;
        for (; r + 2 <= r1; r += 2) {
            long b0 = r * rowBytes, b1 = b0 + rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int c = 0; c < cols; c += BLOCK, b0 += BYTES, b1 += BYTES) {
                FloatVector x0 = FloatVector.fromArray(F, x, c);
                FloatVector x1 = FloatVector.fromArray(F, x, c + 16);
                a0 = block(b0, x0, x1, a0);
                a1 = block(b1, x0, x1, a1);
            }
            out[r] = a0.reduceLanes(VectorOperators.ADD);
            out[r + 1] = a1.reduceLanes(VectorOperators.ADD);
        }
        for (; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector a = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                a = block(b, FloatVector.fromArray(F, x, c), FloatVector.fromArray(F, x, c + 16), a);
            }
            out[r] = a.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /** acc + d (K[lo] . x0 + K[hi] . x1) for the block at byte offset b. */
    private FloatVector block(long b, FloatVector x0, FloatVector x1, FloatVector acc) {
        ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 2, LE);
        ByteVector lo = q.and((byte) 0x0F).selectFrom(TABLE);
        ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F).selectFrom(TABLE);
        FloatVector w0 = (FloatVector) lo.convertShape(B2F, F, 0);
        FloatVector w1 = (FloatVector) hi.convertShape(B2F, F, 0);
        return w1.fma(x1, w0.mul(x0)).fma(FloatVector.broadcast(F, half(b)), acc);
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b);
            ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 2, LE);
            ByteVector lo = q.and((byte) 0x0F).selectFrom(TABLE);
            ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F).selectFrom(TABLE);
            ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).intoArray(dst, off + c);
            ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).intoArray(dst, off + c + 16);
        }
    }
}
