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
/* Loops over a tile's rows, tokens and pair vectors, unrolled completely so their vectors stay in registers. */
#define UNROLL _Pragma("GCC unroll 16")

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
/* Lane i = sc * sum of u[k] * s[k], k in 4i..4i+3, for a 16-bit scale vector (per half). Also with
 * VNNI: vpdpbusd would need a 32-bit multiply (vpmulld, two uops) to apply the scale afterwards,
 * where vpmaddwd applies it while adding the pairs. */
INLINE __m256i dot_us_scaled(__m256i u, __m256i s, __m256i sc16) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), sc16);
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
    __m256i q = _mm256_broadcastsi128_si256(load16(p)); /* both halves from one load */
    return _mm256_and_si256(_mm256_srlv_epi64(q, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0F));
}

/* ---- 32-value block types ----
 *
 * A block's 32 values as bytes (signed for the SIGNED types, else unsigned with a minimum m:
 * value = d q + m, whose sum over a block is m * s of the activation); d and m are the block's
 * first two fp16 fields. */

INLINE __m256i q_q8_0(const uint8_t* b) { return load32(b + 2); }
INLINE __m256i q_q4_0(const uint8_t* b) { return _mm256_sub_epi8(nibbles(b + 2), _mm256_set1_epi8(8)); }
INLINE __m256i q_q4_1(const uint8_t* b) { return nibbles(b + 4); }
INLINE __m256i q_q5_0(const uint8_t* b) {
    uint32_t qh; memcpy(&qh, b + 2, 4);
    __m256i u = _mm256_or_si256(nibbles(b + 6), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
    return _mm256_sub_epi8(u, _mm256_set1_epi8(16));
}
INLINE __m256i q_q5_1(const uint8_t* b) {
    uint32_t qh; memcpy(&qh, b + 4, 4);
    return _mm256_or_si256(nibbles(b + 8), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}
INLINE __m256i q_iq4_nl(const uint8_t* b) {
    const __m256i lut = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return _mm256_shuffle_epi8(lut, nibbles(b + 2));
}

INLINE uint32_t u32at(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* A float broadcast from a stack slot by a load (vbroadcastss m32 takes no vector ALU slot). Written
 * as asm so that gcc addresses the slot from the stack pointer instead of keeping one pointer per
 * pair in a general register (it ran out of them in the larger tiles and spilled the pointers). */
INLINE __m256 bcast_slot(const float* p) {
    __m256 v;
    __asm__("vbroadcastss %1, %0" : "=x"(v) : "m"(*p));
    return v;
}

/* The converted scales' element of lane l of pair vector h: the row's d (2 x row, p = 8 h + l is the
 * pair (row p / N, token p % N)); lanes past the tile read element 0. */
INLINE __m256i row_index(int h, const int R, const int N) {
    int v[8];
    for (int l = 0; l < 8; l++) v[l] = 8 * h + l < R * N ? 2 * ((8 * h + l) / N) : 0;
    return _mm256_setr_epi32(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

/*
 * R rows x N tokens of a 32-value type (R, N <= 4; up to 16 pairs), one fused multiply-add per pair
 * and block. Pair p = 8 h + l of lane l of pair vector h is (row p / N, token p % N). Per block the R
 * rows' (d, m) are converted in one step and permuted into the pair lanes; the tokens' dy and s come
 * from ts (per block 8 dy then 8 s, lane l holding token l % N, written once per call by
 * token_heads); one vector multiply gives up to 8 pairs' scales d * dy (stored, then each
 * broadcast from memory into its pair's FMA) and, for the types with a minimum, one vector FMA
 * adds up to 8 pairs' m * s in their own lanes: the same float operations, in the same order, as
 * a scalar chain per pair. The weights of a row are decoded once and meet the N tokens'
 * activations straight from memory, so the accumulators stay in registers.
 * pf > 0: prefetch each row's weights pf bytes ahead (on the first pass over rows streamed from memory).
 */
#define TILE32(NAME, BYTES, SIGNED)                                                                  \
INLINE void tile_##NAME(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,          \
                        const float* ts, float* out, int os, int r, int t, const int R, const int N, \
                        int64_t pf) {                                                               \
    const int H = (R * N + 7) / 8;                                                                  \
    __m256 acc[4][4], mn[2];                                                                        \
    __m256i id[2];                                                                                  \
    UNROLL for (int i = 0; i < R; i++)                                                              \
        UNROLL for (int j = 0; j < N; j++) acc[i][j] = _mm256_setzero_ps();                         \
    UNROLL for (int h = 0; h < H; h++) {                                                            \
        mn[h] = _mm256_setzero_ps();                                                                \
        id[h] = row_index(h, R, N);                                                                 \
    }                                                                                               \
    const __m256i one = _mm256_set1_epi32(1);                                                       \
    /* N = 3: lane l of the second vector is token (8 + l) % 3, that of lane (l + 2) % 6 of the first */ \
    const __m256i third = _mm256_setr_epi32(2, 3, 4, 5, 6, 7, 2, 3);                                \
    const uint8_t* w0 = W + (int64_t)r * rb;                                                        \
    const uint8_t* x0 = X + (int64_t)t * xs;                                                        \
    for (int b = 0; b < nb; b++) {                                                                  \
        const uint8_t* wb = w0 + (int64_t)b * BYTES;                                                \
        const uint8_t* xb = x0 + (int64_t)b * A32;                                                  \
        const float* tb = ts + 16 * b;                                                              \
        if (pf) UNROLL for (int i = 0; i < R; i++) __builtin_prefetch(wb + i * rb + pf, 0, 3);     \
        __m128i h16 = _mm_cvtsi32_si128((int)u32at(wb));                                            \
        if (R > 1) h16 = _mm_insert_epi32(h16, (int)u32at(wb + rb), 1);                              \
        if (R > 2) h16 = _mm_insert_epi32(h16, (int)u32at(wb + 2 * rb), 2);                          \
        if (R > 3) h16 = _mm_insert_epi32(h16, (int)u32at(wb + 3 * rb), 3);                          \
        __m256 dm = _mm256_cvtph_ps(h16); /* d0 m0 d1 m1 ... */                                    \
        float sc[16] __attribute__((aligned(32)));                                                  \
        UNROLL for (int h = 0; h < H; h++) {                                                        \
            __m256 dy = _mm256_loadu_ps(tb);                                                         \
            if (N == 3 && h == 1) dy = _mm256_permutevar8x32_ps(dy, third);                         \
            _mm256_store_ps(sc + 8 * h, _mm256_mul_ps(_mm256_permutevar8x32_ps(dm, id[h]), dy));    \
            if (!SIGNED) {                                                                          \
                __m256 s = _mm256_loadu_ps(tb + 8);                                                  \
                if (N == 3 && h == 1) s = _mm256_permutevar8x32_ps(s, third);                       \
                __m256 m = _mm256_permutevar8x32_ps(dm, _mm256_add_epi32(id[h], one));              \
                mn[h] = _mm256_fmadd_ps(m, s, mn[h]);                                               \
            }                                                                                       \
        }                                                                                           \
        UNROLL for (int i = 0; i < R; i++) {                                                               \
            __m256i q = q_##NAME(wb + i * rb);                                                      \
            __m256i u = SIGNED ? _mm256_sign_epi8(q, q) : q;                                        \
            UNROLL for (int j = 0; j < N; j++) {                                                           \
                __m256i y = load32(xb + j * xs + 8);                                                \
                __m256i p = dot_us(u, SIGNED ? _mm256_sign_epi8(y, q) : y);                         \
                acc[i][j] = _mm256_fmadd_ps(bcast_slot(sc + i * N + j), _mm256_cvtepi32_ps(p), acc[i][j]); \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    float m[16] __attribute__((aligned(32)));                                                       \
    UNROLL for (int h = 0; h < H; h++) _mm256_store_ps(m + 8 * h, mn[h]);                                  \
    UNROLL for (int j = 0; j < N; j++)                                                                     \
        UNROLL for (int i = 0; i < R; i++)                                                                 \
            out[(int64_t)(t + j) * os + r + i] = hsum8(acc[i][j]) + (SIGNED ? 0.0f : m[i * N + j]); \
}                                                                                                   \
/* One row, one token: the pair's scale and minimum as scalars (nothing to share a vector with). */ \
INLINE void row1_##NAME(const uint8_t* W, int64_t rb, int nb, const uint8_t* x, float* out, int r) { \
    __m256 acc = _mm256_setzero_ps();                                                               \
    float mn = 0;                                                                                   \
    const uint8_t* w0 = W + (int64_t)r * rb;                                                        \
    for (int b = 0; b < nb; b++) {                                                                  \
        const uint8_t* wb = w0 + (int64_t)b * BYTES;                                                \
        const uint8_t* a = x + (int64_t)b * A32;                                                    \
        __m256i q = q_##NAME(wb);                                                                   \
        __m256i y = load32(a + 8);                                                                  \
        __m256i p = SIGNED ? dot_ss(q, y) : dot_us(q, y);                                           \
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16at(wb) * f32at(a)), _mm256_cvtepi32_ps(p), acc);    \
        if (!SIGNED) mn = __builtin_fmaf(f16at(wb + 2), f32at(a + 4), mn);                          \
    }                                                                                               \
    out[r] = hsum8(acc) + mn;                                                                       \
}                                                                                                   \
/* Any R x N tile (1..4 each) with R and N constants inside. */                                    \
static void tiles_##NAME(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,         \
                         const float* ts, float* out, int os, int r, int t, int R, int N, int64_t pf) { \
    switch (R * 8 + N) {                                                                            \
        TCASE(NAME, 1, 1) TCASE(NAME, 1, 2) TCASE(NAME, 1, 3) TCASE(NAME, 1, 4)                     \
        TCASE(NAME, 2, 1) TCASE(NAME, 2, 2) TCASE(NAME, 2, 3) TCASE(NAME, 2, 4)                     \
        TCASE(NAME, 3, 1) TCASE(NAME, 3, 2) TCASE(NAME, 3, 3) TCASE(NAME, 3, 4)                     \
        TCASE(NAME, 4, 1) TCASE(NAME, 4, 2) TCASE(NAME, 4, 3) TCASE(NAME, 4, 4)                     \
        default: break;                                                                             \
    }                                                                                               \
}
#define TCASE(NAME, RR, NN) case RR * 8 + NN: tile_##NAME(W, rb, nb, X, xs, ts, out, os, r, t, RR, NN, pf); break;

TILE32(q4_1, 20, 0)
TILE32(q5_1, 24, 0)

/*
 * The signed types (no minimum): R rows x N tokens with each pair's scale d * dy a scalar product
 * broadcast into its FMA, the tokens' activations loaded once per token and block and signed per row.
 * Their pair already needs the activations in a register for vpsignb, and on the AVX2 machine the
 * vector-scale tile above measured no faster for them (slower on short rows), so they keep this one.
 */
#define TILE32S(NAME, BYTES)                                                                        \
INLINE void tiles_##NAME(const uint8_t* W, int64_t rb, int nb, const uint8_t* X, int64_t xs,         \
                         float* out, int os, int r, int t, const int R, const int N, int64_t pf) {  \
    __m256 acc[4][4];                                                                               \
    for (int i = 0; i < R; i++)                                                                     \
        for (int j = 0; j < N; j++) acc[i][j] = _mm256_setzero_ps();                                \
    const uint8_t* w0 = W + (int64_t)r * rb;                                                        \
    const uint8_t* x0 = X + (int64_t)t * xs;                                                        \
    for (int b = 0; b < nb; b++) {                                                                  \
        __m256i q[4];                                                                               \
        float d[4];                                                                                 \
        if (pf) for (int i = 0; i < R; i++) __builtin_prefetch(w0 + i * rb + (int64_t)b * BYTES + pf, 0, 3); \
        for (int i = 0; i < R; i++) {                                                               \
            q[i] = q_##NAME(w0 + i * rb + (int64_t)b * BYTES);                                      \
            d[i] = f16at(w0 + i * rb + (int64_t)b * BYTES);                                         \
        }                                                                                           \
        for (int j = 0; j < N; j++) {                                                               \
            const uint8_t* a = x0 + j * xs + (int64_t)b * A32;                                      \
            float dy = f32at(a);                                                                    \
            __m256i y = load32(a + 8);                                                              \
            for (int i = 0; i < R; i++)                                                             \
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(d[i] * dy), _mm256_cvtepi32_ps(dot_ss(q[i], y)), acc[i][j]); \
        }                                                                                           \
    }                                                                                               \
    for (int j = 0; j < N; j++)                                                                     \
        for (int i = 0; i < R; i++) out[(int64_t)(t + j) * os + r + i] = hsum8(acc[i][j]) + 0.0f;  \
}                                                                                                   \
INLINE void row1_##NAME(const uint8_t* W, int64_t rb, int nb, const uint8_t* x, float* out, int r) { \
    tiles_##NAME(W, rb, nb, x, 0, out, 0, r, 0, 1, 1, 0);                                           \
}                                                                                                    \
/* 2 rows x 4 tokens of a long batch: the pairs' scales d * dy come from one vector multiply per   \
 * block, of the row pair's d (dp: per block d0 x 4, d1 x 4) by the group's dy (yp: per block the   \
 * 4 tokens' dy, both halves), and are broadcast from memory into each pair's FMA: per pair only   \
 * vpsignb, maddubs, madd, convert and FMA, the same integers and float steps as the tile above.   \
 * The rows' sign is taken once per block and row, shared by the 4 tokens, or comes with the rows \
 * decoded once per call (dec: per block |w0| w0 |w1| w1, 32 bytes each). */                      \
