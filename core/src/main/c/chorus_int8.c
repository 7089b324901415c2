/*
 * Chorus 8-bit activation kernels: quantized weights times activations that were rounded to 8 bits
 * once per row (io.chorus.tensor.Q8Activations), with integer dot products.
 *
 * out[t * outStride + r] = W[r] . x[t]  for r in [r0, r1), t in [0, T)
 *
 * Activation rows, one after the other, in one of two layouts (all little-endian):
 *   A32 (types with 32-value blocks), 40 bytes a block: float d, float s = fp16(d * sum q), int8 q[32]
 *   AK  (256-value super-blocks),    308 bytes a block: float d, int8 q[256], int16 bsum16[16], int16 bsum32[8]
 *
 * The result of one (row, token) pair is defined lane by lane so that the Java twin
 * (io.chorus.tensor.Int8Kernels) reproduces it bit for bit: a 32-value chunk's integer products
 * are summed into 8 int32 lanes, lane i holding bytes 4i..4i+3 (exact integers); each block adds
 * scale * (float) lane to a float lane accumulator with one fused multiply-add; the 8 lanes are
 * summed pairwise (i + 4, i + 2, i + 1) at the end, and a per-pair scalar term (weight minima)
 * is added or subtracted last. Every pair runs the same operations whatever the row tile or the
 * number of tokens, so a row's output does not depend on the batch.
 *
 * AVX2: u8 x s8 products by _mm256_maddubs_epi16 + _mm256_madd_epi16 (signed weights through the
 * sign trick, |w| x sign(y, w)). Where AVX-512 VNNI is compiled in, _mm256_dpbusd_epi32 does the
 * same in one instruction; no pair of bytes can saturate maddubs' 16-bit sums here (|w| <= 128,
 * |y| <= 127), so both give identical integers. The vectors stay 256-bit in every build so the
 * lanes, and so the results, are the same on every variant.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))
#define EXPORT __attribute__((visibility("default")))

#define A32 40
#define AK 308

INLINE float f16at(const uint8_t* p) { uint16_t h; memcpy(&h, p, 2); return _cvtsh_ss(h); }
INLINE float f32at(const uint8_t* p) { float f; memcpy(&f, p, 4); return f; }
INLINE __m256i load32(const uint8_t* p) { return _mm256_loadu_si256((const __m256i*)p); }
INLINE __m128i load16(const uint8_t* p) { return _mm_loadu_si128((const __m128i*)p); }

/* 8 int32 lanes: lane i = sum of u[k] * s[k] for k in 4i..4i+3 (u unsigned, s signed). */
INLINE __m256i dot_us(__m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}
/* The same for signed weights w: |w| x (y with w's sign). */
INLINE __m256i dot_ss(__m256i w, __m256i y) {
    return dot_us(_mm256_sign_epi8(w, w), _mm256_sign_epi8(y, w));
}
/* Lane i = sc * sum of u[k] * s[k], k in 4i..4i+3, for a 16-bit scale vector (per half). */
INLINE __m256i dot_us_scaled(__m256i u, __m256i s, __m256i sc16) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    /* both 16-bit halves of each 32-bit lane hold the scale: sign-extend the low one */
    __m256i sc32 = _mm256_srai_epi32(_mm256_slli_epi32(sc16, 16), 16);
    return _mm256_mullo_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s), sc32);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), sc16);
#endif
}

INLINE float hsum8(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < 4; i++) t[i] += t[i + 4];
    for (int i = 0; i < 2; i++) t[i] += t[i + 2];
    return t[0] + t[1];
}

