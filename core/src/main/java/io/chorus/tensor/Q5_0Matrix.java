package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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

    /**
     * acc + d ((lo - 16) . x0 + (hi - 16) . x1). The fifth bits become lane masks straight from
     * qh (16 bits per half); 16 is subtracted only where the bit is clear, which is
     * (nibble | 16) - 16 where it is set.
     */
    private FloatVector block(long b, FloatVector x0, FloatVector x1, FloatVector acc) {
        int h = data.get(LE_INT, b + 2);
        ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 6, LE);
        VectorMask<Byte> h0 = VectorMask.fromLong(B16, h & 0xFFFF), h1 = VectorMask.fromLong(B16, h >>> 16);
        ByteVector lo = q.and((byte) 0x0F).sub((byte) 16, h0.not());
        ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                .sub((byte) 16, h1.not());
        FloatVector w0 = (FloatVector) lo.convertShape(B2F, F, 0);
        FloatVector w1 = (FloatVector) hi.convertShape(B2F, F, 0);
        return w1.fma(x1, w0.mul(x0)).fma(FloatVector.broadcast(F, half(b)), acc);
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b);
            int h = data.get(LE_INT, b + 2);
            ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 6, LE);
            VectorMask<Byte> h0 = VectorMask.fromLong(B16, h & 0xFFFF), h1 = VectorMask.fromLong(B16, h >>> 16);
            ByteVector lo = q.and((byte) 0x0F).sub((byte) 16, h0.not());
            ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .sub((byte) 16, h1.not());
            ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).intoArray(dst, off + c);
            ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).intoArray(dst, off + c + 16);
        }
    }
}