INLINE void tile24_##NAME(const uint8_t* w0, int64_t rb, int nb, const uint8_t* x0, int64_t xs,     \
                          const float* dp, const float* yp, float* out, int os, int r, int t,      \
                          int64_t pf, const uint8_t* dec) {                                         \
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;                              \
    __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;                                              \
    const __m256i one = _mm256_set1_epi16(1);                                                       \
    float sc[8] __attribute__((aligned(32)));                                                       \
    for (int b = 0; b < nb; b++) {                                                                  \
        const uint8_t* wb = w0 + (int64_t)b * BYTES;                                                \
        const uint8_t* xb = x0 + (int64_t)b * A32 + 8;                                              \
        if (pf) {                                                                                   \
            __builtin_prefetch(wb + pf, 0, 3);                                                      \
            __builtin_prefetch(wb + rb + pf, 0, 3);                                                 \
        }                                                                                           \
        _mm256_store_ps(sc, _mm256_mul_ps(_mm256_load_ps(dp + 8 * b),                               \
                                          _mm256_broadcast_ps((const __m128*)(yp + 4 * b))));       \
        __m256i q0, q1, u0, u1;                                                                     \
        if (dec) { /* decoded once per call: |w0| w0 |w1| w1 */                                     \
            const uint8_t* db = dec + (int64_t)b * 128;                                             \
            u0 = load32(db); q0 = load32(db + 32); u1 = load32(db + 64); q1 = load32(db + 96);      \
        } else {                                                                                    \
            q0 = q_##NAME(wb); q1 = q_##NAME(wb + rb);                                              \
            u0 = _mm256_sign_epi8(q0, q0); u1 = _mm256_sign_epi8(q1, q1);                           \
        }                                                                                           \
        __m256i y;                                                                                  \
        /* pair (i, j): acc += sc[4 i + j] * (float) madd(maddubs(|w_i|, sign(y_j, w_i)), 1) */     \
        _Pragma("GCC unroll 4")                                                                     \
        for (int j = 0; j < 4; j++) {                                                               \
            y = load32(xb + j * xs);                                                                \
            __m256 f0 = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(y, q0)), one)); \
            __m256 f1 = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(y, q1)), one)); \
            __m256 s0 = bcast_slot(sc + j), s1 = bcast_slot(sc + 4 + j);                            \
            switch (j) {                                                                            \
                case 0: a00 = _mm256_fmadd_ps(s0, f0, a00); a10 = _mm256_fmadd_ps(s1, f1, a10); break; \
                case 1: a01 = _mm256_fmadd_ps(s0, f0, a01); a11 = _mm256_fmadd_ps(s1, f1, a11); break; \
                case 2: a02 = _mm256_fmadd_ps(s0, f0, a02); a12 = _mm256_fmadd_ps(s1, f1, a12); break; \
                default: a03 = _mm256_fmadd_ps(s0, f0, a03); a13 = _mm256_fmadd_ps(s1, f1, a13); break; \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    float* o = out + (int64_t)t * os + r;                                                           \
    o[0] = hsum8(a00) + 0.0f; o[1] = hsum8(a10) + 0.0f;                                             \
    o[os] = hsum8(a01) + 0.0f; o[os + 1] = hsum8(a11) + 0.0f;                                       \
    o[2 * os] = hsum8(a02) + 0.0f; o[2 * os + 1] = hsum8(a12) + 0.0f;                               \
    o[3 * os] = hsum8(a03) + 0.0f; o[3 * os + 1] = hsum8(a13) + 0.0f;                               \
}

