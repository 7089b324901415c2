package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K weights. Super-block of 256 values in 144 bytes:
 * {@code half d; half dmin; u8 scales[12]; u8 qs[128]}.
 * Eight sub-blocks j of 32 have a 6-bit scale sc and min m packed in scales: for j < 4
 * sc = scales[j] & 63, m = scales[j+4] & 63; else sc = scales[j+4] & 0xF | (scales[j-4] >> 6) << 4
 * and m = scales[j+4] >> 4 | (scales[j] >> 6) << 4 (see {@link #scalePair}).
 * Values come in 4 chunks of 64: chunk c uses qs[32c .. 32c+32); its low nibbles are sub-block 2c,
 * high nibbles sub-block 2c+1; y = d * sc * q - dmin * m.
 */
public final class Q4_KMatrix extends TiledMatrix {
    static final int BLOCK = 256, BYTES = 144;

    public Q4_KMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q4_K; }

    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                float d = half(b), dmin = half(b + 2);
                int s0 = data.get(LE_INT, b + 4), s1 = data.get(LE_INT, b + 8), s2 = data.get(LE_INT, b + 12);
                for (int k = 0; k < 4; k++) {
                    int p = scalePair(s0, s1, s2, k);
                    acc = chunk(b + 16 + 32 * k, x, c + 64 * k, d * (p & 0xFF), d * (p >>> 16 & 0xFF),
                            dmin * (p >>> 8 & 0xFF), dmin * (p >>> 24), acc);
                }
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /** One chunk of 64 values: low nibbles of qs[0..32) with (dl, ml), high nibbles with (dh, mh). */
    private FloatVector chunk(long qs, float[] x, int xo, float dl, float dh, float ml, float mh, FloatVector acc) {
        ByteVector q0 = ByteVector.fromMemorySegment(B16, data, qs, LE);
        ByteVector q1 = ByteVector.fromMemorySegment(B16, data, qs + 16, LE);
        // high nibbles: shift in 16-bit lanes, then mask
        ByteVector u0 = q0.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
        ByteVector u1 = q1.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
        FloatVector l0 = (FloatVector) q0.and((byte) 0x0F).convertShape(B2F, F, 0);
        FloatVector l1 = (FloatVector) q1.and((byte) 0x0F).convertShape(B2F, F, 0);
        FloatVector h0 = (FloatVector) u0.convertShape(B2F, F, 0);
        FloatVector h1 = (FloatVector) u1.convertShape(B2F, F, 0);
        FloatVector xa0 = FloatVector.fromArray(F, x, xo), xa1 = FloatVector.fromArray(F, x, xo + 16);
        FloatVector xb0 = FloatVector.fromArray(F, x, xo + 32), xb1 = FloatVector.fromArray(F, x, xo + 48);
        FloatVector lo = l1.fma(xa1, l0.mul(xa0));
        FloatVector hi = h1.fma(xb1, h0.mul(xb0));
        // Scalar-operand Vector API calls, not helpers: late helper calls in a big body are not
        // inlined by C2 (node budget) and their vector results then get boxed. The sum is a tree
        // with one add on the loop-carried acc, so the FP latency chain stays short.
        FloatVector q = lo.mul(dl).add(hi.mul(dh));
        FloatVector m = xa0.add(xa1).mul(ml).add(xb0.add(xb1).mul(mh));
        return acc.add(q.sub(m));
    }

    /**
     * Scales and mins of sub-blocks 2k and 2k+1 as bytes sc0 | m0 << 8 | sc1 << 16 | m1 << 24,
     * from the 12 scale bytes read as three little-endian ints s0, s1, s2 (bytes 0-3, 4-7, 8-11):
     * three loads per block instead of byte-by-byte reads.
     */
    static int scalePair(int s0, int s1, int s2, int k) {
        if (k < 2) {
            int sh = 16 * k;
            int sc = (s0 >>> sh) & 0x3F3F, m = (s1 >>> sh) & 0x3F3F;
            return (sc & 0xFF) | (m & 0xFF) << 8 | (sc >>> 8) << 16 | (m >>> 8) << 24;
        }
        int sh = 16 * (k - 2);
        int lo = s2 >>> sh, hs = s0 >>> sh, hm = s1 >>> sh;
        int sc0 = (lo & 0xF) | ((hs >> 6) & 3) << 4;
        int m0 = ((lo >> 4) & 0xF) | ((hm >> 6) & 3) << 4;
        int sc1 = ((lo >> 8) & 0xF) | ((hs >> 14) & 3) << 4;
        int m1 = ((lo >> 12) & 0xF) | ((hm >> 14) & 3) << 4;
        return sc0 | m0 << 8 | sc1 << 16 | m1 << 24;
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b), dmin = half(b + 2);
            long qs = b + 16;
            int s0 = data.get(LE_INT, b + 4), s1 = data.get(LE_INT, b + 8), s2 = data.get(LE_INT, b + 12);
            for (int chunk = 0; chunk < 4; chunk++) {
                int p = scalePair(s0, s1, s2, chunk);
                float d0 = d * (p & 0xFF), m0 = dmin * (p >>> 8 & 0xFF);
                float d1 = d * (p >>> 16 & 0xFF), m1 = dmin * (p >>> 24);
                int y = off + c + 64 * chunk;
                for (int h = 0; h < 2; h++) {
                    ByteVector q = ByteVector.fromMemorySegment(B16, data, qs + 32 * chunk + 16 * h, LE);
                    ByteVector u = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    FloatVector lo = (FloatVector) q.and((byte) 0x0F).convertShape(B2F, F, 0);
                    FloatVector hi = (FloatVector) u.convertShape(B2F, F, 0);
                    lo.mul(d0).sub(m0).intoArray(dst, y + 16 * h);
                    hi.mul(d1).sub(m1).intoArray(dst, y + 32 + 16 * h);
                }
            }
        }
    }
}
