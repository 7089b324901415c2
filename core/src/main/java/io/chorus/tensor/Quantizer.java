package io.chorus.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Float values to GGUF block bytes for every supported type. Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and
 * IQ4_NL follow llama.cpp's quantizers without an importance matrix (the same float operations in
 * the same order, so they write the bytes llama-quantize writes); the K-quants use a simple round-to-nearest with a per-sub-block scale (and
 * min), the scales themselves quantized against the super-block's d / dmin. They exist to write
 * synthetic models and test data, not to reproduce llama.cpp's bytes.
 */
public final class Quantizer {
    private Quantizer() {}

    /** Block bytes of {@code x} (length a multiple of the type's block size) in the given type. */
    public static byte[] quantize(GgmlType type, float[] x) {
        if (x.length % type.blockSize != 0) {
            throw new IllegalArgumentException(x.length + " values are not a multiple of the " + type + " block size " + type.blockSize);
        }
        ByteBuffer out = ByteBuffer.allocate((int) type.bytesFor(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        int n = x.length / type.blockSize;
        switch (type) {
            case F32 -> { for (float v : x) out.putFloat(v); }
            case F16 -> { for (float v : x) out.putShort(Float.floatToFloat16(v)); }
            case BF16 -> { for (float v : x) out.putShort(toBf16(v)); }
            case Q8_0 -> { for (int b = 0; b < n; b++) q8_0(x, b * 32, out); }
            case Q4_0 -> { for (int b = 0; b < n; b++) q4_0(x, b * 32, out); }
            case Q4_1 -> { for (int b = 0; b < n; b++) q4_1(x, b * 32, out); }
            case Q5_0 -> { for (int b = 0; b < n; b++) q5_0(x, b * 32, out); }
            case Q5_1 -> { for (int b = 0; b < n; b++) q5_1(x, b * 32, out); }
            case IQ4_NL -> { for (int b = 0; b < n; b++) iq4_nl(x, b * 32, out); }
            case Q4_K -> { for (int b = 0; b < n; b++) qK(x, b * 256, out, false); }
            case Q5_K -> { for (int b = 0; b < n; b++) qK(x, b * 256, out, true); }
            case Q6_K -> { for (int b = 0; b < n; b++) q6_K(x, b * 256, out); }
            default -> throw new IllegalArgumentException("no quantizer for " + type);
        }
        return out.array();
    }

    /** Round to nearest even bfloat16 (NaN kept quiet). */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The float that a value stores as after a round trip through fp16. */
    static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    private static void q8_0(float[] x, int o, ByteBuffer out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) out.put((byte) Math.round(x[o + j] * id));
    }

    private static void q4_0(float[] x, int o, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(15, (int) (x[o + j] * id + 8.5f));
            int q1 = Math.min(15, (int) (x[o + j + 16] * id + 8.5f));
            out.put((byte) (q0 | (q1 << 4)));
        }
    }