TILE32S(q8_0, 34)
TILE32S(q4_0, 18)
TILE32S(q5_0, 22)
TILE32S(iq4_nl, 18)

/* ---- 256-value super-block types ----
 *
 * A super-block of a row is decoded once into an L1 buffer (sb_t): 8 chunks of 32 unsigned
 * bytes, each chunk's 16-bit scale vector (both halves of a 32-value chunk may have their own
 * 16-value scale), and the terms its minima or offsets need. The tokens of the batch then pass
 * over the decoded rows: per chunk, row and token only maddubs, madd (by the scale) and add, so
 * the decoding (nibbles, 6-bit scales) is paid once per row and super-block, not per token.
 */

typedef struct {
    __m256i u[8];   /* values of chunk c, unsigned (|w| for IQ4_XS) */
    __m256i s[8];   /* chunk c's scales: 16-bit, low half of the chunk then high half */
    __m256i w[8];   /* IQ4_XS: the signed values, whose signs go onto the activations */
    __m256i sc16;   /* the 16 scales (Q6_K, Q3_K offsets) or Q2_K's 16 minima, int16 in order */
    __m128i m8;     /* Q4_K / Q5_K: the 8 minima, int16 */
    float d, dmin;
} sb_t;

/* Chunk c's scale vector from 16 int16 scales held evens (low lane) and odds (high lane). */
INLINE __m256i scale_pair(__m256i eo, int c) {
    return _mm256_shuffle_epi8(eo, _mm256_set1_epi16((short)(0x0100 + 0x0202 * c)));
}
/* The same scale for both halves: 8 int16 scales in both lanes, chunk c picks element c. */
INLINE __m256i scale_one(__m256i s8x2, int c) {
    return _mm256_shuffle_epi8(s8x2, _mm256_set1_epi16((short)(0x0100 + 0x0202 * c)));
}
/* 16 int8 scales -> int16, evens in the low lane, odds in the high lane. */
INLINE __m256i evens_odds(__m128i s8) {
    __m128i eo = _mm_shuffle_epi8(s8, _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
    return _mm256_cvtepi8_epi16(eo);
}

/* Q4_K / Q5_K 6-bit scales and minima of the 8 sub-blocks: sc and m as 8 bytes each. */
INLINE void scales_mins_k4(const uint8_t* q, uint64_t* sc, uint64_t* m) {
    uint32_t s0, s1, s2;
    memcpy(&s0, q, 4);
    memcpy(&s1, q + 4, 4);
    memcpy(&s2, q + 8, 4);
    uint32_t sc_lo = s0 & 0x3F3F3F3F, m_lo = s1 & 0x3F3F3F3F;
    uint32_t sc_hi = (s2 & 0x0F0F0F0F) | ((s0 >> 2) & 0x30303030);
    uint32_t m_hi = ((s2 >> 4) & 0x0F0F0F0F) | ((s1 >> 2) & 0x30303030);
    *sc = sc_lo | (uint64_t)sc_hi << 32;
    *m = m_lo | (uint64_t)m_hi << 32;
}

/* Chunks 2k and 2k + 1 of a Q4_K / Q5_K super-block as unsigned bytes: the low and high nibbles of
 * qs[32k..32k+32), with Q5_K's fifth bits from qh. */
INLINE void q45_chunks(const uint8_t* qs, __m256i qh, int k, const int Q5, __m256i* a, __m256i* c) {
    const __m256i lo = _mm256_set1_epi8(0x0F);
    __m256i q = load32(qs + 32 * k);
    *a = _mm256_and_si256(q, lo);
    *c = _mm256_and_si256(_mm256_srli_epi16(q, 4), lo);
    if (Q5) {
        const __m256i one = _mm256_set1_epi8(1);
        *a = _mm256_or_si256(*a, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), one), 4));
        *c = _mm256_or_si256(*c, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k + 1), one), 4));
    }
}

