package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K weights. Super-block of 256 values in 210 bytes:
 * {@code u8 ql[128]; u8 qh[64]; int8 scales[16]; half d} (d last).
 * Two halves of 128 values (ql += 64, qh += 32, scales += 8 per half); for l < 32 with is = l/16:
 * q1 = (ql[l] & 0xF | (qh[l] & 3) << 4) - 32 goes to y[l] with scale sc[is];
 * q2 = (ql[l+32] & 0xF | (qh[l] >> 2 & 3) << 4) - 32 to y[l+32], sc[is+2];
 * q3 = (ql[l] >> 4 | (qh[l] >> 4 & 3) << 4) - 32 to y[l+64], sc[is+4];
 * q4 = (ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4) - 32 to y[l+96], sc[is+6]; y = d * sc * q.
 * So every run of 16 consecutive values shares one scale: scales[(position in block) / 16].
 */
public final class Q6_KMatrix extends TiledMatrix {
    static final int BLOCK = 256, BYTES = 210;

    public Q6_KMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q6_K; }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b + 208);
            for (int h = 0; h < 2; h++) {
                long ql = b + 64 * h, qh = b + 128 + 32 * h, sc = b + 192 + 8 * h;
                int y = off + c + 128 * h;
                for (int g = 0; g < 2; g++) { // l in [16g, 16g + 16), is = g
                    ByteVector lq0 = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, ql + 16 * g, LE);
                    ByteVector lq1 = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, ql + 32 + 16 * g, LE);
                    ByteVector hq = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, qh + 16 * g, LE);
                    ByteVector q1 = lq0.lanewise(VectorOperators.AND, (byte) 0xF)
                            .or(hq.lanewise(VectorOperators.AND, (byte) 3).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q2 = lq1.lanewise(VectorOperators.AND, (byte) 0xF)
                            .or(hq.lanewise(VectorOperators.LSHR, 2).lanewise(VectorOperators.AND, (byte) 3).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q3 = lq0.lanewise(VectorOperators.LSHR, 4)
                            .or(hq.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.AND, (byte) 3).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q4 = lq1.lanewise(VectorOperators.LSHR, 4)
                            .or(hq.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                    store(q1, d * data.get(ValueLayout.JAVA_BYTE, sc + g), dst, y + 16 * g);
                    store(q2, d * data.get(ValueLayout.JAVA_BYTE, sc + g + 2), dst, y + 32 + 16 * g);
                    store(q3, d * data.get(ValueLayout.JAVA_BYTE, sc + g + 4), dst, y + 64 + 16 * g);
                    store(q4, d * data.get(ValueLayout.JAVA_BYTE, sc + g + 6), dst, y + 96 + 16 * g);
                }
            }
        }
    }

    private static void store(ByteVector q, float scale, float[] dst, int at) {
        ((FloatVector) q.sub((byte) 32).convertShape(VectorOperators.B2F, FloatTiles.F, 0)).mul(scale).intoArray(dst, at);
    }
}
