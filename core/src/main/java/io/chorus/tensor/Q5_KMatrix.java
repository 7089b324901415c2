package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b), dmin = half(b + 2);
            long qh = b + 16, qs = b + 48;
            for (int chunk = 0; chunk < 4; chunk++) {
                int sm0 = Q4_KMatrix.scaleMin(data, b + 4, 2 * chunk), sm1 = Q4_KMatrix.scaleMin(data, b + 4, 2 * chunk + 1);
                float d0 = d * (sm0 & 0xFF), m0 = dmin * (sm0 >> 8);
                float d1 = d * (sm1 & 0xFF), m1 = dmin * (sm1 >> 8);
                int y = off + c + 64 * chunk;
                for (int h = 0; h < 2; h++) {
                    ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, qs + 32 * chunk + 16 * h, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, qh + 16 * h, LE);
                    // bit 2c of qh moved to bit 4, bit 2c+1 moved to bit 4
                    ByteVector b0 = hb.lanewise(VectorOperators.LSHR, 2 * chunk).lanewise(VectorOperators.AND, (byte) 1)
                            .lanewise(VectorOperators.LSHL, 4);
                    ByteVector b1 = hb.lanewise(VectorOperators.LSHR, 2 * chunk + 1).lanewise(VectorOperators.AND, (byte) 1)
                            .lanewise(VectorOperators.LSHL, 4);
                    FloatVector lo = (FloatVector) q.lanewise(VectorOperators.AND, (byte) 0x0F).or(b0)
                            .convertShape(VectorOperators.B2F, FloatTiles.F, 0);
                    FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).or(b1)
                            .convertShape(VectorOperators.B2F, FloatTiles.F, 0);
                    lo.mul(d0).sub(m0).intoArray(dst, y + 16 * h);
                    hi.mul(d1).sub(m1).intoArray(dst, y + 32 + 16 * h);
                }
            }
        }
    }
}