INLINE void sb_q45(const uint8_t* b, sb_t* o, const int Q5) {
    uint64_t sc, m;
    scales_mins_k4(b + 4, &sc, &m);
    __m128i s16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc));
    __m256i s8x2 = _mm256_set_m128i(s16, s16);
    o->m8 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)m));
    o->d = f16at(b);
    o->dmin = f16at(b + 2);
    const uint8_t* qs = b + (Q5 ? 48 : 16);
    __m256i qh = Q5 ? load32(b + 16) : _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256i a, c;
        q45_chunks(qs, qh, k, Q5, &a, &c);
        _mm256_store_si256(&o->u[2 * k], a);
        _mm256_store_si256(&o->u[2 * k + 1], c);
        _mm256_store_si256(&o->s[2 * k], scale_one(s8x2, 2 * k));
        _mm256_store_si256(&o->s[2 * k + 1], scale_one(s8x2, 2 * k + 1));
    }
}
INLINE void sb_q4_k(const uint8_t* b, sb_t* o) { sb_q45(b, o, 0); }
INLINE void sb_q5_k(const uint8_t* b, sb_t* o) { sb_q45(b, o, 1); }

/* Chunks 4h .. 4h + 3 of a Q6_K super-block as unsigned 6-bit bytes: low nibbles from ql, two high bits from qh. */
INLINE void q6_chunks(const uint8_t* b, int h, __m256i u[4]) {
    const __m256i lo = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
    __m256i l0 = load32(b + 64 * h), l1 = load32(b + 64 * h + 32), qh = load32(b + 128 + 32 * h);
    __m256i v[4] = {_mm256_and_si256(l0, lo), _mm256_and_si256(l1, lo),
                    _mm256_and_si256(_mm256_srli_epi16(l0, 4), lo), _mm256_and_si256(_mm256_srli_epi16(l1, 4), lo)};
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) u[k] = _mm256_or_si256(v[k], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), three), 4));
}

/* Q6_K: unsigned 6-bit values (q + 32), int8 scales per 16 values. */
INLINE void sb_q6_k(const uint8_t* b, sb_t* o) {
    __m128i s8 = load16(b + 192);
    __m256i eo = evens_odds(s8);
    o->sc16 = _mm256_cvtepi8_epi16(s8);
    o->d = f16at(b + 208);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i u[4];
        q6_chunks(b, h, u);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            _mm256_store_si256(&o->u[4 * h + k], u[k]);
            _mm256_store_si256(&o->s[4 * h + k], scale_pair(eo, 4 * h + k));
        }
    }
}

/* Q2_K: 2-bit values, 4-bit scale and minimum per 16 values. */
INLINE void sb_q2_k(const uint8_t* b, sb_t* o) {
    __m128i sv = load16(b);
    __m128i lo = _mm_set1_epi8(0x0F);
    __m256i eo = evens_odds(_mm_and_si128(sv, lo));
    o->sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sv, 4), lo)); /* minima */
    o->d = f16at(b + 80);
    o->dmin = f16at(b + 82);
    const __m256i three = _mm256_set1_epi8(3);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i q = load32(b + 16 + 32 * h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            _mm256_store_si256(&o->u[4 * h + k], _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three));
            _mm256_store_si256(&o->s[4 * h + k], scale_pair(eo, 4 * h + k));
        }
    }
}