/* 0xFF in byte j where bit j of x is set. */
INLINE __m256i bits_to_bytes(uint32_t x) {
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x),
            _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, sel), sel);
}
/* 16 bytes of nibbles -> 32 values: low nibbles first, then high nibbles. */
INLINE __m256i nibbles(const uint8_t* p) {
    __m128i q = load16(p);
    __m128i m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

/* ---- 32-value block types: decode one block to 32 bytes, a scale d and a minimum m ---- */

typedef struct { __m256i w; float d, m; } blk32;

INLINE blk32 dec_q8_0(const uint8_t* b) { return (blk32){load32(b + 2), f16at(b), 0}; }
INLINE blk32 dec_q4_0(const uint8_t* b) {
    return (blk32){_mm256_sub_epi8(nibbles(b + 2), _mm256_set1_epi8(8)), f16at(b), 0};
}
INLINE blk32 dec_q4_1(const uint8_t* b) { return (blk32){nibbles(b + 4), f16at(b), f16at(b + 2)}; }
INLINE blk32 dec_q5_0(const uint8_t* b) {
    uint32_t qh; memcpy(&qh, b + 2, 4);
    __m256i u = _mm256_or_si256(nibbles(b + 6), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
    return (blk32){_mm256_sub_epi8(u, _mm256_set1_epi8(16)), f16at(b), 0};
}
INLINE blk32 dec_q5_1(const uint8_t* b) {
    uint32_t qh; memcpy(&qh, b + 4, 4);
    __m256i u = _mm256_or_si256(nibbles(b + 8), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
    return (blk32){u, f16at(b), f16at(b + 2)};
}
INLINE blk32 dec_iq4_nl(const uint8_t* b) {
    const __m256i lut = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return (blk32){_mm256_shuffle_epi8(lut, nibbles(b + 2)), f16at(b), 0};
}

/*
 * R rows x N tokens of a 32-value type. SIGNED: weights are signed bytes (sign trick); else
 * unsigned with a minimum: value = d q + m, whose sum over a block is m * s of the activation.
 */
#define TILE32(NAME, BYTES, SIGNED)                                                                  \
INLINE void tile_##NAME(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,          \
                        float* out, int os, int r, int t, const int R, const int N) {                \
    __m256 acc[4][4];                                                                               \
    float mn[4][4];                                                                                 \
    for (int i = 0; i < R; i++)                                                                     \
        for (int j = 0; j < N; j++) { acc[i][j] = _mm256_setzero_ps(); mn[i][j] = 0; }              \
    const uint8_t* w0 = W + (int64_t)r * rb;                                                        \
    const uint8_t* x0 = X + (int64_t)t * xs;                                                        \
    for (int b = 0; b < nb; b++) {                                                                  \
        blk32 k[4];                                                                                 \
        for (int i = 0; i < R; i++) k[i] = dec_##NAME(w0 + i * rb + (int64_t)b * BYTES);            \
        for (int j = 0; j < N; j++) {                                                               \
            const uint8_t* a = x0 + j * xs + (int64_t)b * A32;                                      \
            float dy = f32at(a);                                                                    \
            __m256i y = load32(a + 8);                                                              \
            for (int i = 0; i < R; i++) {                                                           \
                __m256i p = SIGNED ? dot_ss(k[i].w, y) : dot_us(k[i].w, y);                         \
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(k[i].d * dy), _mm256_cvtepi32_ps(p), acc[i][j]); \
                if (!SIGNED) mn[i][j] = __builtin_fmaf(k[i].m, f32at(a + 4), mn[i][j]);             \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    for (int j = 0; j < N; j++)                                                                     \
        for (int i = 0; i < R; i++) out[(int64_t)(t + j) * os + r + i] = hsum8(acc[i][j]) + mn[i][j]; \
}

TILE32(q8_0, 34, 1)
TILE32(q4_0, 18, 1)
TILE32(q5_0, 22, 1)
TILE32(iq4_nl, 18, 1)
TILE32(q4_1, 20, 0)
TILE32(q5_1, 24, 0)

/* ---- 256-value super-block types ---- */

/* Q4_K / Q5_K 6-bit scales and minima of sub-block j. */
INLINE void scale_min_k4(const uint8_t* q, int j, int* sc, int* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* Unsigned 32-value chunk c (0..7) of a Q4_K super-block. */
INLINE __m256i chunk_q4_k(const uint8_t* b, int c) {
    __m256i q = load32(b + 16 + 32 * (c >> 1));
    if (c & 1) q = _mm256_srli_epi16(q, 4);
    return _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
}
INLINE __m256i chunk_q5_k(const uint8_t* b, int c) {
    __m256i q = load32(b + 48 + 32 * (c >> 1));
    if (c & 1) q = _mm256_srli_epi16(q, 4);
    q = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
    __m256i h = _mm256_and_si256(load32(b + 16), _mm256_set1_epi8((char)(1 << c)));
    __m256i hi = _mm256_and_si256(_mm256_cmpeq_epi8(h, _mm256_set1_epi8((char)(1 << c))), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(q, hi);
}
/* Unsigned 6-bit chunk c of a Q6_K super-block (value + 32). */
INLINE __m256i chunk_q6_k(const uint8_t* b, int c) {
    int h = c >> 2, k = c & 3;
    __m256i ql = load32(b + 64 * h + 32 * (k & 1));
    if (k & 2) ql = _mm256_srli_epi16(ql, 4);
    ql = _mm256_and_si256(ql, _mm256_set1_epi8(0x0F));
    __m256i qh = _mm256_srli_epi16(load32(b + 128 + 32 * h), 2 * k);
    qh = _mm256_and_si256(qh, _mm256_set1_epi8(0x03));
    return _mm256_or_si256(ql, _mm256_slli_epi16(qh, 4));
}

/*
 * R rows x N tokens of Q4_K (Q5 = 0) or Q5_K (Q5 = 1): per super-block, lane sums scaled by the
 * 6-bit sub-block scales in int32, then one fused multiply-add by d dy; the minima term
 * dmin dy sum_j m_j bsum32_j is kept per pair and subtracted at the end.
 */
INLINE void tile_qk45(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N, const int Q5) {
    const int BYTES = Q5 ? 176 : 144;
    __m256 acc[4][4];
    float mn[4][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < N; j++) { acc[i][j] = _mm256_setzero_ps(); mn[i][j] = 0; }
    const uint8_t* w0 = W + (int64_t)r * rb;
    const uint8_t* x0 = X + (int64_t)t * xs;
    for (int b = 0; b < nb; b++) {
        int sc[4][8], m[4][8];
        const uint8_t* wb[4];
        for (int i = 0; i < R; i++) {
            wb[i] = w0 + i * rb + (int64_t)b * BYTES;
            for (int c = 0; c < 8; c++) scale_min_k4(wb[i] + 4, c, &sc[i][c], &m[i][c]);
        }
        __m256i is[4][4];
        for (int i = 0; i < R; i++)
            for (int j = 0; j < N; j++) is[i][j] = _mm256_setzero_si256();
        for (int c = 0; c < 8; c++) {
            __m256i u[4], s16[4];
            for (int i = 0; i < R; i++) {
                u[i] = Q5 ? chunk_q5_k(wb[i], c) : chunk_q4_k(wb[i], c);
                s16[i] = _mm256_set1_epi16((short)sc[i][c]);
            }
            for (int j = 0; j < N; j++) {
                __m256i y = load32(x0 + j * xs + (int64_t)b * AK + 4 + 32 * c);
                for (int i = 0; i < R; i++) is[i][j] = _mm256_add_epi32(is[i][j], dot_us_scaled(u[i], y, s16[i]));
            }
        }
        for (int j = 0; j < N; j++) {
            const uint8_t* a = x0 + j * xs + (int64_t)b * AK;
            float dy = f32at(a);
            int16_t bs[8];
            memcpy(bs, a + 4 + 256 + 32, 16);
            for (int i = 0; i < R; i++) {
                int mi = 0;
                for (int c = 0; c < 8; c++) mi += m[i][c] * bs[c];
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(f16at(wb[i]) * dy), _mm256_cvtepi32_ps(is[i][j]), acc[i][j]);
                mn[i][j] = __builtin_fmaf(f16at(wb[i] + 2) * dy, (float)mi, mn[i][j]);
            }
        }
    }
    for (int j = 0; j < N; j++)
        for (int i = 0; i < R; i++) out[(int64_t)(t + j) * os + r + i] = hsum8(acc[i][j]) - mn[i][j];
}
INLINE void tile_q4_k(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N) {
    tile_qk45(W, rb, nb, X, xs, out, os, r, t, R, N, 0);
}
INLINE void tile_q5_k(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N) {
    tile_qk45(W, rb, nb, X, xs, out, os, r, t, R, N, 1);
}

/*
 * Q6_K: unsigned 6-bit values (q + 32) times y, scaled per 16 values by the int8 scales; the
 * offset 32 sum_k sc_k bsum16_k is taken off in int32 (lane i: sub-blocks 2i, 2i + 1).
 */
INLINE void tile_q6_k(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N) {
    __m256 acc[4][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < N; j++) acc[i][j] = _mm256_setzero_ps();
    const uint8_t* w0 = W + (int64_t)r * rb;
    const uint8_t* x0 = X + (int64_t)t * xs;
    for (int b = 0; b < nb; b++) {
        const uint8_t* wb[4];
        __m256i scv[4];
        for (int i = 0; i < R; i++) {
            wb[i] = w0 + i * rb + (int64_t)b * 210;
            scv[i] = _mm256_cvtepi8_epi16(load16(wb[i] + 192));
        }
        __m256i is[4][4];
        for (int i = 0; i < R; i++)
            for (int j = 0; j < N; j++) is[i][j] = _mm256_setzero_si256();
        for (int c = 0; c < 8; c++) {
            __m256i u[4], s16[4];
            for (int i = 0; i < R; i++) {
                u[i] = chunk_q6_k(wb[i], c);
                const int8_t* sc = (const int8_t*)(wb[i] + 192);
                s16[i] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
            }
            for (int j = 0; j < N; j++) {
                __m256i y = load32(x0 + j * xs + (int64_t)b * AK + 4 + 32 * c);
                for (int i = 0; i < R; i++) is[i][j] = _mm256_add_epi32(is[i][j], dot_us_scaled(u[i], y, s16[i]));
            }
        }
        for (int j = 0; j < N; j++) {
            const uint8_t* a = x0 + j * xs + (int64_t)b * AK;
            float dy = f32at(a);
            __m256i bs = load32(a + 4 + 256);
            for (int i = 0; i < R; i++) {
                __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(scv[i], bs), 5);
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(f16at(wb[i] + 208) * dy),
                        _mm256_cvtepi32_ps(_mm256_sub_epi32(is[i][j], off)), acc[i][j]);
            }
        }
    }
    for (int j = 0; j < N; j++)
        for (int i = 0; i < R; i++) out[(int64_t)(t + j) * os + r + i] = hsum8(acc[i][j]);
}

/*
 * Q2_K (Q3 = 0) and Q3_K (Q3 = 1): unsigned 2- or 3-bit values times y, scaled per 16 values in
 * int32. Q2_K's 4-bit minima are summed with bsum16 into a scalar subtracted at the end (as for
 * Q4_K); Q3_K's values are u - 4 with signed 6-bit scales, the 4 sum_k sc_k bsum16_k taken off in
 * int32 lanes (as Q6_K's 32).
 */
INLINE void tile_qk23(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N, const int Q3) {
    const int BYTES = Q3 ? 110 : 84;
    __m256 acc[4][4];
    float mn[4][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < N; j++) { acc[i][j] = _mm256_setzero_ps(); mn[i][j] = 0; }
    const uint8_t* w0 = W + (int64_t)r * rb;
    const uint8_t* x0 = X + (int64_t)t * xs;
    for (int b = 0; b < nb; b++) {
        const uint8_t* wb[4];
        int8_t sc[4][16];
        for (int i = 0; i < R; i++) {
            wb[i] = w0 + i * rb + (int64_t)b * BYTES;
            for (int k = 0; k < 16; k++) {
                if (Q3) {
                    const uint8_t* s3 = wb[i] + 96;
                    int lo = k < 8 ? s3[k] & 0xF : s3[k - 8] >> 4;
                    sc[i][k] = (int8_t)((lo | (((s3[8 + k % 4] >> (2 * (k / 4))) & 3) << 4)) - 32);
                } else {
                    sc[i][k] = (int8_t)(wb[i][k] & 0xF);
                }
            }
        }
        __m256i is[4][4];
        for (int i = 0; i < R; i++)
            for (int j = 0; j < N; j++) is[i][j] = _mm256_setzero_si256();
        for (int c = 0; c < 8; c++) {
            __m256i u[4], s16[4];
            for (int i = 0; i < R; i++) {
                __m256i q = _mm256_srli_epi16(load32(wb[i] + (Q3 ? 32 : 16) + 32 * (c >> 2)), 2 * (c & 3));
                q = _mm256_and_si256(q, _mm256_set1_epi8(3));
                if (Q3) {
                    __m256i bit = _mm256_set1_epi8((char)(1 << c));
                    __m256i h = _mm256_cmpeq_epi8(_mm256_and_si256(load32(wb[i]), bit), bit);
                    q = _mm256_or_si256(q, _mm256_and_si256(h, _mm256_set1_epi8(4)));
                }
                u[i] = q;
                s16[i] = _mm256_set_m128i(_mm_set1_epi16(sc[i][2 * c + 1]), _mm_set1_epi16(sc[i][2 * c]));
            }
            for (int j = 0; j < N; j++) {
                __m256i y = load32(x0 + j * xs + (int64_t)b * AK + 4 + 32 * c);
                for (int i = 0; i < R; i++) is[i][j] = _mm256_add_epi32(is[i][j], dot_us_scaled(u[i], y, s16[i]));
            }
        }
        for (int j = 0; j < N; j++) {
            const uint8_t* a = x0 + j * xs + (int64_t)b * AK;
            float dy = f32at(a);
            int16_t bs[16];
            memcpy(bs, a + 4 + 256, 32);
            for (int i = 0; i < R; i++) {
                if (Q3) {
                    __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(load16((const uint8_t*)sc[i])),
                            load32(a + 4 + 256)), 2);
                    acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(f16at(wb[i] + 108) * dy),
                            _mm256_cvtepi32_ps(_mm256_sub_epi32(is[i][j], off)), acc[i][j]);
                } else {
                    int mi = 0;
                    for (int k = 0; k < 16; k++) mi += (wb[i][k] >> 4) * bs[k];
                    acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(f16at(wb[i] + 80) * dy), _mm256_cvtepi32_ps(is[i][j]), acc[i][j]);
                    mn[i][j] = __builtin_fmaf(f16at(wb[i] + 82) * dy, (float)mi, mn[i][j]);
                }
            }
        }
    }
    for (int j = 0; j < N; j++)
        for (int i = 0; i < R; i++) out[(int64_t)(t + j) * os + r + i] = Q3 ? hsum8(acc[i][j]) : hsum8(acc[i][j]) - mn[i][j];
}
INLINE void tile_q2_k(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N) {
    tile_qk23(W, rb, nb, X, xs, out, os, r, t, R, N, 0);
}
INLINE void tile_q3_k(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                      float* out, int os, int r, int t, const int R, const int N) {
    tile_qk23(W, rb, nb, X, xs, out, os, r, t, R, N, 1);
}

