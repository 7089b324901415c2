package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 weights. Block of 32 values in 34 bytes: {@code half d; int8 qs[32]}; x[j] = d * qs[j].
 */
public final class Q8_0Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 34;

    public Q8_0Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q8_0; }

    /**
     * Fused single-token kernel: 4 rows share each activation load; a block's two int8 halves are
     * converted, dotted with x, and the block sum is scaled by d once (not each weight).
     */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < cols; c += BLOCK, b0 += BYTES, b1 += BYTES, b2 += BYTES, b3 += BYTES) {
                FloatVector x0 = FloatVector.fromArray(F, x, c);
                FloatVector x1 = FloatVector.fromArray(F, x, c + 16);
                a0 = block(b0, x0, x1, a0);
                a1 = block(b1, x0, x1, a1);
                a2 = block(b2, x0, x1, a2);
                a3 = block(b3, x0, x1, a3);
            }
            out[r] = a0.reduceLanes(VectorOperators.ADD);
            out[r + 1] = a1.reduceLanes(VectorOperators.ADD);
            out[r + 2] = a2.reduceLanes(VectorOperators.ADD);
            out[r + 3] = a3.reduceLanes(VectorOperators.ADD);
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

    /** acc + d * (q[0:16] . x0 + q[16:32] . x1) for the block at byte offset b. */
    private FloatVector block(long b, FloatVector x0, FloatVector x1, FloatVector acc) {
        FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B16, data, b + 2, LE)
                .convertShape(B2F, F, 0);
        FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B16, data, b + 18, LE)
                .convertShape(B2F, F, 0);
        return w1.fma(x1, w0.mul(x0)).fma(FloatVector.broadcast(F, half(b)), acc);
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b);
            for (int h = 0; h < 2; h++) {
                ByteVector q = ByteVector.fromMemorySegment(B16, data, b + 2 + 16 * h, LE);
                FloatVector f = (FloatVector) q.convertShape(B2F, F, 0);
                f.mul(d).intoArray(dst, off + c + 16 * h);
            }
        }
    }
}