/* Q3_K: 3-bit values u (u - 4 is the value), signed 6-bit scales per 16 values. */
INLINE void sb_q3_k(const uint8_t* b, sb_t* o) {
    uint32_t s0, s1, s2;
    memcpy(&s0, b + 96, 4);
    memcpy(&s1, b + 100, 4);
    memcpy(&s2, b + 104, 4);
    uint32_t w0 = (s0 & 0x0F0F0F0F) | ((s2 & 0x03030303) << 4);
    uint32_t w1 = (s1 & 0x0F0F0F0F) | (((s2 >> 2) & 0x03030303) << 4);
    uint32_t w2 = ((s0 >> 4) & 0x0F0F0F0F) | (((s2 >> 4) & 0x03030303) << 4);
    uint32_t w3 = ((s1 >> 4) & 0x0F0F0F0F) | (((s2 >> 6) & 0x03030303) << 4);
    __m128i s8 = _mm_sub_epi8(_mm_setr_epi32((int)w0, (int)w1, (int)w2, (int)w3), _mm_set1_epi8(32));
    __m256i eo = evens_odds(s8);
    o->sc16 = _mm256_cvtepi8_epi16(s8);
    o->d = f16at(b + 108);
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256i hm = load32(b);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i q = load32(b + 32 + 32 * h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            int c = 4 * h + k;
            __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three);
            __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, c), one);
            _mm256_store_si256(&o->u[c], _mm256_or_si256(v, _mm256_slli_epi16(hb, 2)));
            _mm256_store_si256(&o->s[c], scale_pair(eo, c));
        }
    }
}

/* IQ4_XS: signed table values (IQ4_NL's levels), a 6-bit scale minus 32 per 32 values. */
INLINE void sb_iq4_xs(const uint8_t* b, sb_t* o) {
    const __m256i lut = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    uint16_t sh; memcpy(&sh, b + 2, 2);
    uint32_t sl; memcpy(&sl, b + 4, 4);
    int16_t s[8];
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) s[c] = (int16_t)((int)(((sl >> (4 * c)) & 0xF) | (((sh >> (2 * c)) & 3) << 4)) - 32);
    __m128i s16 = _mm_loadu_si128((const __m128i*)s);
    __m256i s8x2 = _mm256_set_m128i(s16, s16);
    o->d = f16at(b);
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        __m256i w = _mm256_shuffle_epi8(lut, nibbles(b + 8 + 16 * c));
        _mm256_store_si256(&o->w[c], w);
        _mm256_store_si256(&o->u[c], _mm256_sign_epi8(w, w));
        _mm256_store_si256(&o->s[c], scale_one(s8x2, c));
    }
}

/* How a type's lane sums become its output (see the header's lane contract). */
enum { K_MIN32, K_MIN16, K_OFF5, K_OFF2, K_SIGNED };

/*
 * R decoded rows x N tokens of one super-block: integer lanes per (row, token), then per pair
 * acc = fma(d dy, lanes (- offsets), acc) and, for types with minima, mn = fma(dmin dy, sum m bsum, mn).
 * acc is [token][row][8 lanes], mn [token][row] (row stride 4).
 */
INLINE void sb_tile(const sb_t* sb, const uint8_t* y0, int64_t xs, float* acc, float* mn,
                    const int R, const int N, const int KIND) {
    __m256i is[4][2];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int j = 0; j < N; j++) is[i][j] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        __m256i y[2];
#pragma GCC unroll 2
        for (int j = 0; j < N; j++) y[j] = load32(y0 + j * xs + 4 + 32 * c);
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            __m256i u = _mm256_load_si256(&sb[i].u[c]), s = _mm256_load_si256(&sb[i].s[c]);
#pragma GCC unroll 2
            for (int j = 0; j < N; j++) {
                __m256i yy = KIND == K_SIGNED ? _mm256_sign_epi8(y[j], _mm256_load_si256(&sb[i].w[c])) : y[j];
                is[i][j] = _mm256_add_epi32(is[i][j], dot_us_scaled(u, yy, s));
            }
        }
    }
#pragma GCC unroll 2
    for (int j = 0; j < N; j++) {
        const uint8_t* a = y0 + j * xs;
        float dy = f32at(a);
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            __m256i v = is[i][j];
            if (KIND == K_OFF5 || KIND == K_OFF2)
                v = _mm256_sub_epi32(v, _mm256_slli_epi32(_mm256_madd_epi16(sb[i].sc16, load32(a + 4 + 256)), KIND == K_OFF5 ? 5 : 2));
            float* ac = acc + (j * 4 + i) * 8;
            _mm256_storeu_ps(ac, _mm256_fmadd_ps(_mm256_set1_ps(sb[i].d * dy), _mm256_cvtepi32_ps(v), _mm256_loadu_ps(ac)));
            if (KIND == K_MIN32 || KIND == K_MIN16) {
                __m128i p;
                if (KIND == K_MIN32) {
                    p = _mm_madd_epi16(sb[i].m8, load16(a + 4 + 256 + 32));
                } else {
                    __m256i q = _mm256_madd_epi16(sb[i].sc16, load32(a + 4 + 256));
                    p = _mm_add_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
                }
                p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4E));
                p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xB1));
                int mi = _mm_cvtsi128_si32(p);
                mn[j * 4 + i] = __builtin_fmaf(sb[i].dmin * dy, (float)mi, mn[j * 4 + i]);
            }
        }
    }
}

/* How far ahead weights are prefetched (as chorus_kernels.c's PF_BYTES): the rows of a matrix are
 * streamed from memory once, a tile of rows at a time. */
#define K_PF_BYTES 24576

/* Tokens per pass over a row tile: their accumulators and one super-block of their activations stay in L1. */
#define KTG 32

/*
 * R rows x all T tokens: tokens in groups of KTG; per group, each super-block of the R rows is
 * decoded once and the group's tokens pass over it two at a time.
 */