/*
 * IQ4_XS: signed table values (IQ4_NL's levels) per 32-value sub-block with a 6-bit scale minus 32;
 * the sign trick and the scale in int32, one fused multiply-add by d dy per super-block.
 */
INLINE void tile_iq4_xs(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,
                        float* out, int os, int r, int t, const int R, const int N) {
    const __m256i lut = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    __m256 acc[4][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < N; j++) acc[i][j] = _mm256_setzero_ps();
    const uint8_t* w0 = W + (int64_t)r * rb;
    const uint8_t* x0 = X + (int64_t)t * xs;
    for (int b = 0; b < nb; b++) {
        const uint8_t* wb[4];
        uint32_t sh[4], sl[4];
        for (int i = 0; i < R; i++) {
            wb[i] = w0 + i * rb + (int64_t)b * 136;
            uint16_t h; memcpy(&h, wb[i] + 2, 2);
            sh[i] = h;
            memcpy(&sl[i], wb[i] + 4, 4);
        }
        __m256i is[4][4];
        for (int i = 0; i < R; i++)
            for (int j = 0; j < N; j++) is[i][j] = _mm256_setzero_si256();
        for (int c = 0; c < 8; c++) {
            __m256i w[4], aw[4], s16[4];
            for (int i = 0; i < R; i++) {
                w[i] = _mm256_shuffle_epi8(lut, nibbles(wb[i] + 8 + 16 * c));
                aw[i] = _mm256_sign_epi8(w[i], w[i]);
                int ls = (int)(((sl[i] >> (4 * c)) & 0xF) | (((sh[i] >> (2 * c)) & 3) << 4)) - 32;
                s16[i] = _mm256_set1_epi16((short)ls);
            }
            for (int j = 0; j < N; j++) {
                __m256i y = load32(x0 + j * xs + (int64_t)b * AK + 4 + 32 * c);
                for (int i = 0; i < R; i++)
                    is[i][j] = _mm256_add_epi32(is[i][j], dot_us_scaled(aw[i], _mm256_sign_epi8(y, w[i]), s16[i]));
            }
        }
        for (int j = 0; j < N; j++) {
            float dy = f32at(x0 + j * xs + (int64_t)b * AK);
            for (int i = 0; i < R; i++)
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(f16at(wb[i]) * dy), _mm256_cvtepi32_ps(is[i][j]), acc[i][j]);
        }
    }
    for (int j = 0; j < N; j++)
        for (int i = 0; i < R; i++) out[(int64_t)(t + j) * os + r + i] = hsum8(acc[i][j]);
}

