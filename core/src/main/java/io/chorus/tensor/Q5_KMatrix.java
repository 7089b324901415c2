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

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b), dmin = half(b + 2);
            long qh = b + 16, qs = b + 48;
            int s0 = data.get(LE_INT, b + 4), s1 = data.get(LE_INT, b + 8), s2 = data.get(LE_INT, b + 12);
            for (int chunk = 0; chunk < 4; chunk++) {
                int p = Q4_KMatrix.scalePair(s0, s1, s2, chunk);
                float d0 = d * (p & 0xFF), m0 = dmin * (p >>> 8 & 0xFF);
                float d1 = d * (p >>> 16 & 0xFF), m1 = dmin * (p >>> 24);
                int y = off + c - c0 + 64 * chunk;
                for (int k = 0; k < 32; k += L) {
                    ByteVector q = bytes(data, qs + 32 * chunk + k);
                    ByteVector hb = bytes(data, qh + k);
                    ByteVector n = q.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    // +16 where qh has bit 2c (low nibbles) or bit 2c+1 (high nibbles): a masked add
                    VectorMask<Byte> m5lo = hb.and((byte) (1 << (2 * chunk))).compare(VectorOperators.NE, (byte) 0);
                    VectorMask<Byte> m5hi = hb.and((byte) (2 << (2 * chunk))).compare(VectorOperators.NE, (byte) 0);
                    FloatVector lo = (FloatVector) q.and((byte) 0x0F).add((byte) 16, m5lo).convertShape(B2F, F, 0);
                    FloatVector hi = (FloatVector) n.add((byte) 16, m5hi).convertShape(B2F, F, 0);
                    lo.mul(d0).sub(m0).intoArray(dst, y + k);
                    hi.mul(d1).sub(m1).intoArray(dst, y + 32 + k);
                }
            }
        }
    }
}
