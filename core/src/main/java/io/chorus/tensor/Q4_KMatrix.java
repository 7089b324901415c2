package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

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
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b), dmin = half(b + 2);
            long qs = b + 16;
            int s0 = data.get(LE_INT, b + 4), s1 = data.get(LE_INT, b + 8), s2 = data.get(LE_INT, b + 12);
            for (int chunk = 0; chunk < 4; chunk++) {
                int p = scalePair(s0, s1, s2, chunk);
                float d0 = d * (p & 0xFF), m0 = dmin * (p >>> 8 & 0xFF);
                float d1 = d * (p >>> 16 & 0xFF), m1 = dmin * (p >>> 24);
                int y = off + c - c0 + 64 * chunk;
                for (int k = 0; k < 32; k += L) {
                    ByteVector q = bytes(data, qs + 32 * chunk + k);
                    ByteVector u = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    FloatVector lo = (FloatVector) q.and((byte) 0x0F).convertShape(B2F, F, 0);
                    FloatVector hi = (FloatVector) u.convertShape(B2F, F, 0);
                    lo.mul(d0).sub(m0).intoArray(dst, y + k);
                    hi.mul(d1).sub(m1).intoArray(dst, y + 32 + k);
                }
            }
        }
    }
}