/*
 * One exported kernel per type. A single token runs tiles of 4 rows; a batch runs tiles of
 * 2 rows x NB tokens over a row pair whose weights stay in L1 while the tokens pass.
 */
#define EXPORT8(NAME, BS, XB, NB)                                                                   \
EXPORT void chorus_matmul8_##NAME(const uint8_t* w, int64_t rb, int cols, const uint8_t* x, int T,   \
                                  float* out, int os, int r0, int r1) {                             \
    int nb = cols / BS;                                                                             \
    int64_t xs = (int64_t)nb * XB;                                                                  \
    int r = r0;                                                                                     \
    if (T == 1) {                                                                                   \
        for (; r + 4 <= r1; r += 4) tile_##NAME(w, rb, nb, x, xs, out, os, r, 0, 4, 1);             \
        for (; r < r1; r++) tile_##NAME(w, rb, nb, x, xs, out, os, r, 0, 1, 1);                     \
        return;                                                                                     \
    }                                                                                               \
    for (; r + 2 <= r1; r += 2) {                                                                   \
        int t = 0;                                                                                  \
        for (; t + NB <= T; t += NB) tile_##NAME(w, rb, nb, x, xs, out, os, r, t, 2, NB);           \
        for (; t < T; t++) tile_##NAME(w, rb, nb, x, xs, out, os, r, t, 2, 1);                      \
    }                                                                                               \
    for (; r < r1; r++) {                                                                           \
        int t = 0;                                                                                  \
        for (; t + NB <= T; t += NB) tile_##NAME(w, rb, nb, x, xs, out, os, r, t, 1, NB);           \
        for (; t < T; t++) tile_##NAME(w, rb, nb, x, xs, out, os, r, t, 1, 1);                      \
    }                                                                                               \
}

EXPORT8(q8_0, 32, A32, 4)
EXPORT8(q4_0, 32, A32, 4)
EXPORT8(q5_0, 32, A32, 4)
EXPORT8(iq4_nl, 32, A32, 4)
EXPORT8(q4_1, 32, A32, 4)
EXPORT8(q5_1, 32, A32, 4)
EXPORT8(q4_k, 256, AK, 2)
EXPORT8(q5_k, 256, AK, 2)
EXPORT8(q6_k, 256, AK, 2)
EXPORT8(iq4_xs, 256, AK, 2)
EXPORT8(q2_k, 256, AK, 2)
EXPORT8(q3_k, 256, AK, 2)
