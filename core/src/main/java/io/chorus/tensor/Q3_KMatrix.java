package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

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

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b + 108);
            int w0 = words(b, 0), w1 = words(b, 1), w2 = words(b, 2), w3 = words(b, 3);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 2; g++) {
                    for (int k = 0; k < 16; k += L) {
                        ByteVector v = bytes(data, b + 32 + 32 * h + 16 * g + k);
                        // hmask bits 4h..4h+3 down to bits 2..5: bit j + 2 is then the high bit of run j
                        ByteVector m = bytes(data, b + 16 * g + k)
                                .reinterpretAsShorts().lanewise(LSHR, 4 * h).lanewise(LSHL, 2).reinterpretAsBytes();
                        for (int j = 0; j < 4; j++) {
                            ByteVector lo = v.reinterpretAsShorts().lanewise(LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                            ByteVector hi = m.reinterpretAsShorts().lanewise(LSHR, j).reinterpretAsBytes().and((byte) 4);
                            ((FloatVector) lo.or(hi).sub((byte) 4).convertShape(B2F, F, 0)).mul(d * scale(w0, w1, w2, w3, 8 * h + 2 * j + g))
                                    .intoArray(dst, off + c - c0 + 128 * h + 32 * j + 16 * g + k);
                        }
                    }
                }
            }
        }
    }
}
