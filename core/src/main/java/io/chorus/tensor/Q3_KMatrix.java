package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q3_K weights. Super-block of 256 values in 110 bytes:
 * {@code u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d}.
 * Every run i of 16 values has a signed 6-bit scale: low 4 bits in scales[i] (i < 8) or the high
 * nibble of scales[i - 8], high 2 bits at bit 2(i / 4) of scales[8 + i % 4]; sc = that - 32.
 * Value p = 128h + 32j + 16g + l (h, g in {0, 1}, j < 4, l < 16) has run i = 8h + 2j + g, low bits
 * = 2-bit field j of qs[32h + 16g + l], high bit = bit 4h + j of hmask[16g + l];
 * y = d * sc * (low + 4 * high - 4).
 */
public final class Q3_KMatrix extends TiledMatrix {
    static final int BLOCK = 256, BYTES = 110;

    public Q3_KMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q3_K; }

    /**
     * Scale of run i (minus 32) from the four words w0..w3 of {@link #words}: byte i % 4 of word i / 4.
     */
    static int scale(int w0, int w1, int w2, int w3, int i) {
        int w = switch (i >> 2) { case 0 -> w0; case 1 -> w1; case 2 -> w2; default -> w3; };
        return (w >>> (8 * (i & 3)) & 0xFF) - 32;
    }

    /**
     * Word k (0..3) of the 16 unsigned 6-bit scales of the block at b, scale i in byte i % 4 of
     * word i / 4: one pass over the 12 packed bytes (three int loads) instead of a bit-gather per run.
     */
    private int words(long b, int k) {
        int lo = data.get(LE_INT, b + 96 + 4 * (k & 1)), t = data.get(LE_INT, b + 104);
        return ((lo >>> (4 * (k >> 1))) & 0x0F0F0F0F) | (((t >>> (2 * k)) & 0x03030303) << 4);
    }

    /** Fused single-token kernel: each 16-byte load of qs (and of hmask) carries four runs. */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                float d = half(b + 108);
                int w0 = words(b, 0), w1 = words(b, 1), w2 = words(b, 2), w3 = words(b, 3);
                for (int i = 0; i < 4; i++) { // i = 2h + g
                    int h = i >> 1, g = i & 1;
                    int k = 8 * h + g;
                    acc = group(b + 32 + 32 * h + 16 * g, b + 16 * g, 4 * h, x, c + 128 * h + 16 * g,
                            d * scale(w0, w1, w2, w3, k), d * scale(w0, w1, w2, w3, k + 2),
                            d * scale(w0, w1, w2, w3, k + 4), d * scale(w0, w1, w2, w3, k + 6), acc);
                }
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /**
     * Runs j = 0..3 of one (h, g): qs bytes at q, hmask bytes at hm (bits hb + j), values at
     * x[y + 32j ..] with scales s0..s3. Only Vector API calls (see {@link TiledMatrix}).
     */
    private FloatVector group(long q, long hm, int hb, float[] x, int y, float s0, float s1, float s2, float s3,
                              FloatVector acc) {
        ByteVector v = ByteVector.fromMemorySegment(B16, data, q, LE);
        // bits hb..hb+3 of each hmask byte down to bits 0..3 (16-bit lane shift; higher bits are
        // masked off below), then high bit j moved to bit 2, so low | high - 4 is the signed value
        ByteVector m = ByteVector.fromMemorySegment(B16, data, hm, LE).reinterpretAsShorts().lanewise(LSHR, hb).reinterpretAsBytes();
        ByteVector m0 = m.reinterpretAsShorts().lanewise(LSHL, 2).reinterpretAsBytes();
        ByteVector m1 = m.reinterpretAsShorts().lanewise(LSHL, 1).reinterpretAsBytes();
        ByteVector m2 = m;
        ByteVector m3 = m.reinterpretAsShorts().lanewise(LSHR, 1).reinterpretAsBytes();
        ByteVector q0 = v.and((byte) 3).or(m0.and((byte) 4)).sub((byte) 4);
        ByteVector q1 = v.reinterpretAsShorts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 3).or(m1.and((byte) 4)).sub((byte) 4);
        ByteVector q2 = v.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 3).or(m2.and((byte) 4)).sub((byte) 4);
        ByteVector q3 = v.reinterpretAsShorts().lanewise(LSHR, 6).reinterpretAsBytes().and((byte) 3).or(m3.and((byte) 4)).sub((byte) 4);
        FloatVector u = ((FloatVector) q0.convertShape(B2F, F, 0)).mul(s0).mul(FloatVector.fromArray(F, x, y));
        u = ((FloatVector) q1.convertShape(B2F, F, 0)).mul(s1).fma(FloatVector.fromArray(F, x, y + 32), u);
        FloatVector t = ((FloatVector) q2.convertShape(B2F, F, 0)).mul(s2).mul(FloatVector.fromArray(F, x, y + 64));
        t = ((FloatVector) q3.convertShape(B2F, F, 0)).mul(s3).fma(FloatVector.fromArray(F, x, y + 96), t);
        return acc.add(u.add(t));
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b + 108);
            int w0 = words(b, 0), w1 = words(b, 1), w2 = words(b, 2), w3 = words(b, 3);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 2; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B16, data, b + 32 + 32 * h + 16 * g, LE);
                    // hmask bits 4h..4h+3 down to bits 2..5: bit j + 2 is then the high bit of run j
                    ByteVector m = ByteVector.fromMemorySegment(B16, data, b + 16 * g, LE)
                            .reinterpretAsShorts().lanewise(LSHR, 4 * h).lanewise(LSHL, 2).reinterpretAsBytes();
                    for (int j = 0; j < 4; j++) {
                        ByteVector lo = v.reinterpretAsShorts().lanewise(LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                        ByteVector hi = m.reinterpretAsShorts().lanewise(LSHR, j).reinterpretAsBytes().and((byte) 4);
                        ((FloatVector) lo.or(hi).sub((byte) 4).convertShape(B2F, F, 0)).mul(d * scale(w0, w1, w2, w3, 8 * h + 2 * j + g))
                                .intoArray(dst, off + c + 128 * h + 32 * j + 16 * g);
                    }
                }
            }
        }
    }
}
