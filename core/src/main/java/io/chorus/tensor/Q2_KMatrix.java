package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * Q2_K weights. Super-block of 256 values in 84 bytes:
 * {@code u8 scales[16]; u8 qs[64]; half d; half dmin}.
 * Every run of 16 values has its own 4-bit scale (low nibble of scales[i]) and 4-bit min (high
 * nibble). Value p = 128h + 32j + 16g + l (h, g in {0, 1}, j < 4, l < 16) is the 2-bit field j of
 * qs[32h + 16g + l] with run i = 8h + 2j + g: y = d * (scales[i] & 15) * q - dmin * (scales[i] >> 4).
 */
public final class Q2_KMatrix extends TiledMatrix {
    static final int BLOCK = 256, BYTES = 84;

    public Q2_KMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q2_K; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long b = r * rowBytes + (long) (c0 / BLOCK) * BYTES;
        for (int c = c0; c < c1; c += BLOCK, b += BYTES) {
            float d = half(b + 80), dmin = half(b + 82);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 2; g++) {
                    for (int k = 0; k < 16; k += L) {
                        ByteVector v = bytes(data, b + 16 + 32 * h + 16 * g + k);
                        for (int j = 0; j < 4; j++) {
                            int sc = data.get(ValueLayout.JAVA_BYTE, b + 8 * h + 2 * j + g) & 0xFF;
                            ByteVector q = v.reinterpretAsShorts().lanewise(LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                            ((FloatVector) q.convertShape(B2F, F, 0)).mul(d * (sc & 15)).sub(dmin * (sc >>> 4))
                                    .intoArray(dst, off + c - c0 + 128 * h + 32 * j + 16 * g + k);
                        }
                    }
                }
            }
        }
    }
}