    /** Q4_1: x ~ q d + m with m the block minimum and q in [0, 15]. */
    private static void q4_1(float[] x, int o, ByteBuffer out) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 15f;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(min));
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(15, (int) ((x[o + j] - min) * id + 0.5f));
            int q1 = Math.min(15, (int) ((x[o + j + 16] - min) * id + 0.5f));
            out.put((byte) (q0 | (q1 << 4)));
        }
    }

    /** Q5_0: x ~ (q - 16) d, the value of largest magnitude at q = 0 exactly. */
    private static void q5_0(float[] x, int o, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
        }
        float d = max / -16f;
        float id = d != 0 ? 1f / d : 0f;
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) q[j] = Math.min(31, (int) (x[o + j] * id + 16.5f));
        out.putShort(Float.floatToFloat16(d));
        put5(q, out);
    }

    /** Q5_1: x ~ q d + m with m the block minimum and q in [0, 31]. */
    private static void q5_1(float[] x, int o, ByteBuffer out) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 31f;
        float id = d != 0 ? 1f / d : 0f;
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) q[j] = (int) ((x[o + j] - min) * id + 0.5f) & 31;
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(min));
        put5(q, out);
    }

    /** The 5-bit codes of a 32-block: qh (bit j = fifth bit of q[j]), then the nibble pairs. */
    private static void put5(int[] q, ByteBuffer out) {
        int qh = 0;
        for (int j = 0; j < 32; j++) qh |= ((q[j] >> 4) & 1) << j;
        out.putInt(qh);
        for (int j = 0; j < 16; j++) out.put((byte) ((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4)));
    }

    /** The IQ4_NL levels (llama.cpp's kvalues_iq4nl). */
    private static final byte[] IQ4_LEVELS = IQ4_NLMatrix.VALUES;

    /**
     * IQ4_NL as llama-quantize writes it without an importance matrix: weights x^2, a first scale
     * that maps the value of largest magnitude to +127, refined by least squares, then 15 trial
     * scales around mapping it to -127 (+ -7..7), keeping the best weighted fit; the codes are
     * finally chosen against the float scale, and the scale is stored as fp16.
     */
    private static void iq4_nl(float[] x, int o, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) { amax = ax; max = x[o + j]; }
        }
        float scale = 0;
        if (!(amax < 1e-15f)) {
            float d = -max / IQ4_LEVELS[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < 32; j++) {
                float xj = x[o + j], w = xj * xj;
                float q = IQ4_LEVELS[nearestLevel(id * xj)];
                sumqx += w * q * xj;
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -7; itry <= 7; itry++) {
                id = (itry + IQ4_LEVELS[0]) / max;
                sumqx = 0;
                sumq2 = 0;
                for (int j = 0; j < 32; j++) {
                    float xj = x[o + j], w = xj * xj;
                    float q = IQ4_LEVELS[nearestLevel(id * xj)];
                    sumqx += w * q * xj;
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scale = d;
        }
        float id = scale != 0 ? 1 / scale : 0;
        out.putShort(Float.floatToFloat16(scale));
        for (int j = 0; j < 16; j++) {
            out.put((byte) (nearestLevel(id * x[o + j]) | (nearestLevel(id * x[o + j + 16]) << 4)));
        }
    }

    /** Index of the IQ4_NL level nearest to v (the upper one on a tie), by bisection. */
    static int nearestLevel(float v) {
        byte[] k = IQ4_LEVELS;
        if (v <= k[0]) return 0;
        if (v >= k[15]) return 15;
        int lo = 0, hi = 15;
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (v < k[mid]) hi = mid; else lo = mid;
        }
        return v - k[hi - 1] < k[hi] - v ? hi - 1 : hi;
    }

    /**
     * Q4_K (five = false) or Q5_K (five = true): per sub-block of 32 an affine map
     * x ~ scale * q - min with q in [0, 15] or [0, 31].
     */
    private static void qK(float[] x, int o, ByteBuffer out, boolean five) {
        int levels = five ? 31 : 15;
        float[] scale = new float[8], min = new float[8];
        float maxScale = 0, maxMin = 0;
        for (int s = 0; s < 8; s++) {
            float lo = 0, hi = 0; // include 0 so the min is >= 0 (stored as an unsigned 6-bit value)
            for (int j = 0; j < 32; j++) {
                lo = Math.min(lo, x[o + 32 * s + j]);
                hi = Math.max(hi, x[o + 32 * s + j]);
            }
            scale[s] = (hi - lo) / levels;
            min[s] = -lo;
            maxScale = Math.max(maxScale, scale[s]);
            maxMin = Math.max(maxMin, min[s]);
        }
        float d = f16(maxScale / 63f), dmin = f16(maxMin / 63f);
        int[] sc = new int[8], m = new int[8];
        for (int s = 0; s < 8; s++) {
            // round the scale up so the largest value still fits in the levels
            sc[s] = d > 0 ? Math.min(63, (int) Math.ceil(scale[s] / d - 1e-4f)) : 0;
            m[s] = dmin > 0 ? Math.min(63, Math.round(min[s] / dmin)) : 0;
        }
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(dmin));
        byte[] packed = new byte[12];
        for (int j = 0; j < 4; j++) {
            packed[j] = (byte) (sc[j] | ((sc[j + 4] >> 4) << 6));
            packed[j + 4] = (byte) (m[j] | ((m[j + 4] >> 4) << 6));
            packed[j + 8] = (byte) ((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
        }
        out.put(packed);
        int[] q = new int[256];
        for (int s = 0; s < 8; s++) {
            float ds = d * sc[s], dm = dmin * m[s];
            for (int j = 0; j < 32; j++) {
                int v = ds > 0 ? Math.round((x[o + 32 * s + j] + dm) / ds) : 0;
                q[32 * s + j] = Math.max(0, Math.min(levels, v));
            }
        }
        if (five) {
            byte[] qh = new byte[32];
            for (int chunk = 0; chunk < 4; chunk++) {
                for (int l = 0; l < 32; l++) {
                    if ((q[64 * chunk + l] & 16) != 0) qh[l] |= (byte) (1 << (2 * chunk));
                    if ((q[64 * chunk + 32 + l] & 16) != 0) qh[l] |= (byte) (1 << (2 * chunk + 1));
                }
            }
            out.put(qh);
        }
        for (int chunk = 0; chunk < 4; chunk++) {
            for (int l = 0; l < 32; l++) {
                out.put((byte) ((q[64 * chunk + l] & 0xF) | ((q[64 * chunk + 32 + l] & 0xF) << 4)));
            }
        }
    }

    /** Q6_K: per run of 16 values a signed int8 scale, q in [-32, 31]. */
    private static void q6_K(float[] x, int o, ByteBuffer out) {
        float[] scale = new float[16];
        float amax = 0;
        for (int s = 0; s < 16; s++) {
            float a = 0, v = 0;
            for (int j = 0; j < 16; j++) {
                float y = x[o + 16 * s + j];
                if (Math.abs(y) > a) { a = Math.abs(y); v = y; }
            }
            scale[s] = v / -32f; // the value of largest magnitude maps to q = -32 exactly
            amax = Math.max(amax, Math.abs(scale[s]));
        }
        float d = f16(amax / 127f);
        byte[] sc = new byte[16];
        int[] q = new int[256];
        for (int s = 0; s < 16; s++) {
            int si = d > 0 ? Math.max(-128, Math.min(127, Math.round(scale[s] / d))) : 0;
            sc[s] = (byte) si;
            float ds = d * si;
            for (int j = 0; j < 16; j++) {
                int v = ds != 0 ? Math.round(x[o + 16 * s + j] / ds) : 0;
                q[16 * s + j] = Math.max(-32, Math.min(31, v)) + 32;
            }
        }
        byte[] ql = new byte[128], qh = new byte[64];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int y = 128 * h + l;
                int q1 = q[y], q2 = q[y + 32], q3 = q[y + 64], q4 = q[y + 96];
                ql[64 * h + l] = (byte) ((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[64 * h + l + 32] = (byte) ((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[32 * h + l] = (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
        out.put(ql);
        out.put(qh);
        out.put(sc);
        out.putShort(Float.floatToFloat16(d));
    }
}
