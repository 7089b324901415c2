package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

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

    /** Fused single-token kernel: each 16-byte load of qs carries four runs of 16 values. */
    @Override
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            long b = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
                float d = half(b + 80), dmin = half(b + 82);
                int s0 = data.get(LE_INT, b), s1 = data.get(LE_INT, b + 4);
                int s2 = data.get(LE_INT, b + 8), s3 = data.get(LE_INT, b + 12);
                // run i = 8h + 2j + g: byte j of int (2h + g/..): pick scales of g = 0 and g = 1
                acc = group(b + 16, x, c, d, dmin, s0, s1, 0, acc);
                acc = group(b + 32, x, c + 16, d, dmin, s0, s1, 8, acc);
                acc = group(b + 48, x, c + 128, d, dmin, s2, s3, 0, acc);
                acc = group(b + 64, x, c + 144, d, dmin, s2, s3, 8, acc);
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return true;
    }

    /**
     * Four runs j = 0..3 sharing one load of 16 qs bytes at q, values at x[y + 32j ..]; the scale
     * bytes of run j are byte 2j (+1 for g = 1, selected by sh = 8) of the little-endian pair lo, hi.
     * Only Vector API calls in here: C2 boxes vectors passed through calls it does not inline.
     */
    private FloatVector group(long q, float[] x, int y, float d, float dmin, int lo, int hi, int sh, FloatVector acc) {
        int sc0 = lo >>> sh & 0xFF, sc1 = lo >>> (16 + sh) & 0xFF, sc2 = hi >>> sh & 0xFF, sc3 = hi >>> (16 + sh) & 0xFF;
        ByteVector v = ByteVector.fromMemorySegment(B16, data, q, LE);
        ByteVector v1 = v.reinterpretAsShorts().lanewise(LSHR, 2).reinterpretAsBytes();
        ByteVector v2 = v.reinterpretAsShorts().lanewise(LSHR, 4).reinterpretAsBytes();
        ByteVector v3 = v.reinterpretAsShorts().lanewise(LSHR, 6).reinterpretAsBytes();
        FloatVector w0 = ((FloatVector) v.and((byte) 3).convertShape(B2F, F, 0)).mul(d * (sc0 & 15)).sub(dmin * (sc0 >>> 4));
        FloatVector w1 = ((FloatVector) v1.and((byte) 3).convertShape(B2F, F, 0)).mul(d * (sc1 & 15)).sub(dmin * (sc1 >>> 4));
        FloatVector w2 = ((FloatVector) v2.and((byte) 3).convertShape(B2F, F, 0)).mul(d * (sc2 & 15)).sub(dmin * (sc2 >>> 4));
        FloatVector w3 = ((FloatVector) v3.and((byte) 3).convertShape(B2F, F, 0)).mul(d * (sc3 & 15)).sub(dmin * (sc3 >>> 4));
        FloatVector u = w1.fma(FloatVector.fromArray(F, x, y + 32), w0.mul(FloatVector.fromArray(F, x, y)));
        FloatVector t = w3.fma(FloatVector.fromArray(F, x, y + 96), w2.mul(FloatVector.fromArray(F, x, y + 64)));
        return acc.add(u.add(t));
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b + 80), dmin = half(b + 82);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 2; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B16, data, b + 16 + 32 * h + 16 * g, LE);
                    for (int j = 0; j < 4; j++) {
                        int sc = data.get(ValueLayout.JAVA_BYTE, b + 8 * h + 2 * j + g) & 0xFF;
                        ByteVector q = v.reinterpretAsShorts().lanewise(LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                        ((FloatVector) q.convertShape(B2F, F, 0)).mul(d * (sc & 15)).sub(dmin * (sc >>> 4))
                                .intoArray(dst, off + c + 128 * h + 32 * j + 16 * g);
                    }
                }
            }
        }
    }
}
