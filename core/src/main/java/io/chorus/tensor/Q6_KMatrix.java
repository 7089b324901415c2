package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

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
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b + 208);
            for (int h = 0; h < 2; h++) {
                long ql = b + 64 * h, qh = b + 128 + 32 * h, sc = b + 192 + 8 * h;
                int y = off + c - c0 + 128 * h;
                for (int g = 0; g < 2; g++) { // l in [16g, 16g + 16), is = g
                    float s1 = d * data.get(ValueLayout.JAVA_BYTE, sc + g), s2 = d * data.get(ValueLayout.JAVA_BYTE, sc + g + 2);
                    float s3 = d * data.get(ValueLayout.JAVA_BYTE, sc + g + 4), s4 = d * data.get(ValueLayout.JAVA_BYTE, sc + g + 6);
                    for (int k = 0; k < 16; k += L) {
                        ByteVector lq0 = bytes(data, ql + 16 * g + k);
                        ByteVector lq1 = bytes(data, ql + 32 + 16 * g + k);
                        ByteVector hq = bytes(data, qh + 16 * g + k);
                        // the two high bits of each value moved to bits 4..5 (16-bit lane shifts, masked below)
                        ByteVector hq4 = hq.reinterpretAsShorts().lanewise(LSHL, 4).reinterpretAsBytes();
                        ByteVector hq2 = hq.reinterpretAsShorts().lanewise(LSHL, 2).reinterpretAsBytes();
                        ByteVector hqr = hq.reinterpretAsShorts().lanewise(LSHR, 2).reinterpretAsBytes();
                        ByteVector n0 = lq0.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes();
                        ByteVector n1 = lq1.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes();
                        ByteVector q1 = lq0.and((byte) 0x0F).or(hq4.and((byte) 0x30)).sub((byte) 32);
                        ByteVector q2 = lq1.and((byte) 0x0F).or(hq2.and((byte) 0x30)).sub((byte) 32);
                        ByteVector q3 = n0.and((byte) 0x0F).or(hq.and((byte) 0x30)).sub((byte) 32);
                        ByteVector q4 = n1.and((byte) 0x0F).or(hqr.and((byte) 0x30)).sub((byte) 32);
                        int at = y + 16 * g + k;
                        ((FloatVector) q1.convertShape(B2F, F, 0)).mul(s1).intoArray(dst, at);
                        ((FloatVector) q2.convertShape(B2F, F, 0)).mul(s2).intoArray(dst, at + 32);
                        ((FloatVector) q3.convertShape(B2F, F, 0)).mul(s3).intoArray(dst, at + 64);
                        ((FloatVector) q4.convertShape(B2F, F, 0)).mul(s4).intoArray(dst, at + 96);
                    }
                }
            }
        }
    }
}
