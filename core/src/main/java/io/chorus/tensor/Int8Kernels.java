package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Quantized weights times 8-bit activations ({@link Q8Activations}) in plain Java: the fallback
 * when the native library is absent, computing bit for bit what core/src/main/c/chorus_int8.c
 * computes (see its header): per block, integer sums in 8 lanes of 4 products; a float lane
 * accumulator takes {@code fma(scale, (float) lane, acc)}; the lanes are summed pairwise at the
 * end and the weight-minima term is added (or subtracted) last.
 *
 * <p>Each weight block of a row is decoded once (into a per-thread buffer) and used for all T
 * tokens; per-token accumulators live in per-thread scratch arrays, so nothing is allocated per
 * call once a thread has seen the largest batch.
 */
final class Int8Kernels {
    private Int8Kernels() {}

    private static final byte[] IQ4_NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** The activation layout type t multiplies with, or null when t has no 8-bit kernel. */
    static Q8Activations.Format format(GgmlType t) {
        return switch (t) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL, Q4_1, Q5_1 -> Q8Activations.Format.B32;
            case Q4_K, Q5_K, Q6_K, IQ4_XS, Q2_K, Q3_K -> Q8Activations.Format.K256;
            default -> null;
        };
    }

    private static final class Scratch {
        float[] acc = new float[0];   // [T][8] lane accumulators of one row
        float[] mn = new float[0];    // [T] minima terms of one row
        final byte[] w = new byte[256]; // one decoded weight block
        final int[] sc = new int[16], m = new int[8];
        final int[] lane = new int[8];

        void ensure(int T) {
            if (mn.length < T) {
                acc = new float[T * 8];
                mn = new float[T];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** out[t * outStride + r] = W[r] . x[t] for r in [r0, r1), t in [0, T), x in {@link #format}(W.type()). */
    static void matmul(WeightMatrix wm, byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        Scratch s = SCRATCH.get();
        s.ensure(T);
        GgmlType type = wm.type();
        int xs = (int) Q8Activations.rowBytes(format(type), wm.cols);
        for (int r = r0; r < r1; r++) {
            java.util.Arrays.fill(s.acc, 0, T * 8, 0f);
            java.util.Arrays.fill(s.mn, 0, T, 0f);
            if (format(type) == Q8Activations.Format.B32) row32(wm, r, xq, xs, T, s);
            else if (type == GgmlType.Q6_K) rowQ6K(wm, r, xq, xs, T, s);
            else if (type == GgmlType.IQ4_XS) rowIQ4XS(wm, r, xq, xs, T, s);
            else if (type == GgmlType.Q2_K || type == GgmlType.Q3_K) rowQK23(wm, r, xq, xs, T, s, type == GgmlType.Q3_K);
            else rowQK45(wm, r, xq, xs, T, s, type == GgmlType.Q5_K);
            // as the native kernel ends each type: minus the K-quant minima, plus the 32-block ones; Q6_K, Q3_K and IQ4_XS have none
            boolean subtract = type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q2_K;
            boolean alone = type == GgmlType.Q6_K || type == GgmlType.IQ4_XS || type == GgmlType.Q3_K;
            for (int t = 0; t < T; t++) {
                float h = hsum8(s.acc, t * 8);
                out[t * outStride + r] = alone ? h : subtract ? h - s.mn[t] : h + s.mn[t];
            }
        }
    }

    /** Lane sum in the kernels' fixed order: i + 4, i + 2, i + 1. */
    static float hsum8(float[] a, int o) {
        float t0 = a[o] + a[o + 4], t1 = a[o + 1] + a[o + 5], t2 = a[o + 2] + a[o + 6], t3 = a[o + 3] + a[o + 7];
        t0 += t2;
        t1 += t3;
        return t0 + t1;
    }

    // ---- 32-value blocks ----

    private static void row32(WeightMatrix wm, int r, byte[] xq, int xs, int T, Scratch s) {
        GgmlType type = wm.type();
        MemorySegment data = wm.data;
        int bytes = type.typeSize;
        int nb = wm.cols / 32;
        boolean signed = type != GgmlType.Q4_1 && type != GgmlType.Q5_1;
        byte[] w = s.w;
        long base = (long) r * wm.rowBytes();
        for (int b = 0; b < nb; b++) {
            long p = base + (long) b * bytes;
            float d = half(data, p), m = 0;
            switch (type) {
                case Q8_0 -> MemorySegment.copy(data, ValueLayout.JAVA_BYTE, p + 2, w, 0, 32);
                case Q4_0 -> nibbles(data, p + 2, w, -8);
                case IQ4_NL -> {
                    nibbles(data, p + 2, w, 0);
                    for (int j = 0; j < 32; j++) w[j] = IQ4_NL_VALUES[w[j]];
                }
                case Q4_1 -> {
                    m = half(data, p + 2);
                    nibbles(data, p + 4, w, 0);
                }
                case Q5_0 -> {
                    nibbles(data, p + 6, w, 0);
                    fifthBits(data.get(TiledMatrix.LE_INT, p + 2), w, -16);
                }
                case Q5_1 -> {
                    m = half(data, p + 2);
                    nibbles(data, p + 8, w, 0);
                    fifthBits(data.get(TiledMatrix.LE_INT, p + 4), w, 0);
                }
                default -> throw new IllegalArgumentException("no 8-bit kernel for " + type);
            }
            int[] lane = s.lane;
            for (int t = 0; t < T; t++) {
                int a = t * xs + b * Q8Activations.B32_BYTES;
                float dy = Q8Activations.getFloat(xq, a);
                for (int i = 0; i < 8; i++) {
                    int k = 4 * i, y = a + 8 + k;
                    // signed weights go through |w| x sign(y, w) in the native kernel: the same integers
                    lane[i] = w[k] * xq[y] + w[k + 1] * xq[y + 1] + w[k + 2] * xq[y + 2] + w[k + 3] * xq[y + 3];
                }
                float scale = d * dy;
                int o = t * 8;
                for (int i = 0; i < 8; i++) s.acc[o + i] = Math.fma(scale, (float) lane[i], s.acc[o + i]);
                if (!signed) s.mn[t] = Math.fma(m, Q8Activations.getFloat(xq, a + 4), s.mn[t]);
            }
        }
    }

    /** 16 bytes of nibbles at p into w[0..32): low nibbles first, each plus {@code add}. */
    private static void nibbles(MemorySegment data, long p, byte[] w, int add) {
        for (int j = 0; j < 16; j++) {
            int q = data.get(ValueLayout.JAVA_BYTE, p + j) & 0xFF;
            w[j] = (byte) ((q & 0xF) + add);
            w[j + 16] = (byte) ((q >> 4) + add);
        }
    }

    /** Adds bit j of qh as 16 to w[j] (already holding a nibble), then {@code add}. */
    private static void fifthBits(int qh, byte[] w, int add) {
        for (int j = 0; j < 32; j++) w[j] = (byte) (w[j] + ((qh >>> j) & 1) * 16 + add);
    }

    // ---- 256-value super-blocks ----

    private static void rowQK45(WeightMatrix wm, int r, byte[] xq, int xs, int T, Scratch s, boolean q5) {
        MemorySegment data = wm.data;
        int bytes = q5 ? 176 : 144;
        int nb = wm.cols / 256;
        byte[] w = s.w;
        int[] sc = s.sc, m = s.m, lane = s.lane;
        long base = (long) r * wm.rowBytes();
        for (int b = 0; b < nb; b++) {
            long p = base + (long) b * bytes;
            float d = half(data, p), dmin = half(data, p + 2);
            for (int j = 0; j < 8; j++) {
                int q0 = u8(data, p + 4 + j);
                if (j < 4) {
                    sc[j] = q0 & 63;
                    m[j] = u8(data, p + 8 + j) & 63;
                } else {
                    int q4 = u8(data, p + 8 + j);
                    sc[j] = (q4 & 0xF) | ((u8(data, p + j) >> 6) << 4);
                    m[j] = (q4 >> 4) | ((q0 >> 6) << 4);
                }
            }
            long qs = p + (q5 ? 48 : 16);
            for (int c = 0; c < 8; c++) {
                for (int l = 0; l < 32; l++) {
                    int q = u8(data, qs + 32 * (c >> 1) + l);
                    int v = (c & 1) == 0 ? q & 0xF : q >> 4;
                    if (q5) v |= ((u8(data, p + 16 + l) >> c) & 1) << 4;
                    w[32 * c + l] = (byte) v;
                }
            }
            for (int t = 0; t < T; t++) {
                int a = t * xs + b * Q8Activations.K_BYTES;
                java.util.Arrays.fill(lane, 0);
                for (int c = 0; c < 8; c++) {
                    for (int i = 0; i < 8; i++) {
                        int k = 32 * c + 4 * i, y = a + 4 + k;
                        lane[i] += sc[c] * (w[k] * xq[y] + w[k + 1] * xq[y + 1] + w[k + 2] * xq[y + 2] + w[k + 3] * xq[y + 3]);
                    }
                }
                int mi = 0;
                for (int c = 0; c < 8; c++) mi += m[c] * Q8Activations.getShort(xq, a + 292 + 2 * c);
                float dy = Q8Activations.getFloat(xq, a);
                float scale = d * dy;
                int o = t * 8;
                for (int i = 0; i < 8; i++) s.acc[o + i] = Math.fma(scale, (float) lane[i], s.acc[o + i]);
                s.mn[t] = Math.fma(dmin * dy, (float) mi, s.mn[t]);
            }
        }
    }

    private static void rowQ6K(WeightMatrix wm, int r, byte[] xq, int xs, int T, Scratch s) {
        MemorySegment data = wm.data;
        int nb = wm.cols / 256;
        byte[] w = s.w;
        int[] sc = s.sc, lane = s.lane;
        long base = (long) r * wm.rowBytes();
        for (int b = 0; b < nb; b++) {
            long p = base + (long) b * 210;
            float d = half(data, p + 208);
            for (int j = 0; j < 16; j++) sc[j] = data.get(ValueLayout.JAVA_BYTE, p + 192 + j);
            for (int c = 0; c < 8; c++) {
                int h = c >> 2, k = c & 3;
                for (int l = 0; l < 32; l++) {
                    int ql = u8(data, p + 64 * h + 32 * (k & 1) + l);
                    int lo = (k & 2) == 0 ? ql & 0xF : ql >> 4;
                    int hi = (u8(data, p + 128 + 32 * h + l) >> (2 * k)) & 3;
                    w[32 * c + l] = (byte) (lo | hi << 4); // unsigned: the value plus 32
                }
            }
            for (int t = 0; t < T; t++) {
                int a = t * xs + b * Q8Activations.K_BYTES;
                java.util.Arrays.fill(lane, 0);
                for (int c = 0; c < 8; c++) {
                    for (int i = 0; i < 8; i++) {
                        int k = 32 * c + 4 * i, y = a + 4 + k;
                        int scale = sc[2 * c + (i >> 2)];
                        lane[i] += scale * (w[k] * xq[y] + w[k + 1] * xq[y + 1] + w[k + 2] * xq[y + 2] + w[k + 3] * xq[y + 3]);
                    }
                }
                for (int i = 0; i < 8; i++) {
                    int off = sc[2 * i] * Q8Activations.getShort(xq, a + 260 + 4 * i)
                            + sc[2 * i + 1] * Q8Activations.getShort(xq, a + 262 + 4 * i);
                    lane[i] -= 32 * off;
                }
                float scale = d * Q8Activations.getFloat(xq, a);
                int o = t * 8;
                for (int i = 0; i < 8; i++) s.acc[o + i] = Math.fma(scale, (float) lane[i], s.acc[o + i]);
            }
        }
    }

    /** Q2_K (unsigned 2-bit, 4-bit scale and minimum per 16) or Q3_K (u - 4, signed 6-bit scale per 16). */
    private static void rowQK23(WeightMatrix wm, int r, byte[] xq, int xs, int T, Scratch s, boolean q3) {
        MemorySegment data = wm.data;
        int bytes = q3 ? 110 : 84;
        int nb = wm.cols / 256;
        byte[] w = s.w;
        int[] sc = s.sc, lane = s.lane;
        long base = (long) r * wm.rowBytes();
        for (int b = 0; b < nb; b++) {
            long p = base + (long) b * bytes;
            float d = half(data, p + (q3 ? 108 : 80)), dmin = q3 ? 0 : half(data, p + 82);
            for (int k = 0; k < 16; k++) {
                if (q3) {
                    int lo = k < 8 ? u8(data, p + 96 + k) & 0xF : u8(data, p + 96 + k - 8) >> 4;
                    sc[k] = (lo | ((u8(data, p + 104 + k % 4) >> (2 * (k / 4))) & 3) << 4) - 32;
                } else {
                    sc[k] = u8(data, p + k) & 0xF;
                }
            }
            for (int c = 0; c < 8; c++) {
                for (int l = 0; l < 32; l++) {
                    int v = (u8(data, p + (q3 ? 32 : 16) + 32 * (c >> 2) + l) >> (2 * (c & 3))) & 3;
                    if (q3) v |= ((u8(data, p + l) >> c) & 1) << 2;
                    w[32 * c + l] = (byte) v;
                }
            }
            for (int t = 0; t < T; t++) {
                int a = t * xs + b * Q8Activations.K_BYTES;
                java.util.Arrays.fill(lane, 0);
                for (int c = 0; c < 8; c++) {
                    for (int i = 0; i < 8; i++) {
                        int k = 32 * c + 4 * i, y = a + 4 + k;
                        lane[i] += sc[2 * c + (i >> 2)] * (w[k] * xq[y] + w[k + 1] * xq[y + 1] + w[k + 2] * xq[y + 2] + w[k + 3] * xq[y + 3]);
                    }
                }
                float dy = Q8Activations.getFloat(xq, a);
                if (q3) {
                    for (int i = 0; i < 8; i++) {
                        lane[i] -= 4 * (sc[2 * i] * Q8Activations.getShort(xq, a + 260 + 4 * i)
                                + sc[2 * i + 1] * Q8Activations.getShort(xq, a + 262 + 4 * i));
                    }
                } else {
                    int mi = 0;
                    for (int k = 0; k < 16; k++) mi += (u8(data, p + k) >> 4) * Q8Activations.getShort(xq, a + 260 + 2 * k);
                    s.mn[t] = Math.fma(dmin * dy, (float) mi, s.mn[t]);
                }
                float scale = d * dy;
                int o = t * 8;
                for (int i = 0; i < 8; i++) s.acc[o + i] = Math.fma(scale, (float) lane[i], s.acc[o + i]);
            }
        }
    }

    private static void rowIQ4XS(WeightMatrix wm, int r, byte[] xq, int xs, int T, Scratch s) {
        MemorySegment data = wm.data;
        int nb = wm.cols / 256;
        byte[] w = s.w;
        int[] sc = s.sc, lane = s.lane;
        long base = (long) r * wm.rowBytes();
        for (int b = 0; b < nb; b++) {
            long p = base + (long) b * 136;
            float d = half(data, p);
            int sh = data.get(TiledMatrix.LE_SHORT, p + 2) & 0xFFFF, sl = data.get(TiledMatrix.LE_INT, p + 4);
            for (int c = 0; c < 8; c++) {
                sc[c] = ((sl >>> (4 * c) & 0xF) | (sh >>> (2 * c) & 3) << 4) - 32;
                for (int l = 0; l < 16; l++) {
                    int q = u8(data, p + 8 + 16 * c + l);
                    w[32 * c + l] = IQ4_NL_VALUES[q & 0xF];
                    w[32 * c + 16 + l] = IQ4_NL_VALUES[q >> 4];
                }
            }
            for (int t = 0; t < T; t++) {
                int a = t * xs + b * Q8Activations.K_BYTES;
                java.util.Arrays.fill(lane, 0);
                for (int c = 0; c < 8; c++) {
                    for (int i = 0; i < 8; i++) {
                        int k = 32 * c + 4 * i, y = a + 4 + k;
                        lane[i] += sc[c] * (w[k] * xq[y] + w[k + 1] * xq[y + 1] + w[k + 2] * xq[y + 2] + w[k + 3] * xq[y + 3]);
                    }
                }
                float scale = d * Q8Activations.getFloat(xq, a);
                int o = t * 8;
                for (int i = 0; i < 8; i++) s.acc[o + i] = Math.fma(scale, (float) lane[i], s.acc[o + i]);
            }
        }
    }

    private static float half(MemorySegment data, long off) {
        return Float.float16ToFloat(data.get(TiledMatrix.LE_SHORT, off));
    }

    private static int u8(MemorySegment data, long off) {
        return data.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }
}
