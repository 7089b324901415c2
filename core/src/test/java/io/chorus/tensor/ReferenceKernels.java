package io.chorus.tensor;

/**
 * Plain scalar dequantizers written straight from the GGUF block layouts, byte by byte, used as
 * the reference the fast kernels are tested against. Deliberately shares no code with main.
 */
final class ReferenceKernels {
    private ReferenceKernels() {}

    static int u8(byte[] b, int i) { return b[i] & 0xFF; }

    /** llama.cpp's kvalues_iq4nl, written out here again so the test shares nothing with main. */
    static final int[] IQ4_NL_LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    static float half(byte[] b, int i) {
        return Float.float16ToFloat((short) (u8(b, i) | (u8(b, i + 1) << 8)));
    }

    /** All rows*cols values of a tensor stored in {@code type}. */
    static float[] dequantize(GgmlType type, byte[] b, int n) {
        float[] y = new float[n];
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    int bits = u8(b, 4 * i) | u8(b, 4 * i + 1) << 8 | u8(b, 4 * i + 2) << 16 | u8(b, 4 * i + 3) << 24;
                    y[i] = Float.intBitsToFloat(bits);
                }
            }
            case F16 -> { for (int i = 0; i < n; i++) y[i] = half(b, 2 * i); }
            case BF16 -> {
                for (int i = 0; i < n; i++) y[i] = Float.intBitsToFloat((u8(b, 2 * i) | u8(b, 2 * i + 1) << 8) << 16);
            }
            case Q8_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int o = 34 * blk;
                    float d = half(b, o);
                    for (int j = 0; j < 32; j++) y[32 * blk + j] = d * b[o + 2 + j];
                }
            }
            case Q4_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int o = 18 * blk;
                    float d = half(b, o);
                    for (int j = 0; j < 16; j++) {
                        y[32 * blk + j] = ((u8(b, o + 2 + j) & 0xF) - 8) * d;
                        y[32 * blk + j + 16] = ((u8(b, o + 2 + j) >> 4) - 8) * d;
                    }
                }
            }
            case Q4_1 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int o = 20 * blk;
                    float d = half(b, o), m = half(b, o + 2);
                    for (int j = 0; j < 16; j++) {
                        y[32 * blk + j] = (u8(b, o + 4 + j) & 0xF) * d + m;
                        y[32 * blk + j + 16] = (u8(b, o + 4 + j) >> 4) * d + m;
                    }
                }
            }
            case Q5_0, Q5_1 -> {
                boolean min = type == GgmlType.Q5_1;
                int size = min ? 24 : 22, qh = min ? 4 : 2;
                for (int blk = 0; blk < n / 32; blk++) {
                    int o = size * blk;
                    float d = half(b, o), m = min ? half(b, o + 2) : 0;
                    long h = u8(b, o + qh) | u8(b, o + qh + 1) << 8 | u8(b, o + qh + 2) << 16 | (long) u8(b, o + qh + 3) << 24;
                    for (int j = 0; j < 16; j++) {
                        int q0 = (u8(b, o + qh + 4 + j) & 0xF) | (int) ((h >> j) & 1) << 4;
                        int q1 = (u8(b, o + qh + 4 + j) >> 4) | (int) ((h >> (j + 16)) & 1) << 4;
                        if (min) {
                            y[32 * blk + j] = q0 * d + m;
                            y[32 * blk + j + 16] = q1 * d + m;
                        } else {
                            y[32 * blk + j] = (q0 - 16) * d;
                            y[32 * blk + j + 16] = (q1 - 16) * d;
                        }
                    }
                }
            }
            case IQ4_NL -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int o = 18 * blk;
                    float d = half(b, o);
                    for (int j = 0; j < 16; j++) {
                        y[32 * blk + j] = d * IQ4_NL_LEVELS[u8(b, o + 2 + j) & 0xF];
                        y[32 * blk + j + 16] = d * IQ4_NL_LEVELS[u8(b, o + 2 + j) >> 4];
                    }
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = type == GgmlType.Q5_K;
                int size = five ? 176 : 144;
                for (int blk = 0; blk < n / 256; blk++) {
                    int o = size * blk;
                    float d = half(b, o), dmin = half(b, o + 2);
                    int scales = o + 4, qh = o + 16, qs = five ? o + 48 : o + 16;
                    for (int c = 0; c < 4; c++) {
                        int is = 2 * c;
                        for (int l = 0; l < 32; l++) {
                            int q = u8(b, qs + 32 * c + l);
                            int lo = q & 0xF, hi = q >> 4;
                            if (five) {
                                if ((u8(b, qh + l) & (1 << (2 * c))) != 0) lo += 16;
                                if ((u8(b, qh + l) & (1 << (2 * c + 1))) != 0) hi += 16;
                            }
                            y[256 * blk + 64 * c + l] = d * sc(b, scales, is) * lo - dmin * m(b, scales, is);
                            y[256 * blk + 64 * c + 32 + l] = d * sc(b, scales, is + 1) * hi - dmin * m(b, scales, is + 1);
                        }
                    }
                }
            }
            case Q6_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int o = 210 * blk;
                    float d = half(b, o + 208);
                    for (int h = 0; h < 2; h++) {
                        int ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h, y0 = 256 * blk + 128 * h;
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int q1 = ((u8(b, ql + l) & 0xF) | (((u8(b, qh + l) >> 0) & 3) << 4)) - 32;
                            int q2 = ((u8(b, ql + l + 32) & 0xF) | (((u8(b, qh + l) >> 2) & 3) << 4)) - 32;
                            int q3 = ((u8(b, ql + l) >> 4) | (((u8(b, qh + l) >> 4) & 3) << 4)) - 32;
                            int q4 = ((u8(b, ql + l + 32) >> 4) | (((u8(b, qh + l) >> 6) & 3) << 4)) - 32;
                            y[y0 + l] = d * b[sc + is] * q1;
                            y[y0 + l + 32] = d * b[sc + is + 2] * q2;
                            y[y0 + l + 64] = d * b[sc + is + 4] * q3;
                            y[y0 + l + 96] = d * b[sc + is + 6] * q4;
                        }
                    }
                }
            }
            case Q2_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int o = 84 * blk, yi = 256 * blk, is = 0;
                    float d = half(b, o + 80), min = half(b, o + 82);
                    for (int q = o + 16; q < o + 80; q += 32) {     // two halves of 128 values
                        for (int shift = 0; shift < 8; shift += 2) {
                            for (int k = 0; k < 32; k += 16) {       // two runs of 16 per shift
                                int sc = u8(b, o + is++);
                                for (int l = 0; l < 16; l++) {
                                    y[yi++] = d * (sc & 0xF) * ((u8(b, q + k + l) >> shift) & 3) - min * (sc >> 4);
                                }
                            }
                        }
                    }
                }
            }
            case Q3_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int o = 110 * blk, yi = 256 * blk, is = 0, bit = 1;
                    float d = half(b, o + 108);
                    for (int q = o + 32; q < o + 96; q += 32) {
                        for (int shift = 0; shift < 8; shift += 2, bit <<= 1) {
                            for (int k = 0; k < 32; k += 16) {
                                int s = is++;
                                int low = s < 8 ? u8(b, o + 96 + s) & 0xF : u8(b, o + 96 + s - 8) >> 4;
                                int high = (u8(b, o + 96 + 8 + s % 4) >> (2 * (s / 4))) & 3;
                                int sc = (low | high << 4) - 32;
                                for (int l = 0; l < 16; l++) {
                                    int q2 = (u8(b, q + k + l) >> shift) & 3;
                                    int h = (u8(b, o + k + l) & bit) != 0 ? 0 : 4;
                                    y[yi++] = d * sc * (q2 - h);
                                }
                            }
                        }
                    }
                }
            }
            case IQ4_XS -> {
                int[] kv = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
                for (int blk = 0; blk < n / 256; blk++) {
                    int o = 136 * blk;
                    float d = half(b, o);
                    int scalesH = u8(b, o + 2) | u8(b, o + 3) << 8;
                    for (int ib = 0; ib < 8; ib++) {
                        int ls = ((u8(b, o + 4 + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
                        float dl = d * (ls - 32);
                        for (int j = 0; j < 16; j++) {
                            int q = u8(b, o + 8 + 16 * ib + j);
                            y[256 * blk + 32 * ib + j] = dl * kv[q & 0xF];
                            y[256 * blk + 32 * ib + 16 + j] = dl * kv[q >> 4];
                        }
                    }
                }
            }
            default -> throw new IllegalArgumentException(type.name());
        }
        return y;
    }

    static int sc(byte[] b, int s, int j) {
        return j < 4 ? u8(b, s + j) & 63 : (u8(b, s + j + 4) & 0xF) | ((u8(b, s + j - 4) >> 6) << 4);
    }

    static int m(byte[] b, int s, int j) {
        return j < 4 ? u8(b, s + j + 4) & 63 : (u8(b, s + j + 4) >> 4) | ((u8(b, s + j) >> 6) << 4);
    }

    /** out[t][r] in double precision, plus sum |w * x| (for a tolerance) in mag. */
    static double[] matmul(float[] w, int rows, int cols, float[] x, int T, double[] mag) {
        double[] out = new double[T * rows];
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0, a = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double) w[r * cols + c] * x[t * cols + c];
                    s += p;
                    a += Math.abs(p);
                }
                out[t * rows + r] = s;
                mag[t * rows + r] = a;
            }
        }
        return out;
    }
}
