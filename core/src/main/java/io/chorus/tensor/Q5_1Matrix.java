package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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

    /** Fused single-token kernel, 2 rows per pass as {@link Q4_1Matrix#matvec}. */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        int r = r0;
        for (; r + 2 <= r1; r += 2) {
            long b0 = r * rowBytes, b1 = b0 + rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int c = 0; c < cols; c += BLOCK, b0 += BYTES, b1 += BYTES) {
                FloatVector x0 = FloatVector.fromArray(F, x, c);
                FloatVector x1 = FloatVector.fromArray(F, x, c + 16);
                FloatVector xs = x0.add(x1);
                a0 = block(b0, x0, x1, xs, a0);
                a1 = block(b1, x0, x1, xs, a1);
            }
            out[r] = a0.reduceLanes(VectorOperators.ADD);
            out[r + 1] = a1.reduceLanes(VectorOperators.ADD);
        }
        for (; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector a = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                FloatVector x0 = FloatVector.fromArray(F, x, c);
                FloatVector x1 = FloatVector.fromArray(F, x, c + 16);
                a = block(b, x0, x1, x0.add(x1), a);
            }
            out[r] = a.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /** acc + d (lo . x0 + hi . x1) + m xs; the fifth bits are lane masks taken from qh. */
    private FloatVector block(long b, FloatVector x0, FloatVector x1, FloatVector xs, FloatVector acc) {
        int h = data.get(LE_INT, b + 4);
        ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 8, LE);
        VectorMask<Byte> h0 = VectorMask.fromLong(B16, h & 0xFFFF), h1 = VectorMask.fromLong(B16, h >>> 16);
        ByteVector lo = q.and((byte) 0x0F).add((byte) 16, h0);
        ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F).add((byte) 16, h1);
        FloatVector w0 = (FloatVector) lo.convertShape(B2F, F, 0);
        FloatVector w1 = (FloatVector) hi.convertShape(B2F, F, 0);
        FloatVector dot = w1.fma(x1, w0.mul(x0));
        return acc.add(dot.fma(FloatVector.broadcast(F, half(b)), xs.mul(half(b + 2))));
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b), m = half(b + 2);
            int h = data.get(LE_INT, b + 4);
            ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 8, LE);
            VectorMask<Byte> h0 = VectorMask.fromLong(B16, h & 0xFFFF), h1 = VectorMask.fromLong(B16, h >>> 16);
            ByteVector lo = q.and((byte) 0x0F).add((byte) 16, h0);
            ByteVector hi = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F).add((byte) 16, h1);
            // q d is exact in float (5 + 11 significant bits), so this equals ggml's q*d + m bit for bit
            ((FloatVector) lo.convertShape(B2F, F, 0)).mul(d).add(m).intoArray(dst, off + c);
            ((FloatVector) hi.convertShape(B2F, F, 0)).mul(d).add(m).intoArray(dst, off + c + 16);
        }
    }
}
