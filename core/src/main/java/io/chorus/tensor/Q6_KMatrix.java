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

    /**
     * Fused single-token kernel, one row per pass (see {@link Q4_KMatrix#matvec} on why the
     * bodies stay small): each run of 16 values is dotted with x and scaled by d * sc.
     */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                float d = half(b + 208);
                for (int i = 0; i < 4; i++) { // i = 2h + g: half h, lanes l in [16g, 16g + 16)
                    int h = i >> 1, g = i & 1;
                    long sc = b + 192 + 8 * h + g;
                    acc = group(b + 64 * h + 16 * g, b + 128 + 32 * h + 16 * g, x, c + 128 * h + 16 * g,
                            d * data.get(ValueLayout.JAVA_BYTE, sc), d * data.get(ValueLayout.JAVA_BYTE, sc + 2),
                            d * data.get(ValueLayout.JAVA_BYTE, sc + 4), d * data.get(ValueLayout.JAVA_BYTE, sc + 6), acc);
                }
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /**
     * 16 lanes l of one half: values y[l], y[l+32], y[l+64], y[l+96] with their four scales.
     * Only Vector API calls here (no helper methods): C2 stops inlining ordinary methods once a
     * compilation is large, and a vector returned by a call that is not inlined is boxed.
     * Byte shifts run in 16-bit lanes (AVX-512 has none for bytes) and are masked afterwards.
     */
    private FloatVector group(long ql, long qh, float[] x, int y, float s1, float s2, float s3, float s4, FloatVector acc) {
        ByteVector lq0 = ByteVector.fromMemorySegment(B16, data, ql, LE);
        ByteVector lq1 = ByteVector.fromMemorySegment(B16, data, ql + 32, LE);
        ByteVector hq = ByteVector.fromMemorySegment(B16, data, qh, LE);
        ByteVector hq4 = hq.reinterpretAsShorts().lanewise(LSHL, 4).reinterpretAsBytes();  // bits 0..1 -> 4..5
        ByteVector hq2 = hq.reinterpretAsShorts().lanewise(LSHL, 2).reinterpretAsBytes();  // bits 2..3 -> 4..5
        ByteVector hqr = hq.reinterpretAsShorts().lanewise(LSHR, 2).reinterpretAsBytes();  // bits 6..7 -> 4..5
        ByteVector lo0 = lq0.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes();
        ByteVector lo1 = lq1.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes();
        ByteVector q1 = lq0.and((byte) 0x0F).or(hq4.and((byte) 0x30)).sub((byte) 32);
        ByteVector q2 = lq1.and((byte) 0x0F).or(hq2.and((byte) 0x30)).sub((byte) 32);
        ByteVector q3 = lo0.and((byte) 0x0F).or(hq.and((byte) 0x30)).sub((byte) 32);
        ByteVector q4 = lo1.and((byte) 0x0F).or(hqr.and((byte) 0x30)).sub((byte) 32);
        FloatVector f1 = (FloatVector) q1.convertShape(B2F, F, 0);
        FloatVector f2 = (FloatVector) q2.convertShape(B2F, F, 0);
        FloatVector f3 = (FloatVector) q3.convertShape(B2F, F, 0);
        FloatVector f4 = (FloatVector) q4.convertShape(B2F, F, 0);
        // a tree of products with one add on the loop-carried acc (short FP latency chain)
        FloatVector u = f1.mul(s1).mul(FloatVector.fromArray(F, x, y));
        u = f2.mul(s2).fma(FloatVector.fromArray(F, x, y + 32), u);
        FloatVector v = f3.mul(s3).mul(FloatVector.fromArray(F, x, y + 64));
        v = f4.mul(s4).fma(FloatVector.fromArray(F, x, y + 96), v);
        return acc.add(u.add(v));
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b + 208);
            for (int h = 0; h < 2; h++) {
                long ql = b + 64 * h, qh = b + 128 + 32 * h, sc = b + 192 + 8 * h;
                int y = off + c + 128 * h;
                for (int g = 0; g < 2; g++) { // l in [16g, 16g + 16), is = g
                    ByteVector lq0 = ByteVector.fromMemorySegment(B16, data, ql + 16 * g, LE);
                    ByteVector lq1 = ByteVector.fromMemorySegment(B16, data, ql + 32 + 16 * g, LE);
                    ByteVector hq = ByteVector.fromMemorySegment(B16, data, qh + 16 * g, LE);
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
                    float s1 = d * data.get(ValueLayout.JAVA_BYTE, sc + g), s2 = d * data.get(ValueLayout.JAVA_BYTE, sc + g + 2);
                    float s3 = d * data.get(ValueLayout.JAVA_BYTE, sc + g + 4), s4 = d * data.get(ValueLayout.JAVA_BYTE, sc + g + 6);
                    int at = y + 16 * g;
                    ((FloatVector) q1.convertShape(B2F, F, 0)).mul(s1).intoArray(dst, at);
                    ((FloatVector) q2.convertShape(B2F, F, 0)).mul(s2).intoArray(dst, at + 32);
                    ((FloatVector) q3.convertShape(B2F, F, 0)).mul(s3).intoArray(dst, at + 64);
                    ((FloatVector) q4.convertShape(B2F, F, 0)).mul(s4).intoArray(dst, at + 96);
                }
            }
        }
    }
}