INLINE void rows_k(void (*dec)(const uint8_t*, sb_t*), const uint8_t* w, int64_t rb, int nb, int bytes,
                   const uint8_t* x, int64_t xs, int T, float* out, int os, int r, const int R, const int KIND) {
    sb_t sb[4] __attribute__((aligned(32)));
    float acc[KTG * 4 * 8] __attribute__((aligned(32)));
    float mn[KTG * 4];
    int64_t pf = (K_PF_BYTES + 4 * rb - 1) / (4 * rb) * 4 * rb; /* the same column, whole row tiles ahead */
    for (int t0 = 0; t0 < T; t0 += KTG) {
        int n = T - t0 < KTG ? T - t0 : KTG;
        memset(acc, 0, sizeof(float) * 32 * n);
        memset(mn, 0, sizeof(float) * 4 * n);
        for (int b = 0; b < nb; b++) {
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) {
                const uint8_t* wb = w + (int64_t)(r + i) * rb + (int64_t)b * bytes;
                if (t0 == 0)
                    for (int l = 0; l < bytes + 63; l += 64) __builtin_prefetch(wb + pf + l, 0, 3);
                dec(wb, &sb[i]);
            }
            const uint8_t* y = x + (int64_t)t0 * xs + (int64_t)b * AK;
            int t = 0;
            for (; t + 2 <= n; t += 2) sb_tile(sb, y + t * xs, xs, acc + t * 32, mn + t * 4, R, 2, KIND);
            if (t < n) sb_tile(sb, y + t * xs, xs, acc + t * 32, mn + t * 4, R, 1, KIND);
        }
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < R; i++) {
                float h = hsum8(_mm256_loadu_ps(acc + (t * 4 + i) * 8));
                out[(int64_t)(t0 + t) * os + r + i] = KIND == K_MIN32 || KIND == K_MIN16 ? h - mn[t * 4 + i] : h;
            }
        }
    }
}

/*
 * A single token, one row at a time: each super-block's integer lanes come straight from the
 * packed bytes, without the L1 buffer (nothing is reused at T = 1, and one sequential stream per
 * thread is what the hardware prefetcher follows best: measured 1.3x the 4-row tile here). The
 * lanes are the same integers as sb_tile's and the float steps are rows_k's, in the same order,
 * so a row's result is the same bits as in a batch.
 */
INLINE __m256i lanes_q45(const uint8_t* b, const uint8_t* y, const int Q5, __m128i* m8, float* d, float* dmin) {
    uint64_t sc, m;
    scales_mins_k4(b + 4, &sc, &m);
    __m128i s16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc));
    __m256i s8x2 = _mm256_set_m128i(s16, s16);
    *m8 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)m));
    *d = f16at(b);
    *dmin = f16at(b + 2);
    const uint8_t* qs = b + (Q5 ? 48 : 16);
    __m256i qh = Q5 ? load32(b + 16) : _mm256_setzero_si256();
    __m256i is = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256i a, c;
        q45_chunks(qs, qh, k, Q5, &a, &c);
        is = _mm256_add_epi32(is, dot_us_scaled(a, load32(y + 4 + 64 * k), scale_one(s8x2, 2 * k)));
        is = _mm256_add_epi32(is, dot_us_scaled(c, load32(y + 4 + 64 * k + 32), scale_one(s8x2, 2 * k + 1)));
    }
    return is;
}

INLINE __m256i lanes_q6_k(const uint8_t* b, const uint8_t* y, __m256i* sc16, float* d) {
    __m128i s8 = load16(b + 192);
    __m256i eo = evens_odds(s8);
    *sc16 = _mm256_cvtepi8_epi16(s8);
    *d = f16at(b + 208);
    __m256i is = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i u[4];
        q6_chunks(b, h, u);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            is = _mm256_add_epi32(is, dot_us_scaled(u[k], load32(y + 4 + 32 * (4 * h + k)), scale_pair(eo, 4 * h + k)));
        }
    }
    return is;
}

/* Q4_K / Q5_K (Q5 = 1), one token, rows [r0, r1). */
INLINE void rows1_q45(const uint8_t* w, int64_t rb, int nb, const uint8_t* x, float* out, int r0, int r1, const int Q5) {
    const int bytes = Q5 ? 176 : 144;
    for (int r = r0; r < r1; r++) {
        const uint8_t* wr = w + (int64_t)r * rb;
        __m256 acc = _mm256_setzero_ps();
        float mn = 0;
        for (int b = 0; b < nb; b++) {
            const uint8_t* y = x + (int64_t)b * AK;
            __m128i m8;
            float d, dmin, dy = f32at(y);
            __m256i v = lanes_q45(wr + (int64_t)b * bytes, y, Q5, &m8, &d, &dmin);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * dy), _mm256_cvtepi32_ps(v), acc);
            __m128i p = _mm_madd_epi16(m8, load16(y + 4 + 256 + 32));
            p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4E));
            p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xB1));
            mn = __builtin_fmaf(dmin * dy, (float)_mm_cvtsi128_si32(p), mn);
        }
        out[r] = hsum8(acc) - mn;
    }
}

/* Q6_K, one token, rows [r0, r1). */
INLINE void rows1_q6_k(const uint8_t* w, int64_t rb, int nb, const uint8_t* x, float* out, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
        const uint8_t* wr = w + (int64_t)r * rb;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* y = x + (int64_t)b * AK;
            __m256i sc16;
            float d, dy = f32at(y);
            __m256i v = lanes_q6_k(wr + (int64_t)b * 210, y, &sc16, &d);
            v = _mm256_sub_epi32(v, _mm256_slli_epi32(_mm256_madd_epi16(sc16, load32(y + 4 + 256)), 5));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * dy), _mm256_cvtepi32_ps(v), acc);
        }
        out[r] = hsum8(acc);
    }
}

INLINE int rows1(const char kind, const uint8_t* w, int64_t rb, int nb, const uint8_t* x, float* out, int r0, int r1) {
    switch (kind) {
        case 4: rows1_q45(w, rb, nb, x, out, r0, r1, 0); return 1;
        case 5: rows1_q45(w, rb, nb, x, out, r0, r1, 1); return 1;
        case 6: rows1_q6_k(w, rb, nb, x, out, r0, r1); return 1;
        default: return 0;
    }
}

