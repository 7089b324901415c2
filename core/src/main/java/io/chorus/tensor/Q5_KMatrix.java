package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_K weights. Super-block of 256 values in 176 bytes:
 * {@code half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}.
 * As Q4_K (same scale/min packing, chunks of 64) with a fifth bit: in chunk c the low-nibble value
 * at l gets +16 when qh[l] has bit 2c set, the high-nibble value when it has bit 2c+1 set.
 */
public final class Q5_KMatrix extends TiledMatrix {
    static final int BLOCK = 256, BYTES = 176;

    public Q5_KMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q5_K; }

    /** Fused single-token kernel, as {@link Q4_KMatrix#matvec} with the fifth bit added. */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                float d = half(b), dmin = half(b + 2);
                int s0 = data.get(LE_INT, b + 4), s1 = data.get(LE_INT, b + 8), s2 = data.get(LE_INT, b + 12);
                for (int k = 0; k < 4; k++) {
                    int p = Q4_KMatrix.scalePair(s0, s1, s2, k);
                    acc = chunk(b + 48 + 32 * k, b + 16, k, x, c + 64 * k, d * (p & 0xFF), d * (p >>> 16 & 0xFF),
                            dmin * (p >>> 8 & 0xFF), dmin * (p >>> 24), acc);
                }
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /** Chunk k of 64 values: qs bytes at qs, fifth bits 2k / 2k+1 of the 32 qh bytes at qh. */
    private FloatVector chunk(long qs, long qh, int k, float[] x, int xo, float dl, float dh, float ml, float mh,
                              FloatVector acc) {
        ByteVector q0 = ByteVector.fromMemorySegment(B16, data, qs, LE);
        ByteVector q1 = ByteVector.fromMemorySegment(B16, data, qs + 16, LE);
        ByteVector qh0 = ByteVector.fromMemorySegment(B16, data, qh, LE);
        ByteVector qh1 = ByteVector.fromMemorySegment(B16, data, qh + 16, LE);
        // 5-bit values: nibble + 16 where the qh bit is set (a masked add)
        byte bitLo = (byte) (1 << (2 * k)), bitHi = (byte) (2 << (2 * k));
        ByteVector n0 = q0.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
        ByteVector n1 = q1.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
        ByteVector v0 = q0.and((byte) 0x0F).add((byte) 16, qh0.and(bitLo).compare(VectorOperators.NE, (byte) 0));
        ByteVector v1 = q1.and((byte) 0x0F).add((byte) 16, qh1.and(bitLo).compare(VectorOperators.NE, (byte) 0));
        ByteVector w0 = n0.add((byte) 16, qh0.and(bitHi).compare(VectorOperators.NE, (byte) 0));
        ByteVector w1 = n1.add((byte) 16, qh1.and(bitHi).compare(VectorOperators.NE, (byte) 0));
        FloatVector xa0 = FloatVector.fromArray(F, x, xo), xa1 = FloatVector.fromArray(F, x, xo + 16);
        FloatVector xb0 = FloatVector.fromArray(F, x, xo + 32), xb1 = FloatVector.fromArray(F, x, xo + 48);
        FloatVector lo = ((FloatVector) v1.convertShape(B2F, F, 0)).fma(xa1, ((FloatVector) v0.convertShape(B2F, F, 0)).mul(xa0));
        FloatVector hi = ((FloatVector) w1.convertShape(B2F, F, 0)).fma(xb1, ((FloatVector) w0.convertShape(B2F, F, 0)).mul(xb0));
        // Scalar-operand Vector API calls, not helpers: late helper calls in a big body are not
        // inlined by C2 (node budget) and their vector results then get boxed. The sum is a tree
        // with one add on the loop-carried acc, so the FP latency chain stays short.
        FloatVector q = lo.mul(dl).add(hi.mul(dh));
        FloatVector m = xa0.add(xa1).mul(ml).add(xb0.add(xb1).mul(mh));
        return acc.add(q.sub(m));
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b), dmin = half(b + 2);
            long qh = b + 16, qs = b + 48;
            int s0 = data.get(LE_INT, b + 4), s1 = data.get(LE_INT, b + 8), s2 = data.get(LE_INT, b + 12);
            for (int chunk = 0; chunk < 4; chunk++) {
                int p = Q4_KMatrix.scalePair(s0, s1, s2, chunk);
                float d0 = d * (p & 0xFF), m0 = dmin * (p >>> 8 & 0xFF);
                float d1 = d * (p >>> 16 & 0xFF), m1 = dmin * (p >>> 24);
                int y = off + c + 64 * chunk;
                for (int h = 0; h < 2; h++) {
                    ByteVector q = ByteVector.fromMemorySegment(B16, data, qs + 32 * chunk + 16 * h, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B16, data, qh + 16 * h, LE);
                    ByteVector n = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    // +16 where qh has bit 2c (low nibbles) or bit 2c+1 (high nibbles): a masked add
                    VectorMask<Byte> m5lo = hb.and((byte) (1 << (2 * chunk))).compare(VectorOperators.NE, (byte) 0);
                    VectorMask<Byte> m5hi = hb.and((byte) (2 << (2 * chunk))).compare(VectorOperators.NE, (byte) 0);
                    FloatVector lo = (FloatVector) q.and((byte) 0x0F).add((byte) 16, m5lo).convertShape(B2F, F, 0);
                    FloatVector hi = (FloatVector) n.add((byte) 16, m5hi).convertShape(B2F, F, 0);
                    lo.mul(d0).sub(m0).intoArray(dst, y + 16 * h);
                    hi.mul(d1).sub(m1).intoArray(dst, y + 32 + 16 * h);
                }
            }
        }
    }
}
