package io.chorus.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Float values to GGUF block bytes for every supported type. Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL,
 * Q2_K, Q3_K and IQ4_XS follow llama.cpp's quantizers without an importance matrix (the same float
 * operations in the same order, so they write the bytes llama-quantize writes); Q4_K, Q5_K and Q6_K
 * use a simple round-to-nearest with a per-sub-block scale (and
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
            case Q2_K -> { for (int b = 0; b < n; b++) q2_K(x, b * 256, out); }
            case Q3_K -> { for (int b = 0; b < n; b++) q3_K(x, b * 256, out); }
            case IQ4_XS -> { for (int b = 0; b < n; b++) iq4_xs(x, b * 256, out); }
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
        float scale = iq4Scale(x, o);
        float id = scale != 0 ? 1 / scale : 0;
        out.putShort(Float.floatToFloat16(scale));
        for (int j = 0; j < 16; j++) {
            out.put((byte) (nearestLevel(id * x[o + j]) | (nearestLevel(id * x[o + j + 16]) << 4)));
        }
    }

    /**
     * The float scale of 32 values x[o..o+32) on the IQ4_NL levels (0 when they are all about 0):
     * the search of IQ4_NL blocks and IQ4_XS sub-blocks.
     */
    private static float iq4Scale(float[] x, int o) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) { amax = ax; max = x[o + j]; }
        }
        if (amax < 1e-15f) return 0;
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
        return d;
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

    // ---- llama.cpp's reference quantizers for Q2_K, Q3_K and IQ4_XS (same float operations, same order) ----

    /** Round half to even, as llama.cpp's nearest_int (valid for |v| < 2^22). */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    /**
     * Affine quantization of n values to [0, nmax] minimizing the weighted error (|error| when mad):
     * a first guess from min/max, then nstep + 1 trial scales around it, each refined by least squares.
     * Writes the levels into L[lo..lo+n) and returns {scale, -min}.
     */
    private static float[] makeQkx2(int n, int nmax, float[] x, int o, float[] w, int[] L, int lo,
                                    float rmin, float rdelta, int nstep, boolean mad) {
        float min = x[o], max = x[o];
        float sumW = w[0], sumX = sumW * x[o];
        for (int i = 1; i < n; i++) {
            if (x[o + i] < min) min = x[o + i];
            if (x[o + i] > max) max = x[o + i];
            sumW += w[i];
            sumX += w[i] * x[o + i];
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return new float[] {0f, -min};
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[o + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[o + i];
            diff = mad ? Math.abs(diff) : diff * diff;
            bestMad += w[i] * diff;
        }
        int[] aux = new int[n];
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[o + i] - min))));
                aux[i] = l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[o + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float m = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[o + i];
                    diff = mad ? Math.abs(diff) : diff * diff;
                    m += w[i] * diff;
                }
                if (m < bestMad) {
                    System.arraycopy(aux, 0, L, lo, n);
                    bestMad = m;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        return new float[] {scale, -min};
    }

    /** Q2_K: 16 runs of 16 with a 4-bit scale and min each, against fp16 d and dmin. */
    private static void q2_K(float[] x, int o, ByteBuffer out) {
        int[] L = new int[256];
        float[] scales = new float[16], mins = new float[16], w = new float[16];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = Math.abs(x[o + 16 * j + l]);
            float[] sm = makeQkx2(16, 3, x, o + 16 * j, w, L, 16 * j, -0.5f, 0.1f, 15, true);
            scales[j] = sm[0];
            mins[j] = sm[1];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        int[] sc = new int[16];
        short d = 0, dmin = 0;
        if (maxScale > 0) {
            float iscale = 15f / maxScale;
            for (int j = 0; j < 16; j++) sc[j] = nearestInt(iscale * scales[j]);
            d = Float.floatToFloat16(maxScale / 15f);
        }
        if (maxMin > 0) {
            float iscale = 15f / maxMin;
            for (int j = 0; j < 16; j++) sc[j] |= nearestInt(iscale * mins[j]) << 4;
            dmin = Float.floatToFloat16(maxMin / 15f);
        }
        for (int j = 0; j < 16; j++) {
            float dj = Float.float16ToFloat(d) * (sc[j] & 0xF);
            if (dj == 0) continue;
            float dm = Float.float16ToFloat(dmin) * ((sc[j] & 0xFF) >> 4);
            for (int i = 0; i < 16; i++) {
                L[16 * j + i] = Math.max(0, Math.min(3, nearestInt((x[o + 16 * j + i] + dm) / dj)));
            }
        }
        for (int j = 0; j < 16; j++) out.put((byte) sc[j]);
        for (int h = 0; h < 256; h += 128) {
            for (int l = 0; l < 32; l++) {
                out.put((byte) (L[h + l] | L[h + l + 32] << 2 | L[h + l + 64] << 4 | L[h + l + 96] << 6));
            }
        }
        out.putShort(d);
        out.putShort(dmin);
    }

    /**
     * Symmetric quantization of n values to [-nmax, nmax - 1] with the scale refined by a few
     * rounds of weighted (x^2) coordinate descent; levels + nmax into L[lo..), returns the scale.
     */
    private static float makeQ3(int n, int nmax, float[] x, int o, int[] L, int lo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[o + i]);
            if (ax > amax) { amax = ax; max = x[o + i]; }
        }
        if (amax < 1e-15f) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[o + i])));
            L[lo + i] = l;
            float w = x[o + i] * x[o + i];
            sumlx += w * x[o + i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[o + i], w = xi * xi;
                float slx = sumlx - w * xi * L[lo + i];
                if (slx > 0) {
                    float sl2 = suml2 - w * L[lo + i] * L[lo + i];
                    int nl = Math.max(-nmax, Math.min(nmax - 1, nearestInt(xi * sl2 / slx)));
                    if (nl != L[lo + i]) {
                        slx += w * xi * nl;
                        sl2 += w * nl * nl;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[lo + i] = nl;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++) L[lo + i] += nmax;
        return sumlx / suml2;
    }

    /** Q3_K: 16 runs of 16 with a signed 6-bit scale against fp16 d; 2 low bits in qs, the third in hmask. */
    private static void q3_K(float[] x, int o, ByteBuffer out) {
        int[] L = new int[256];
        float[] scales = new float[16];
        float maxScale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = makeQ3(16, 4, x, o + 16 * j, L, 16 * j);
            float a = Math.abs(scales[j]);
            if (a > amax) { amax = a; maxScale = scales[j]; }
        }
        byte[] sc = new byte[12];
        short d = 0;
        if (maxScale != 0) {
            float iscale = -32f / maxScale;
            for (int j = 0; j < 16; j++) {
                int l = Math.max(-32, Math.min(31, (byte) nearestInt(iscale * scales[j]))) + 32;
                if (j < 8) sc[j] = (byte) (l & 0xF);
                else sc[j - 8] |= (byte) ((l & 0xF) << 4);
                sc[j % 4 + 8] |= (byte) ((l >> 4) << (2 * (j / 4)));
            }
            d = Float.floatToFloat16(1 / iscale);
        }
        for (int j = 0; j < 16; j++) {
            int low = j < 8 ? sc[j] & 0xF : (sc[j - 8] & 0xFF) >> 4;
            int s = (low | (((sc[8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3) << 4) - 32;
            float dj = Float.float16ToFloat(d) * s;
            if (dj == 0) continue;
            for (int i = 0; i < 16; i++) {
                L[16 * j + i] = Math.max(-4, Math.min(3, nearestInt(x[o + 16 * j + i] / dj))) + 4;
            }
        }
        byte[] hmask = new byte[32];
        for (int j = 0; j < 256; j++) {
            if (L[j] > 3) {
                hmask[j % 32] |= (byte) (1 << (j / 32));
                L[j] -= 4;
            }
        }
        out.put(hmask);
        for (int h = 0; h < 256; h += 128) {
            for (int l = 0; l < 32; l++) {
                out.put((byte) (L[h + l] | L[h + l + 32] << 2 | L[h + l + 64] << 4 | L[h + l + 96] << 6));
            }
        }
        out.put(sc);
        out.putShort(d);
    }

    /**
     * IQ4_XS: 8 sub-blocks of 32 on the non-linear levels, each with the best of 15 trial scales
     * (weights x^2), the scales then quantized to signed 6 bits against fp16 d = -max / 32.
     */
    private static void iq4_xs(float[] x, int o, ByteBuffer out) {
        int[] L = new int[256];
        float[] scales = new float[8];
        float maxScale = 0, amaxScale = 0;
        for (int ib = 0; ib < 8; ib++) {
            scales[ib] = iq4Scale(x, o + 32 * ib);
            if (Math.abs(scales[ib]) > amaxScale) { amaxScale = Math.abs(scales[ib]); maxScale = scales[ib]; }
        }
        float d = -maxScale / 32;
        short dh = Float.floatToFloat16(d);
        float id = d != 0 ? 1 / d : 0f;
        int scalesH = 0;
        byte[] scalesL = new byte[4];
        for (int ib = 0; ib < 8; ib++) {
            int l = Math.max(-32, Math.min(31, nearestInt(id * scales[ib])));
            float dl = d * l;
            float idl = dl != 0 ? 1 / dl : 0f;
            for (int j = 0; j < 32; j++) L[32 * ib + j] = nearestLevel(idl * x[o + 32 * ib + j]);
            l += 32;
            scalesL[ib / 2] |= (byte) ((l & 0xF) << (4 * (ib % 2)));
            scalesH |= (l >> 4) << (2 * ib);
        }
        out.putShort(dh);
        out.putShort((short) scalesH);
        out.put(scalesL);
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 16; j++) out.put((byte) (L[32 * i + j] | L[32 * i + 16 + j] << 4));
        }
    }
}