/* One exported kernel per super-block type: a single token one row at a time (for Q4_K, Q5_K and Q6_K
 * without the L1 buffer), a batch in tiles of 4 rows, then single rows. */
#define EXPORTK(NAME, BYTES, KIND, ONE)                                                             \
EXPORT void chorus_matmul8_##NAME(const uint8_t* w, int64_t rb, int cols, const uint8_t* x, int T,   \
                                  float* out, int os, int r0, int r1) {                             \
    int nb = cols / 256;                                                                            \
    int64_t xs = (int64_t)nb * AK;                                                                  \
    int r = r0;                                                                                     \
    if (T == 1 && rows1(ONE, w, rb, nb, x, out, r0, r1)) return;                                    \
    if (T > 1) for (; r + 4 <= r1; r += 4) rows_k(sb_##NAME, w, rb, nb, BYTES, x, xs, T, out, os, r, 4, KIND); \
    for (; r < r1; r++) rows_k(sb_##NAME, w, rb, nb, BYTES, x, xs, T, out, os, r, 1, KIND);        \
}

/* Rows per tile of a batch of T tokens, whose groups of up to 4 tokens (T split into as few groups as
 * that allows, of sizes differing by at most one: 5 tokens run as 2 + 3, not 4 + 1) pass over it: 4 x 2 for T = 2, else 2 x (up to) 4; 8 pairs fill one vector of scales, and their
 * accumulators, the decoded rows and the constants fit the 16 vector registers. (Measured on the AVX2
 * machine against 4 x 3 and 3 x 4: no faster, and gcc spills some of their accumulators.) */
#ifndef TILE32_ROWS
#define TILE32_ROWS(T) ((T) == 2 ? 4 : 2)
#endif

/* Bytes of the tokens' dy and s that a batch lays out per call (see token_heads); the tokens run in
 * chunks of as many token groups as fit, each chunk one pass over the rows (at least one group). */
#ifndef TILE32_HEAD_BYTES
#define TILE32_HEAD_BYTES (24 << 10)
#endif

/* The dy and s of a group of n tokens, per block 8 dy then 8 s with lane l holding token l % n: the
 * pair lanes of a tile (tile_NAME), read there with two loads per block instead of being gathered from
 * the n activation rows and permuted for every row tile. */
static void token_heads(const uint8_t* x, int64_t xs, int nb, int n, float* ts) {
    for (int b = 0; b < nb; b++)
        for (int l = 0; l < 8; l++) {
            const uint8_t* a = x + (int64_t)(l % n) * xs + (int64_t)b * A32;
            ts[16 * b + l] = f32at(a);
            ts[16 * b + 8 + l] = f32at(a + 4);
        }
}

/*
 * One exported kernel per 32-value type. A single token runs one row at a time; a batch runs tiles
 * of R rows x up to 4 tokens over a row tile whose weights stay in L1 while the token groups of a
 * chunk pass, the first pass over each row tile prefetching the weights ahead. Every pair runs the
 * same operations in any tile, so how the tokens are grouped does not change a bit.
 */
#define EXPORT8(NAME, BS, XB, NB)                                                                   \
EXPORT void chorus_matmul8_##NAME(const uint8_t* w, int64_t rb, int cols, const uint8_t* x, int T,   \
                                  float* out, int os, int r0, int r1) {                             \
    int nb = cols / BS;                                                                             \
    int64_t xs = (int64_t)nb * XB;                                                                  \
    if (T == 1) {                                                                                   \
        for (int r = r0; r < r1; r++) row1_##NAME(w, rb, nb, x, out, r);                           \
        return;                                                                                     \
    }                                                                                               \
    if (T <= 0 || nb <= 0 || r0 >= r1) return;                                                      \
    const int RT = TILE32_ROWS(T);                                                                  \
    int64_t pf = (K_PF_BYTES + RT * rb - 1) / (RT * rb) * RT * rb; /* whole row tiles ahead */      \
    int G = (T + NB - 1) / NB; /* token groups of T / G tokens, rounded, at most NB */              \
    int ng = TILE32_HEAD_BYTES / (nb * 64);                                                         \
    if (ng < 1) ng = 1;                                                                             \
    if (ng > G) ng = G;                                                                             \
    float ts[(size_t)ng * nb * 16];                                                                 \
    for (int g0 = 0; g0 < G; g0 += ng) {                                                            \
        int g1 = G - g0 < ng ? G : g0 + ng;                                                         \
        for (int g = g0; g < g1; g++) {                                                             \
            int t = (int)((int64_t)g * T / G), n = (int)((int64_t)(g + 1) * T / G) - t;             \
            token_heads(x + (int64_t)t * xs, xs, nb, n, ts + (size_t)(g - g0) * nb * 16);           \
        }                                                                                           \
        for (int r = r0; r < r1; r += RT) {                                                         \
            int R = r1 - r < RT ? r1 - r : RT;                                                      \
            int64_t p = g0 == 0 ? pf : 0; /* the first pass over the row tile streams it in */      \
            for (int g = g0; g < g1; g++, p = 0) {                                                  \
                int t = (int)((int64_t)g * T / G), n = (int)((int64_t)(g + 1) * T / G) - t;         \
                tiles_##NAME(w, rb, nb, x, xs, ts + (size_t)(g - g0) * nb * 16, out, os, r, t, R, n, p); \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
}

/* Rows of at most this many blocks are decoded once per row pair and token chunk of 8 or more tokens
 * (|w| and w of both rows, 128 bytes a block, on the stack) instead of once per block and tile: the
 * nibble decode and the rows' sign are then paid once per chunk, not once per 4 tokens. */
#ifndef TILE32S_DECODE_BLOCKS
#define TILE32S_DECODE_BLOCKS 256
#endif
/* Bytes of activations a signed-type batch passes over each row pair at a time: a long batch runs in
 * token chunks of about this size, so that a chunk stays in L2 while every row pair of the call meets
 * it (all 512 rows of a prefill are 0.6-3 MB here, which the row pairs read from L3 otherwise). */
#ifndef TILE32S_X_BYTES
#define TILE32S_X_BYTES (160 << 10)
#endif

/* The signed types: one row at a time for a single token, else tiles of 2 rows x 4 tokens over a row
 * pair, the last 1-3 tokens as one narrower tile, the first pass over each pair prefetching ahead;
 * the tokens in chunks of TILE32S_X_BYTES, each a pass over the rows. */
#define EXPORT8S(NAME, BS, XB, NB, BS_BYTES)                                                                  \
EXPORT void chorus_matmul8_##NAME(const uint8_t* w, int64_t rb, int cols, const uint8_t* x, int T,   \
                                  float* out, int os, int r0, int r1) {                             \
    int nb = cols / BS;                                                                             \
    int64_t xs = (int64_t)nb * XB;                                                                  \
    if (T == 1) {                                                                                   \
        for (int r = r0; r < r1; r++) row1_##NAME(w, rb, nb, x, out, r);                           \
        return;                                                                                     \
    }                                                                                               \
    if (T <= 0 || nb <= 0 || r0 >= r1) return;                                                      \
    int64_t pf = (K_PF_BYTES + 2 * rb - 1) / (2 * rb) * 2 * rb; /* whole row pairs ahead */        \
    int64_t tc = TILE32S_X_BYTES / xs / NB * NB; /* tokens per chunk, whole tiles */                \
    if (tc < NB) tc = NB;                                                                           \
    float dp[(size_t)nb * 8] __attribute__((aligned(32)));                                          \
    uint8_t db[nb <= TILE32S_DECODE_BLOCKS ? (size_t)nb * 128 : 32] __attribute__((aligned(32))); \
    float yp[(size_t)(T < tc ? T : tc) * nb];                                                       \
    for (int t0 = 0; t0 < T; t0 += (int)tc) {                                                       \
        int t1 = T - t0 <= tc ? T : t0 + (int)tc;                                                   \
        for (int g = t0; g + 4 <= t1; g += 4) /* per group of 4 tokens and block: their 4 dy */     \
            for (int b = 0; b < nb; b++)                                                            \
                for (int j = 0; j < 4; j++)                                                         \
                    yp[(int64_t)(g - t0) * nb + 4 * b + j] = f32at(x + (int64_t)(g + j) * xs + (int64_t)b * A32); \
        for (int r = r0; r < r1; r += 2) {                                                          \
            const int R = r + 2 <= r1 ? 2 : 1;                                                      \
            int64_t p = t0 == 0 ? pf : 0; /* the first pass over the pair streams it in */          \
            int t = t0;                                                                             \
            if (R == 2) {                                                                           \
                const uint8_t* wr = w + (int64_t)r * rb;                                            \
                for (int b = 0; b < nb; b++) { /* the pair's d, 4 lanes each */                     \
                    __m128 d = _mm_setr_ps(f16at(wr + (int64_t)b * BS_BYTES), f16at(wr + rb + (int64_t)b * BS_BYTES), 0, 0); \
                    _mm256_store_ps(dp + 8 * b, _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d), \
                                                                         _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1))); \
                }                                                                                   \
                const uint8_t* dec = 0;                                                             \
                if (nb <= TILE32S_DECODE_BLOCKS && t1 - t >= 8) {                                   \
                    for (int b = 0; b < nb; b++) {                                                  \
                        __m256i q0 = q_##NAME(wr + (int64_t)b * BS_BYTES), q1 = q_##NAME(wr + rb + (int64_t)b * BS_BYTES); \
                        _mm256_store_si256((__m256i*)(db + 128 * b), _mm256_sign_epi8(q0, q0));       \
                        _mm256_store_si256((__m256i*)(db + 128 * b + 32), q0);                         \
                        _mm256_store_si256((__m256i*)(db + 128 * b + 64), _mm256_sign_epi8(q1, q1));  \
                        _mm256_store_si256((__m256i*)(db + 128 * b + 96), q1);                         \
                    }                                                                               \
                    dec = db;                                                                       \
                }                                                                                   \
                for (; t + 4 <= t1; t += 4, p = 0) {                                                \
                    if (dec) tile24_##NAME(wr, rb, nb, x + (int64_t)t * xs, xs, dp, yp + (int64_t)(t - t0) * nb, out, os, r, t, p, dec); \
                    else tile24_##NAME(wr, rb, nb, x + (int64_t)t * xs, xs, dp, yp + (int64_t)(t - t0) * nb, out, os, r, t, p, 0); \
                }                                                                                   \
            } else {                                                                                \
                for (; t + NB <= t1; t += NB, p = 0) tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 1, NB, p); \
            }                                                                                       \
            switch ((t1 - t) * 2 + R - 1) { /* the last 1-3 tokens in one tile, not one tile each */ \
                case 3: tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 2, 1, p); break;              \
                case 5: tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 2, 2, p); break;              \
                case 7: tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 2, 3, p); break;              \
                case 2: tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 1, 1, p); break;              \
                case 4: tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 1, 2, p); break;              \
                case 6: tiles_##NAME(w, rb, nb, x, xs, out, os, r, t, 1, 3, p); break;              \
                default: break;                                                                     \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
}

EXPORT8S(q8_0, 32, A32, 4, 34)
EXPORT8S(q4_0, 32, A32, 4, 18)
EXPORT8S(q5_0, 32, A32, 4, 22)
EXPORT8S(iq4_nl, 32, A32, 4, 18)
EXPORT8(q4_1, 32, A32, 4)
EXPORT8(q5_1, 32, A32, 4)
EXPORTK(q4_k, 144, K_MIN32, 4)
EXPORTK(q5_k, 176, K_MIN32, 5)
EXPORTK(q6_k, 210, K_OFF5, 6)
EXPORTK(iq4_xs, 136, K_SIGNED, 0)
EXPORTK(q2_k, 84, K_MIN16, 0)
EXPORTK(q3_k, 110, K_OFF2, 0)
