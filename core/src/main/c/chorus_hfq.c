/*
 * Chorus native kernels for the Hugging Face quantized formats (io.chorus.tensor.NativeHfqKernels):
 * FP8 e4m3fn with a per-tensor or per-row scale, and the 4-bit AWQ (GEMM packing) and GPTQ formats
 * with group scales and zero points. Float activations, float32 arithmetic.
 *
 * out[t * os + r] = W[r] . x[t * cols ..]  for r in [r0, r1), t in [0, T)
 *
 * Every (row, token) result is defined operation by operation, so that the scalar twins in the tests
 * (HfqNativeKernelsTest) reproduce it bit for bit and batching cannot change it:
 *
 *   FP8: w = bits(b) * s, where bits(b) is the float whose sign is b's bit 7 and whose bits 20..26
 *        are b's low 7 bits (the e4m3 value times 2^-120, exactly) and s = scale * 2^120; lane
 *        l = c % 8 accumulates fma(w[c], x[c], lane) over the columns c in order; the 8 lanes are
 *        summed pairwise (l + 4, l + 2, l + 1).
 *   AWQ / GPTQ: per group g of gs inputs, G = sum of fma(q[i], x[i], G) over the group's inputs in
 *        order (q the unsigned nibble, G from 0), sx = the sum of x over the group (8 lanes
 *        l = i % 8 added in order, then summed pairwise as above), and
 *        acc = fma(s, fma(-z, sx, G), acc) over the groups in order (z the zero point with GPTQ's
 *        offset). W[o][i] = (q - z) s is never formed: the zero point costs one fma per group.
 *
 * The 4-bit formats are packed along the outputs (AWQ: a word holds 8 outputs of one input; GPTQ:
 * words of consecutive outputs are adjacent), so their vectors hold 8 outputs of one input and a tile
 * of outputs keeps one accumulator per 8 outputs: no lane sums, and a nibble decodes with one shift
 * and one mask. A batch decodes each chunk of a tile once into an L1 buffer and runs every token
 * over it; a single token decodes into registers.
 *
 * Vectors are 256-bit in every build (as in chorus_int8.c), so the AVX2 and AVX-512 libraries give
 * the same bits. Built with -ffp-contract=off: the only fused operations are the explicit ones.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))
#define EXPORT __attribute__((visibility("default")))

/* Tokens whose partial sums a tile keeps at once (bounds the stack buffers). */
#define TB 16

INLINE float hsum8(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < 4; i++) t[i] += t[i + 4];
    for (int i = 0; i < 2; i++) t[i] += t[i + 2];
    return t[0] + t[1];
}

/* ---------------------------------------------------------------------------------------------
 * FP8 (e4m3fn), row-major [rows][cols] bytes; s[r] = the row's scale times 2^120.
 * ------------------------------------------------------------------------------------------- */

/* 8 bytes -> e4m3 * 2^-120 as floats: sign-extended, shifted by 20 (bit 7 lands on 27 and the
 * sign extension on 28..31), masked to bit 31 and bits 20..26. */
INLINE __m256 fp8_bits(__m128i b8) {
    __m256i b = _mm256_cvtepi8_epi32(b8);
    return _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(b, 20), _mm256_set1_epi32((int)0x87F00000u)));
}
INLINE __m256 fp8_load(const uint8_t* p, float s) {
    return _mm256_mul_ps(fp8_bits(_mm_loadl_epi64((const __m128i*)p)), _mm256_set1_ps(s));
}
/* The same bits by another route, for the batches' decode: the 8 bytes broadcast to both lanes, byte
 * k shuffled to the top of lane k, then an arithmetic shift by 4 puts it at bits 20..27 with the sign
 * above, as the sign extension and shift by 20 do. An in-lane shuffle and a shift run ~1.4x faster
 * here than the widening sign extension and shift, which share their execution port. */
INLINE __m256 fp8_load_shuf(const uint8_t* p, float s) {
    __m256i b = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i*)p));
    b = _mm256_shuffle_epi8(b, _mm256_setr_epi8(-1, -1, -1, 0, -1, -1, -1, 1, -1, -1, -1, 2, -1, -1, -1, 3,
                                                -1, -1, -1, 4, -1, -1, -1, 5, -1, -1, -1, 6, -1, -1, -1, 7));
    __m256 v = _mm256_castsi256_ps(_mm256_and_si256(_mm256_srai_epi32(b, 4), _mm256_set1_epi32((int)0x87F00000u)));
    return _mm256_mul_ps(v, _mm256_set1_ps(s));
}
/* The last n < 8 columns, zero-padded. */
INLINE __m256 fp8_tail(const uint8_t* p, int n, float s) {
    uint8_t t[8] = {0};
    memcpy(t, p, (size_t)n);
    return fp8_load(t, s);
}
INLINE __m256i tail_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#if defined(__AVX512F__)
#define FP8_R 4  /* rows of a batched tile */
#define FP8_NT 6 /* tokens of a register tile: 4 x 6 accumulators of the 32 registers */
#else
#ifndef FP8_R
#define FP8_R 3  /* rows of a batched tile */
#define FP8_NT 4 /* 3 x 4 accumulators, 3 weights and 1 activation: 16 registers */
#endif
#endif
#ifndef FP8_KC
#if defined(__AVX512F__)
#define FP8_KC 256 /* columns decoded per chunk of a batched tile: 4 rows and 16 tokens of it fit L1 together */
#else
/* 512: the decoded rows stay in L1 while the 16 tokens' 32 KB of activations stream through it; the
 * fixed costs of a chunk (accumulators in and out, loop starts) are halved against 256, 8% faster at
 * 16 tokens (128: 8% slower, 768 and 1024: as 512). */
#define FP8_KC 512
#endif
#endif

/* R rows x K tokens, decoded in registers: the single-token path (K = 1) and the rows below a tile. */
INLINE void fp8_fused(const int R, const int K, const uint8_t* w, int cols, const float* s, const float* x,
                      float* out, int os) {
    __m256 a[4][1];
    for (int i = 0; i < R; i++)
        for (int t = 0; t < K; t++) a[i][t] = _mm256_setzero_ps();
    int c8 = cols & ~7, c = 0;
    for (; c < c8; c += 8) {
        __m256 wv[4];
        for (int i = 0; i < R; i++) {
            __builtin_prefetch(w + (int64_t)i * cols + c + 1024, 0, 0);
            wv[i] = fp8_load(w + (int64_t)i * cols + c, s[i]);
        }
        for (int t = 0; t < K; t++) {
            __m256 xv = _mm256_loadu_ps(x + (int64_t)t * cols + c);
            for (int i = 0; i < R; i++) a[i][t] = _mm256_fmadd_ps(wv[i], xv, a[i][t]);
        }
    }
    if (c < cols) {
        __m256i m = tail_mask(cols - c);
        for (int i = 0; i < R; i++) {
            __m256 wv = fp8_tail(w + (int64_t)i * cols + c, cols - c, s[i]);
            for (int t = 0; t < K; t++) a[i][t] = _mm256_fmadd_ps(wv, _mm256_maskload_ps(x + (int64_t)t * cols + c, m), a[i][t]);
        }
    }
    for (int i = 0; i < R; i++)
        for (int t = 0; t < K; t++) out[(int64_t)t * os + i] = hsum8(a[i][t]);
}

/* The register tile of a batch: FP8_R decoded rows (wb, row stride FP8_KC) x K tokens (x, token
 * stride xs) over one chunk: n8 columns in whole vectors, then n - n8 zero-padded ones. K is a
 * constant at every call, so the accumulators stay in registers (an array indexed by a run-time
 * count would live on the stack); between chunks they are kept in acc ([row][TB] vectors), and the
 * first chunk of a row starts them at zero. */
INLINE void fp8_micro(const int K, const float* wb, const float* x, int64_t xs, int n8, int n, int first, float* acc) {
    __m256 a[FP8_R][FP8_NT];
#pragma GCC unroll 4
    for (int i = 0; i < FP8_R; i++)
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) a[i][k] = first ? _mm256_setzero_ps() : _mm256_load_ps(acc + (i * TB + k) * 8);
    for (int j = 0; j < n8; j += 8) {
        __m256 wv[FP8_R];
#pragma GCC unroll 4
        for (int i = 0; i < FP8_R; i++) wv[i] = _mm256_load_ps(wb + i * FP8_KC + j);
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) {
            __m256 xv = _mm256_loadu_ps(x + (int64_t)k * xs + j);
#pragma GCC unroll 4
            for (int i = 0; i < FP8_R; i++) a[i][k] = _mm256_fmadd_ps(wv[i], xv, a[i][k]);
        }
    }
    if (n8 < n) {
        __m256i m = tail_mask(n - n8);
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) {
            __m256 xv = _mm256_maskload_ps(x + (int64_t)k * xs + n8, m);
#pragma GCC unroll 4
            for (int i = 0; i < FP8_R; i++) a[i][k] = _mm256_fmadd_ps(_mm256_load_ps(wb + i * FP8_KC + n8), xv, a[i][k]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < FP8_R; i++)
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) _mm256_store_ps(acc + (i * TB + k) * 8, a[i][k]);
}

static void fp8_micro_k(int K, const float* wb, const float* x, int64_t xs, int n8, int n, int first, float* acc) {
    switch (K) {
    case 1: fp8_micro(1, wb, x, xs, n8, n, first, acc); break;
    case 2: fp8_micro(2, wb, x, xs, n8, n, first, acc); break;
#if FP8_NT >= 4
    case 3: fp8_micro(3, wb, x, xs, n8, n, first, acc); break;
#endif
#if FP8_NT >= 6
    case 4: fp8_micro(4, wb, x, xs, n8, n, first, acc); break;
    case 5: fp8_micro(5, wb, x, xs, n8, n, first, acc); break;
#endif
    default: fp8_micro(FP8_NT, wb, x, xs, n8, n, first, acc); break;
    }
}

/* Tokens of the next register tile, of n left: FP8_NT, but never leaving a lone token behind a full
 * tile when two smaller tiles cover the rest (16 = 4 x 4 on AVX2, 7 = 4 + 3, 5 = 3 + 2). */
INLINE int fp8_tile_tokens(int n) {
    if (n <= FP8_NT) return n;
    if (n == FP8_NT + 1) return (n + 1) / 2;
    return FP8_NT;
}

/* A batch: FP8_R rows decoded a chunk at a time into wb (L1), then every token of the block runs over
 * the chunk in register tiles; lane accumulators carry over chunks in acc. */
static void fp8_batch(const uint8_t* w, int cols, const float* s, const float* x, int T, float* out, int os, int r0, int r1) {
    float wb[FP8_R * FP8_KC] __attribute__((aligned(32)));
    float acc[FP8_R * TB * 8] __attribute__((aligned(32)));
    int c8 = cols & ~7;
    int r = r0;
    for (; r + FP8_R <= r1; r += FP8_R) {
        const uint8_t* wr = w + (int64_t)r * cols;
        for (int tb = 0; tb < T; tb += TB) {
            int nt = T - tb < TB ? T - tb : TB;
            for (int c0 = 0; c0 < cols; c0 += FP8_KC) {
                int n = cols - c0 < FP8_KC ? cols - c0 : FP8_KC, n8 = c0 + n <= c8 ? n : c8 - c0;
                for (int i = 0; i < FP8_R; i++) {
                    const uint8_t* p = wr + (int64_t)i * cols + c0;
                    int j = 0;
                    for (; j < n8; j += 8) _mm256_store_ps(wb + i * FP8_KC + j, fp8_load_shuf(p + j, s[r + i]));
                    if (j < n) _mm256_store_ps(wb + i * FP8_KC + j, fp8_tail(p + j, n - j, s[r + i]));
                }
                /* The next chunk's bytes (this tile's next columns, or the next tile's first ones) arrive
                 * while the tokens run over this one: without this a batch waited on memory at every
                 * decode (a third of its time at 16 tokens). */
                const uint8_t* np = c0 + FP8_KC < cols ? wr + c0 + FP8_KC : wr + (int64_t)FP8_R * cols;
                int nn = c0 + FP8_KC < cols ? cols - c0 - FP8_KC : cols;
                if (nn > FP8_KC) nn = FP8_KC;
                if (tb + TB >= T && (c0 + FP8_KC < cols || r + 2 * FP8_R <= r1))
                    for (int i = 0; i < FP8_R; i++)
                        for (int j = 0; j < nn; j += 64) __builtin_prefetch(np + (int64_t)i * cols + j, 0, 3);
                for (int t = 0, K; t < nt; t += K) {
                    K = fp8_tile_tokens(nt - t);
                    fp8_micro_k(K, wb, x + (int64_t)(tb + t) * cols + c0, cols, n8, n, c0 == 0, acc + t * 8);
                }
            }
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < FP8_R; i++) out[(int64_t)(tb + t) * os + r + i] = hsum8(_mm256_load_ps(acc + ((i * TB) + t) * 8));
        }
    }
    for (; r < r1; r++)
        for (int t = 0; t < T; t++) fp8_fused(1, 1, w + (int64_t)r * cols, cols, s + r, x + (int64_t)t * cols, out + (int64_t)t * os + r, os);
}

EXPORT void chorus_matmul_fp8(const uint8_t* w, int cols, const float* s, const float* x, int T, float* out, int os,
                              int r0, int r1) {
    if (T > 1) {
        fp8_batch(w, cols, s, x, T, out, os, r0, r1);
        return;
    }
    int r = r0;
    for (; r + 4 <= r1; r += 4) fp8_fused(4, 1, w + (int64_t)r * cols, cols, s + r, x, out + r, os);
    for (; r < r1; r++) fp8_fused(1, 1, w + (int64_t)r * cols, cols, s + r, x, out + r, os);
}

/* ---------------------------------------------------------------------------------------------
 * 4-bit formats with groups: shared pieces.
 * ------------------------------------------------------------------------------------------- */

INLINE __m256 nib(__m256i v, int n) {
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 4 * n), _mm256_set1_epi32(15)));
}
INLINE float f16(const uint8_t* p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}
/* The sum of x[0..gs), gs a multiple of 8: 8 lanes in order, then pairwise. */
INLINE float group_sum(const float* x, int gs) {
    __m256 a = _mm256_setzero_ps();
    for (int i = 0; i < gs; i += 8) a = _mm256_add_ps(a, _mm256_loadu_ps(x + i));
    return hsum8(a);
}
/* acc = fma(s, fma(-z, sx, G), acc): a group's partial sums into the token's accumulators. */
INLINE __m256 group_apply(__m256 acc, __m256 G, __m256 s, __m256 z, float sx) {
    return _mm256_fmadd_ps(s, _mm256_fnmadd_ps(z, _mm256_set1_ps(sx), G), acc);
}

/* Inputs decoded per chunk of a batched tile: 64 inputs x 64 outputs of floats fill half of L1. */
#define QCH 64

#if defined(__AVX512F__)
#define Q4_NT 6 /* tokens of a batched register tile: 4 vectors x 6 tokens of the 32 registers */
#else
#define Q4_NT 3 /* 4 vectors x 3 tokens of accumulators, 4 weight vectors: 16 registers */
#endif

/* Tokens of the next register tile, of n left: Q4_NT, but never a lone token after a full tile
 * when two smaller tiles cover the rest (16 = 3 + 3 + 3 + 3 + 2 + 2 on AVX2). */
INLINE int q4_tile_tokens(int n) {
    if (n <= Q4_NT) return n;
    if (n == Q4_NT + 1) return (n + 1) / 2;
    return Q4_NT;
}

/* The batched register tile of the 4-bit formats: M decoded vectors of each input (wb, ws vectors per
 * input) x K tokens (x, token stride xs) over ch inputs. The group sums G of token k, vector m start
 * from 0 on a group's first chunk (else from Gs[k * gv + m]) and are left in Gs. M and K are constants
 * at every call, so G stays in registers: per input M weight loads and K broadcasts feed M x K fmas. */
INLINE void q4_micro(const int M, const int K, const __m256* wb, int ws, const float* x, int64_t xs, int ch,
                     __m256* Gs, int gv, int first) {
    __m256 G[4][Q4_NT];
#pragma GCC unroll 4
    for (int m = 0; m < M; m++)
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) G[m][k] = first ? _mm256_setzero_ps() : Gs[k * gv + m];
    for (int i = 0; i < ch; i++) {
        __m256 w[4];
#pragma GCC unroll 4
        for (int m = 0; m < M; m++) w[m] = wb[i * ws + m];
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) {
            __m256 xb = _mm256_broadcast_ss(x + k * xs + i);
#pragma GCC unroll 4
            for (int m = 0; m < M; m++) G[m][k] = _mm256_fmadd_ps(w[m], xb, G[m][k]);
        }
    }
#pragma GCC unroll 4
    for (int m = 0; m < M; m++)
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) Gs[k * gv + m] = G[m][k];
}

#define Q4_MICRO_K(M)                                                                               \
    static void q4_micro_##M(int K, const __m256* wb, int ws, const float* x, int64_t xs, int ch, __m256* Gs, \
                             int gv, int first) {                                                   \
        switch (K) {                                                                                \
        case 1: q4_micro(M, 1, wb, ws, x, xs, ch, Gs, gv, first); break;                            \
        case 2: q4_micro(M, 2, wb, ws, x, xs, ch, Gs, gv, first); break;                            \
        case 3: q4_micro(M, Q4_NT >= 3 ? 3 : 1, wb, ws, x, xs, ch, Gs, gv, first); break;           \
        case 4: q4_micro(M, Q4_NT >= 4 ? 4 : 1, wb, ws, x, xs, ch, Gs, gv, first); break;           \
        case 5: q4_micro(M, Q4_NT >= 5 ? 5 : 1, wb, ws, x, xs, ch, Gs, gv, first); break;           \
        default: q4_micro(M, Q4_NT, wb, ws, x, xs, ch, Gs, gv, first); break;                       \
        }                                                                                           \
    }
Q4_MICRO_K(1)
Q4_MICRO_K(4)

/* ---------------------------------------------------------------------------------------------
 * AWQ: qweight i32 [cols][rows / 8], qzeros i32 [cols / gs][rows / 8], scales f16 [cols / gs][rows].
 * Nibble n of a word holds output 8j + ORDER[n]. A tile is up to 8 words of one input (64 outputs):
 * vector n holds nibble n of the 8 words, lane k output 8k + ORDER[n] of the tile.
 * ------------------------------------------------------------------------------------------- */

static const int AWQ_ORDER[8] = {0, 2, 4, 6, 1, 3, 5, 7};

/* M words of the tile (lanes >= M read as 0). */
INLINE __m256i awq_words(const uint8_t* p, int M) {
    if (M == 8) return _mm256_loadu_si256((const __m256i*)p);
    return _mm256_maskload_epi32((const int*)p, tail_mask(M));
}

/* The scales and zeros of group g for the tile at word column wc: s[n], z[n] in the vectors' lane order. */
INLINE void awq_group_params(const uint8_t* qz, const uint8_t* sc, int64_t words, int64_t rows, int g, int64_t wc, int M,
                             __m256* s, __m256* z) {
    __m256i zw = awq_words(qz + ((int64_t)g * words + wc) * 4, M);
    float t[8][8] __attribute__((aligned(32)));
    const uint8_t* sg = sc + ((int64_t)g * rows + wc * 8) * 2;
    for (int n = 0; n < 8; n++) {
        for (int k = 0; k < 8; k++) t[n][k] = k < M ? f16(sg + (8 * k + AWQ_ORDER[n]) * 2) : 0.0f;
        s[n] = _mm256_load_ps(t[n]);
        z[n] = nib(zw, n);
    }
}

INLINE void awq_store(const __m256* acc, float* out, int M) {
    float t[8] __attribute__((aligned(32)));
    for (int n = 0; n < 8; n++) {
        _mm256_store_ps(t, acc[n]);
        for (int k = 0; k < M; k++) out[8 * k + AWQ_ORDER[n]] = t[k];
    }
}

/* One token, one group g of one tile of M words, added into acc: nibbles decoded in registers. */
INLINE void awq_group1(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                       int64_t wc, const int M, const float* x, int g, __m256* acc) {
    int64_t words = rows / 8, stride = words * 4;
    __m256 G[8];
    for (int n = 0; n < 8; n++) G[n] = _mm256_setzero_ps();
    const uint8_t* p = qw + ((int64_t)g * gs * words + wc) * 4;
    const float* xg = x + (int64_t)g * gs;
    for (int i = 0; i < gs; i++, p += stride) {
        __builtin_prefetch(p + 16 * stride, 0, 0);
        __m256i v = awq_words(p, M);
        __m256 xb = _mm256_set1_ps(xg[i]);
#pragma GCC unroll 8
        for (int n = 0; n < 8; n++) G[n] = _mm256_fmadd_ps(nib(v, n), xb, G[n]);
    }
    __m256 s[8], z[8];
    awq_group_params(qz, sc, words, rows, g, wc, M, s, z);
    float sx = group_sum(xg, gs);
    for (int n = 0; n < 8; n++) acc[n] = group_apply(acc[n], G[n], s[n], z[n], sx);
}

/* One token, a pair of 64-output tiles (Ma words at wc, then Mb <= 8 at wc + 8, Mb possibly 0) taken
 * group by group: the second tile reads the other half of each 64-byte line the first one fetched
 * while it is still in L1 (a tile alone uses 32 bytes of every line, and the other half would have
 * to survive in L2 until the next tile came for it). Each output's operations are unchanged. */
static void awq_pair1(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                      int64_t wc, int Ma, int Mb, const float* x, float* out) {
    __m256 a[8], b[8];
    for (int n = 0; n < 8; n++) a[n] = b[n] = _mm256_setzero_ps();
    for (int g = 0; g * gs < cols; g++) {
        if (Ma == 8) awq_group1(qw, qz, sc, rows, cols, gs, wc, 8, x, g, a);
        else awq_group1(qw, qz, sc, rows, cols, gs, wc, Ma, x, g, a);
        if (Mb == 8) awq_group1(qw, qz, sc, rows, cols, gs, wc + 8, 8, x, g, b);
        else if (Mb > 0) awq_group1(qw, qz, sc, rows, cols, gs, wc + 8, Mb, x, g, b);
    }
    awq_store(a, out, Ma);
    if (Mb > 0) awq_store(b, out + 64, Mb);
}

/* T tokens, one tile: each chunk of QCH inputs is decoded once into wb and every token runs over it. */
static void awq_tileT(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                      int64_t wc, int M, const float* x, int T, float* out, int os) {
    int64_t words = rows / 8, stride = words * 4;
    int ch = gs < QCH ? gs : QCH;
    __m256 wb[QCH][8] __attribute__((aligned(32)));
    __m256 acc[TB][8] __attribute__((aligned(32)));
    __m256 Gs[TB][8] __attribute__((aligned(32)));
    for (int tb = 0; tb < T; tb += TB) {
        int nt = T - tb < TB ? T - tb : TB;
        for (int t = 0; t < nt; t++)
            for (int n = 0; n < 8; n++) acc[t][n] = _mm256_setzero_ps();
        for (int g = 0; g * gs < cols; g++) {
            for (int c0 = g * gs; c0 < (g + 1) * gs; c0 += ch) {
                const uint8_t* p = qw + ((int64_t)c0 * words + wc) * 4;
                for (int i = 0; i < ch; i++, p += stride) {
                    __m256i v = awq_words(p, M);
                    for (int n = 0; n < 8; n++) wb[i][n] = nib(v, n);
                }
                /* The next chunk (or the next tile's first) arrives while the tokens run over this one. */
                if (tb + TB >= T) {
                    const uint8_t* np = c0 + ch < cols ? p : wc + 8 < words ? qw + (wc + 8) * 4 : NULL;
                    if (np)
                        for (int i = 0; i < ch; i++) __builtin_prefetch(np + i * stride, 0, 3);
                }
                for (int t = 0, K; t < nt; t += K) { /* the tile's 8 vectors as two register tiles of 4 */
                    K = q4_tile_tokens(nt - t);
                    const float* xt = x + (int64_t)(tb + t) * cols + c0;
                    q4_micro_4(K, &wb[0][0], 8, xt, cols, ch, &Gs[t][0], 8, c0 == g * gs);
                    q4_micro_4(K, &wb[0][4], 8, xt, cols, ch, &Gs[t][4], 8, c0 == g * gs);
                }
            }
            __m256 s[8], z[8];
            awq_group_params(qz, sc, words, rows, g, wc, M, s, z);
            for (int t = 0; t < nt; t++) {
                float sx = group_sum(x + (int64_t)(tb + t) * cols + (int64_t)g * gs, gs);
                for (int n = 0; n < 8; n++) acc[t][n] = group_apply(acc[t][n], Gs[t][n], s[n], z[n], sx);
            }
        }
        for (int t = 0; t < nt; t++) awq_store(acc[t], out + (int64_t)(tb + t) * os, M);
    }
}

/* Rows [r0, r1) must start on a word (multiples of 8); gs a multiple of 8 that is <= QCH (64) or a multiple of it. */
EXPORT void chorus_matmul_awq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs,
                              const float* x, int T, float* out, int os, int r0, int r1) {
    if (T == 1) {
        for (int r = r0; r < r1; r += 128) {
            int n = (r1 - r) / 8, Ma = n < 8 ? n : 8, Mb = n - Ma < 8 ? n - Ma : 8;
            awq_pair1(qw, qz, sc, rows, cols, gs, r / 8, Ma, Mb, x, out + r);
        }
        return;
    }
    for (int r = r0; r < r1; r += 64) {
        int M = (r1 - r) / 8 < 8 ? (r1 - r) / 8 : 8;
        awq_tileT(qw, qz, sc, rows, cols, gs, r / 8, M, x, T, out + r, os);
    }
}

/* ---------------------------------------------------------------------------------------------
 * GPTQ: qweight i32 [cols / 8][rows] (nibble j of word [k][o] is input 8k + j of output o), qzeros
 * i32 [groups][rows / 8] (nibble j of word [g][c] is output 8c + j), scales f16 [groups][rows];
 * zero = nibble + zoff. A tile is M <= 4 vectors of 8 consecutive outputs (lane l = output 8m + l).
 * ------------------------------------------------------------------------------------------- */

#define GM 4

INLINE void gptq_group_params(const uint8_t* qz, const uint8_t* sc, int64_t rows, int g, int64_t r, int M, int zoff,
                              __m256* s, __m256* z) {
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    for (int m = 0; m < M; m++) {
        int64_t o = r + 8 * m;
        int32_t zw;
        memcpy(&zw, qz + ((int64_t)g * (rows / 8) + o / 8) * 4, 4);
        __m256i zn = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(zw), shifts), _mm256_set1_epi32(15));
        z[m] = _mm256_cvtepi32_ps(_mm256_add_epi32(zn, _mm256_set1_epi32(zoff)));
        s[m] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(sc + ((int64_t)g * rows + o) * 2)));
    }
}

/* One token, M vectors: nibbles decoded in registers. */
INLINE void gptq_tile1(const int M, const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols,
                       int gs, int zoff, int64_t r, const float* x, float* out) {
    __m256 acc[GM];
    for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
    for (int g = 0; g * gs < cols; g++) {
        __m256 G[GM];
        for (int m = 0; m < M; m++) G[m] = _mm256_setzero_ps();
        for (int k = g * gs / 8; k < (g + 1) * gs / 8; k++) {
            const uint8_t* p = qw + ((int64_t)k * rows + r) * 4;
            __builtin_prefetch(p + 16 * rows * 4, 0, 0);
            __m256i v[GM];
            for (int m = 0; m < M; m++) v[m] = _mm256_loadu_si256((const __m256i*)(p + 32 * m));
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m256 xb = _mm256_set1_ps(x[8 * k + j]);
                for (int m = 0; m < M; m++) G[m] = _mm256_fmadd_ps(nib(v[m], j), xb, G[m]);
            }
        }
        __m256 s[GM], z[GM];
        gptq_group_params(qz, sc, rows, g, r, M, zoff, s, z);
        float sx = group_sum(x + (int64_t)g * gs, gs);
        for (int m = 0; m < M; m++) acc[m] = group_apply(acc[m], G[m], s[m], z[m], sx);
    }
    for (int m = 0; m < M; m++) _mm256_storeu_ps(out + 8 * m, acc[m]);
}

/* T tokens, M vectors: each chunk of QCH inputs decoded once into wb, every token runs over it. */
INLINE void gptq_tileT(const int M, const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols,
                       int gs, int zoff, int64_t r, const float* x, int T, float* out, int os) {
    int ch = gs < QCH ? gs : QCH;
    __m256 wb[QCH][GM] __attribute__((aligned(32)));
    __m256 acc[TB][GM] __attribute__((aligned(32)));
    __m256 Gs[TB][GM] __attribute__((aligned(32)));
    for (int tb = 0; tb < T; tb += TB) {
        int nt = T - tb < TB ? T - tb : TB;
        for (int t = 0; t < nt; t++)
            for (int m = 0; m < M; m++) acc[t][m] = _mm256_setzero_ps();
        for (int g = 0; g * gs < cols; g++) {
            for (int c0 = g * gs; c0 < (g + 1) * gs; c0 += ch) {
                for (int k = c0 / 8; k < (c0 + ch) / 8; k++) {
                    const uint8_t* p = qw + ((int64_t)k * rows + r) * 4;
                    for (int m = 0; m < M; m++) {
                        __m256i v = _mm256_loadu_si256((const __m256i*)(p + 32 * m));
                        for (int j = 0; j < 8; j++) wb[8 * k + j - c0][m] = nib(v, j);
                    }
                }
                /* The next chunk (or the next tile's first) arrives while the tokens run over this one. */
                if (tb + TB >= T) {
                    int64_t nk = c0 + ch < cols ? (c0 + ch) / 8 : 0, nr = c0 + ch < cols ? r : r + 8 * M;
                    if (nr + 8 * M <= rows)
                        for (int64_t k = nk; k < nk + ch / 8; k++)
                            for (int m = 0; m < 32 * M; m += 64) __builtin_prefetch(qw + (k * rows + nr) * 4 + m, 0, 3);
                }
                for (int t = 0, K; t < nt; t += K) {
                    K = q4_tile_tokens(nt - t);
                    const float* xt = x + (int64_t)(tb + t) * cols + c0;
                    if (M == GM) q4_micro_4(K, &wb[0][0], GM, xt, cols, ch, &Gs[t][0], GM, c0 == g * gs);
                    else q4_micro_1(K, &wb[0][0], GM, xt, cols, ch, &Gs[t][0], GM, c0 == g * gs);
                }
            }
            __m256 s[GM], z[GM];
            gptq_group_params(qz, sc, rows, g, r, M, zoff, s, z);
            for (int t = 0; t < nt; t++) {
                float sx = group_sum(x + (int64_t)(tb + t) * cols + (int64_t)g * gs, gs);
                for (int m = 0; m < M; m++) acc[t][m] = group_apply(acc[t][m], Gs[t][m], s[m], z[m], sx);
            }
        }
        for (int t = 0; t < nt; t++)
            for (int m = 0; m < M; m++) _mm256_storeu_ps(out + (int64_t)(tb + t) * os + 8 * m, acc[t][m]);
    }
}

/* Rows [r0, r1) in multiples of 8; gs a multiple of 8 that is <= QCH (64) or a multiple of it (the
 * trivial g_idx: input i in group i / gs). */
EXPORT void chorus_matmul_gptq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs, int zoff,
                               const float* x, int T, float* out, int os, int r0, int r1) {
    int r = r0;
    if (T == 1) {
        for (; r + 8 * GM <= r1; r += 8 * GM) gptq_tile1(GM, qw, qz, sc, rows, cols, gs, zoff, r, x, out + r);
        for (; r < r1; r += 8) gptq_tile1(1, qw, qz, sc, rows, cols, gs, zoff, r, x, out + r);
        return;
    }
    for (; r + 8 * GM <= r1; r += 8 * GM) gptq_tileT(GM, qw, qz, sc, rows, cols, gs, zoff, r, x, T, out + r, os);
    for (; r < r1; r += 8) gptq_tileT(1, qw, qz, sc, rows, cols, gs, zoff, r, x, T, out + r, os);
}

/* ---------------------------------------------------------------------------------------------
 * 8-bit activations (io.chorus.tensor.Q8Activations, B32 blocks of 40 bytes: float d, float s,
 * int8 y[32]) times the 4-bit formats, with integer dot products. Per (output, token):
 *
 *   per group g: G = 0, sy = 0; per 32-input block b of g, in order:
 *       G = fma(d_b, (float) sum_i q[i] y[i], G)     (the integer sum is exact)
 *       sy = sy + s_b
 *   acc = fma(s, fma(-z, sy, G), acc) over the groups in order.
 *
 * Nibbles are unsigned (0..15) and activations signed, which is what maddubs multiplies; each
 * 16-bit lane adds two such products (|sum| <= 3810), and a block's 16-bit sums stay below
 * 2^15 (at most 8 of them per lane), so they are widened to 32 bits once per block.
 * ------------------------------------------------------------------------------------------- */

#define Q8B 40 /* bytes of one activation block */

INLINE float f32at(const uint8_t* p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}
INLINE __m256i lo_nibbles(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(15)); }
INLINE __m256i hi_nibbles(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(15)); }
INLINE __m256i widen_pairs(__m256i s16) { return _mm256_madd_epi16(s16, _mm256_set1_epi16(1)); }

/* Chunk of inputs decoded at once by the batched 8-bit kernels (whole groups up to this size). */
#define Q8CH 256

INLINE int64_t load64(const uint8_t* p) {
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}
INLINE int32_t load32i(const uint8_t* p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- GPTQ: for 8 outputs and 8 inputs (one word each), byte b of word o holds inputs 2b, 2b+1;
 * interleaving low and high nibbles puts each input pair next to each other, in the order of the
 * activations: unpacklo gives outputs 0, 1 | 4, 5 and unpackhi 2, 3 | 6, 7, and one hadd of the
 * widened sums restores outputs 0..7. ---- */

INLINE void gptq8_decode(__m256i v, __m256i* a, __m256i* c) {
    __m256i lo = lo_nibbles(v), hi = hi_nibbles(v);
    *a = _mm256_unpacklo_epi8(lo, hi);
    *c = _mm256_unpackhi_epi8(lo, hi);
}
INLINE __m256i gptq8_finish(__m256i s0, __m256i s1) {
    return _mm256_hadd_epi32(widen_pairs(s0), widen_pairs(s1));
}

INLINE void gptq8_tile1(const int M, const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols,
                        int gs, int zoff, int64_t r, const uint8_t* xq, float* out) {
    __m256 acc[GM];
    for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
    int64_t ks = rows * 4;
    for (int g = 0; g * gs < cols; g++) {
        __m256 G[GM];
        for (int m = 0; m < M; m++) G[m] = _mm256_setzero_ps();
        float sy = 0;
        for (int b = g * gs / 32; b < (g + 1) * gs / 32; b++) {
            const uint8_t* yb = xq + (int64_t)b * Q8B;
            __m256 dy = _mm256_set1_ps(f32at(yb));
            sy += f32at(yb + 4);
            const uint8_t* p = qw + ((int64_t)b * 4 * rows + r) * 4;
            __builtin_prefetch(p + 16 * ks, 0, 0);
            for (int m = 0; m < M; m++) {
                __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
                for (int kk = 0; kk < 4; kk++) {
                    __m256i a, c, y = _mm256_set1_epi64x(load64(yb + 8 + 8 * kk));
                    gptq8_decode(_mm256_loadu_si256((const __m256i*)(p + kk * ks + 32 * m)), &a, &c);
                    s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(a, y));
                    s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(c, y));
                }
                G[m] = _mm256_fmadd_ps(dy, _mm256_cvtepi32_ps(gptq8_finish(s0, s1)), G[m]);
            }
        }
        __m256 s[GM], z[GM];
        gptq_group_params(qz, sc, rows, g, r, M, zoff, s, z);
        for (int m = 0; m < M; m++) acc[m] = group_apply(acc[m], G[m], s[m], z[m], sy);
    }
    for (int m = 0; m < M; m++) _mm256_storeu_ps(out + 8 * m, acc[m]);
}

INLINE void gptq8_tileT(const int M, const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols,
                        int gs, int zoff, int64_t r, const uint8_t* xq, int64_t xs, int T, float* out, int os) {
    int ch = gs < Q8CH ? gs : Q8CH;
    __m256i wb[Q8CH / 8][GM][2] __attribute__((aligned(32)));
    __m256 acc[TB][GM] __attribute__((aligned(32)));
    __m256 Gs[TB][GM] __attribute__((aligned(32)));
    float sys[TB];
    for (int tb = 0; tb < T; tb += TB) {
        int nt = T - tb < TB ? T - tb : TB;
        for (int t = 0; t < nt; t++)
            for (int m = 0; m < M; m++) acc[t][m] = _mm256_setzero_ps();
        for (int g = 0; g * gs < cols; g++) {
            for (int c0 = g * gs; c0 < (g + 1) * gs; c0 += ch) {
                for (int k = c0 / 8; k < (c0 + ch) / 8; k++) {
                    const uint8_t* p = qw + ((int64_t)k * rows + r) * 4;
                    for (int m = 0; m < M; m++)
                        gptq8_decode(_mm256_loadu_si256((const __m256i*)(p + 32 * m)), &wb[k - c0 / 8][m][0], &wb[k - c0 / 8][m][1]);
                }
                for (int t = 0; t < nt; t++) {
                    const uint8_t* yt = xq + (int64_t)(tb + t) * xs;
                    __m256 G[GM];
                    int first = c0 == g * gs;
                    for (int m = 0; m < M; m++) G[m] = first ? _mm256_setzero_ps() : Gs[t][m];
                    float sy = first ? 0.0f : sys[t];
                    for (int b = c0 / 32; b < (c0 + ch) / 32; b++) {
                        const uint8_t* yb = yt + (int64_t)b * Q8B;
                        __m256 dy = _mm256_set1_ps(f32at(yb));
                        sy += f32at(yb + 4);
                        int kb = (b * 32 - c0) / 8;
                        for (int m = 0; m < M; m++) {
                            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
                            for (int kk = 0; kk < 4; kk++) {
                                __m256i y = _mm256_set1_epi64x(load64(yb + 8 + 8 * kk));
                                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(wb[kb + kk][m][0], y));
                                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(wb[kb + kk][m][1], y));
                            }
                            G[m] = _mm256_fmadd_ps(dy, _mm256_cvtepi32_ps(gptq8_finish(s0, s1)), G[m]);
                        }
                    }
                    for (int m = 0; m < M; m++) Gs[t][m] = G[m];
                    sys[t] = sy;
                }
            }
            __m256 s[GM], z[GM];
            gptq_group_params(qz, sc, rows, g, r, M, zoff, s, z);
            for (int t = 0; t < nt; t++)
                for (int m = 0; m < M; m++) acc[t][m] = group_apply(acc[t][m], Gs[t][m], s[m], z[m], sys[t]);
        }
        for (int t = 0; t < nt; t++)
            for (int m = 0; m < M; m++) _mm256_storeu_ps(out + (int64_t)(tb + t) * os + 8 * m, acc[t][m]);
    }
}

/* As chorus_matmul_gptq with 8-bit activations; gs a multiple of 32 that is <= Q8CH (256) or a multiple of it. */
EXPORT void chorus_matmul8_gptq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs, int zoff,
                                const uint8_t* xq, int T, float* out, int os, int r0, int r1) {
    int64_t xs = (int64_t)cols / 32 * Q8B;
    int r = r0;
    if (T == 1) {
        for (; r + 8 * GM <= r1; r += 8 * GM) gptq8_tile1(GM, qw, qz, sc, rows, cols, gs, zoff, r, xq, out + r);
        for (; r < r1; r += 8) gptq8_tile1(1, qw, qz, sc, rows, cols, gs, zoff, r, xq, out + r);
        return;
    }
    for (; r + 8 * GM <= r1; r += 8 * GM) gptq8_tileT(GM, qw, qz, sc, rows, cols, gs, zoff, r, xq, xs, T, out + r, os);
    for (; r < r1; r += 8) gptq8_tileT(1, qw, qz, sc, rows, cols, gs, zoff, r, xq, xs, T, out + r, os);
}

/* ---- AWQ: four inputs' words of a 64-output tile are interleaved so that each 32-bit lane holds
 * one output's nibbles of the four inputs, in the order of the activations: bytes of inputs
 * (i, i+1) and (i+2, i+3) by unpack_epi8, then the pairs by unpack_epi16. Vector
 * e = 4 nib + 2 e8 + e16 (nib: low or high nibbles, e8 / e16: the unpack's low or high half) holds in
 * lane 4h + b the output 8 (4h + 2 e8 + e16) + ORDER[2b + nib]. ---- */

INLINE int awq8_output(int e, int lane) {
    int nib = e >> 2, e8 = (e >> 1) & 1, e16 = e & 1, h = lane >> 2, b = lane & 3;
    return 8 * (4 * h + 2 * e8 + e16) + AWQ_ORDER[2 * b + nib];
}

INLINE void awq8_decode(const uint8_t* p, int64_t stride, int M, __m256i* w) {
    __m256i v0 = awq_words(p, M), v1 = awq_words(p + stride, M), v2 = awq_words(p + 2 * stride, M), v3 = awq_words(p + 3 * stride, M);
#pragma GCC unroll 2
    for (int nib = 0; nib < 2; nib++) {
        __m256i a0 = nib ? hi_nibbles(v0) : lo_nibbles(v0), a1 = nib ? hi_nibbles(v1) : lo_nibbles(v1);
        __m256i a2 = nib ? hi_nibbles(v2) : lo_nibbles(v2), a3 = nib ? hi_nibbles(v3) : lo_nibbles(v3);
        __m256i p01l = _mm256_unpacklo_epi8(a0, a1), p23l = _mm256_unpacklo_epi8(a2, a3);
        __m256i p01h = _mm256_unpackhi_epi8(a0, a1), p23h = _mm256_unpackhi_epi8(a2, a3);
        w[4 * nib + 0] = _mm256_unpacklo_epi16(p01l, p23l);
        w[4 * nib + 1] = _mm256_unpackhi_epi16(p01l, p23l);
        w[4 * nib + 2] = _mm256_unpacklo_epi16(p01h, p23h);
        w[4 * nib + 3] = _mm256_unpackhi_epi16(p01h, p23h);
    }
}

/* Scales and zeros of group g in the 8-bit vectors' lane order (lanes past M words read as 0): for
 * vector e, lanes 0..3 come from word w0 = 2 e8 + e16 and lanes 4..7 from word w0 + 4, lane 4h + b
 * from that word's nibble 2b + nib, which is output ORDER[2b + nib] of the word. */
INLINE void awq8_group_params(const uint8_t* qz, const uint8_t* sc, int64_t words, int64_t rows, int g, int64_t wc, int M,
                              __m256* s, __m256* z) {
    const uint8_t* sg = sc + ((int64_t)g * rows + wc * 8) * 2;
    const uint8_t* zg = qz + ((int64_t)g * words + wc) * 4;
    for (int e = 0; e < 8; e++) {
        int nib = e >> 2, w0 = 2 * ((e >> 1) & 1) + (e & 1), w1 = w0 + 4;
        __m256 v0 = w0 < M ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(sg + 16 * w0))) : _mm256_setzero_ps();
        __m256 v1 = w1 < M ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(sg + 16 * w1))) : _mm256_setzero_ps();
        __m256i idx = _mm256_setr_epi32(AWQ_ORDER[nib], AWQ_ORDER[2 + nib], AWQ_ORDER[4 + nib], AWQ_ORDER[6 + nib],
                                        AWQ_ORDER[nib], AWQ_ORDER[2 + nib], AWQ_ORDER[4 + nib], AWQ_ORDER[6 + nib]);
        s[e] = _mm256_blend_ps(_mm256_permutevar8x32_ps(v0, idx), _mm256_permutevar8x32_ps(v1, idx), 0xF0);
        int32_t z0 = w0 < M ? load32i(zg + 4 * w0) : 0, z1 = w1 < M ? load32i(zg + 4 * w1) : 0;
        __m256i sh = _mm256_setr_epi32(4 * nib, 4 * (2 + nib), 4 * (4 + nib), 4 * (6 + nib), 4 * nib, 4 * (2 + nib), 4 * (4 + nib), 4 * (6 + nib));
        __m256i zw = _mm256_setr_epi32(z0, z0, z0, z0, z1, z1, z1, z1);
        z[e] = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(zw, sh), _mm256_set1_epi32(15)));
    }
}

INLINE void awq8_store(const __m256* acc, float* out, int M) {
    float t[8] __attribute__((aligned(32)));
    for (int e = 0; e < 8; e++) {
        _mm256_store_ps(t, acc[e]);
        for (int l = 0; l < 8; l++) {
            int o = awq8_output(e, l);
            if (o / 8 < M) out[o] = t[l];
        }
    }
}

static void awq8_tile1(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                       int64_t wc, int M, const uint8_t* xq, float* out) {
    int64_t words = rows / 8, stride = words * 4;
    __m256 acc[8], G[8];
    for (int e = 0; e < 8; e++) acc[e] = _mm256_setzero_ps();
    for (int g = 0; g * gs < cols; g++) {
        for (int e = 0; e < 8; e++) G[e] = _mm256_setzero_ps();
        float sy = 0;
        for (int b = g * gs / 32; b < (g + 1) * gs / 32; b++) {
            const uint8_t* yb = xq + (int64_t)b * Q8B;
            sy += f32at(yb + 4);
            __m256i s16[8];
            for (int e = 0; e < 8; e++) s16[e] = _mm256_setzero_si256();
            const uint8_t* p = qw + ((int64_t)b * 32 * words + wc) * 4;
            for (int q = 0; q < 8; q++, p += 4 * stride) {
                __builtin_prefetch(p + 32 * stride, 0, 0);
                __m256i w[8], y = _mm256_set1_epi32(load32i(yb + 8 + 4 * q));
                awq8_decode(p, stride, M, w);
#pragma GCC unroll 8
                for (int e = 0; e < 8; e++) s16[e] = _mm256_add_epi16(s16[e], _mm256_maddubs_epi16(w[e], y));
            }
            __m256 dy = _mm256_set1_ps(f32at(yb));
            for (int e = 0; e < 8; e++) G[e] = _mm256_fmadd_ps(dy, _mm256_cvtepi32_ps(widen_pairs(s16[e])), G[e]);
        }
        __m256 s[8], z[8];
        awq8_group_params(qz, sc, words, rows, g, wc, M, s, z);
        for (int e = 0; e < 8; e++) acc[e] = group_apply(acc[e], G[e], s[e], z[e], sy);
    }
    awq8_store(acc, out, M);
}

static void awq8_tileT(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                       int64_t wc, int M, const uint8_t* xq, int64_t xs, int T, float* out, int os) {
    int64_t words = rows / 8, stride = words * 4;
    int ch = gs < Q8CH / 2 ? gs : Q8CH / 2;
    __m256i wb[Q8CH / 8][8] __attribute__((aligned(32))); /* [quad][vector] */
    __m256 acc[TB][8] __attribute__((aligned(32)));
    __m256 Gs[TB][8] __attribute__((aligned(32)));
    float sys[TB];
    for (int tb = 0; tb < T; tb += TB) {
        int nt = T - tb < TB ? T - tb : TB;
        for (int t = 0; t < nt; t++)
            for (int e = 0; e < 8; e++) acc[t][e] = _mm256_setzero_ps();
        for (int g = 0; g * gs < cols; g++) {
            for (int c0 = g * gs; c0 < (g + 1) * gs; c0 += ch) {
                const uint8_t* p = qw + ((int64_t)c0 * words + wc) * 4;
                for (int q = 0; q < ch / 4; q++, p += 4 * stride) awq8_decode(p, stride, M, wb[q]);
                for (int t = 0; t < nt; t++) {
                    const uint8_t* yt = xq + (int64_t)(tb + t) * xs;
                    int first = c0 == g * gs;
                    __m256 G[8];
                    for (int e = 0; e < 8; e++) G[e] = first ? _mm256_setzero_ps() : Gs[t][e];
                    float sy = first ? 0.0f : sys[t];
                    for (int b = c0 / 32; b < (c0 + ch) / 32; b++) {
                        const uint8_t* yb = yt + (int64_t)b * Q8B;
                        sy += f32at(yb + 4);
                        __m256i s16[8];
                        for (int e = 0; e < 8; e++) s16[e] = _mm256_setzero_si256();
                        int q0 = (b * 32 - c0) / 4;
                        for (int q = 0; q < 8; q++) {
                            __m256i y = _mm256_set1_epi32(load32i(yb + 8 + 4 * q));
#pragma GCC unroll 8
                            for (int e = 0; e < 8; e++) s16[e] = _mm256_add_epi16(s16[e], _mm256_maddubs_epi16(wb[q0 + q][e], y));
                        }
                        __m256 dy = _mm256_set1_ps(f32at(yb));
                        for (int e = 0; e < 8; e++) G[e] = _mm256_fmadd_ps(dy, _mm256_cvtepi32_ps(widen_pairs(s16[e])), G[e]);
                    }
                    for (int e = 0; e < 8; e++) Gs[t][e] = G[e];
                    sys[t] = sy;
                }
            }
            __m256 s[8], z[8];
            awq8_group_params(qz, sc, words, rows, g, wc, M, s, z);
            for (int t = 0; t < nt; t++)
                for (int e = 0; e < 8; e++) acc[t][e] = group_apply(acc[t][e], Gs[t][e], s[e], z[e], sys[t]);
        }
        for (int t = 0; t < nt; t++) awq8_store(acc[t], out + (int64_t)(tb + t) * os, M);
    }
}

/* As chorus_matmul_awq with 8-bit activations; gs a multiple of 32 that is <= 128 or a multiple of 128. */
EXPORT void chorus_matmul8_awq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs,
                               const uint8_t* xq, int T, float* out, int os, int r0, int r1) {
    int64_t xs = (int64_t)cols / 32 * Q8B;
    for (int r = r0; r < r1; r += 64) {
        int M = (r1 - r) / 8 < 8 ? (r1 - r) / 8 : 8;
        if (T == 1) {
            if (M == 8) awq8_tile1(qw, qz, sc, rows, cols, gs, r / 8, 8, xq, out + r);
            else awq8_tile1(qw, qz, sc, rows, cols, gs, r / 8, M, xq, out + r);
        } else {
            awq8_tileT(qw, qz, sc, rows, cols, gs, r / 8, M, xq, xs, T, out + r, os);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * 16-bit activations (io.chorus.tensor.Q8Activations, format I16) times AWQ and GPTQ, with exact
 * integer dot products (vpmaddwd: 16 multiply-adds per instruction).
 *
 * Activation blocks of 128 inputs, 288 bytes each, little-endian: int16 q[128] in pair order (within
 * each 8 inputs stored as x0, x4, x1, x5, x2, x6, x3, x7, so int32 p = 4k + j of a block holds the
 * pair (x_{8k+j}, x_{8k+j+4})), float d, int32 sum[4] (the sum of q over inputs 32b .. 32b + 31),
 * 12 zero bytes. amax = max |x| over the block; amax == 0: d = 0 and q = 0; else d = amax / 32767f,
 * q = clamp(rint(x * (32767f / amax)), -32767, 32767). cols a multiple of 128.
 *
 * Per (output o, token): spans of L = min(gs, 128) consecutive inputs (gs 32, 64 or a multiple of 128),
 *
 *   y = 0; per span, in input order:
 *       y = fma(s[g][o] * d_b, (float) (isum - z[g][o] * sumq), y)
 *
 * isum = the sum over the span of q_i code[i][o] (int32), sumq = the sum of q_i over the span, z the
 * zero point (AWQ: the qzeros nibble; GPTQ: the qzeros nibble + zoff), d_b the span's block's d, s the
 * f16 scale of the span's group g. Integer sums are exact in any order, so the single-token and the
 * batched kernels give the same bits by construction. Within a span |isum|, |z sumq| <= 128 * 32767 *
 * 16 < 2^31: no int32 overflow.
 *
 * A 4-bit code pair (input a in the low 16 bits, input a + 4 in the high 16) times the broadcast
 * activation pair is one madd: GPTQ words hold 8 inputs of one output, so (W >> 4j) & 0x000F000F is
 * the pair (j, j + 4) of 8 outputs; AWQ words hold 8 outputs of one input, so the words of inputs a
 * and a + 4 are blended 16 bits each (nibbles 0-3, then 4-7) before the same shift and mask.
 * ------------------------------------------------------------------------------------------- */

#define I16B 288    /* bytes of one activation block */
#define I16SPAN 128 /* the longest span: one activation block */

INLINE __m256i pair_mask(void) { return _mm256_set1_epi32(0x000F000F); }

/* acc + madd(w, x), kept in a register as it is: GCC otherwise reassociates the integer adds of an
 * unrolled loop into a tree of madd results that spills to the stack. */
INLINE __m256i madd_acc(__m256i acc, __m256i w, __m256i x) {
    __m256i r = _mm256_add_epi32(acc, _mm256_madd_epi16(w, x));
    __asm__("" : "+x"(r));
    return r;
}

/* Span [c0, c0 + L) of an activation row: its first int32 pair, and d and sumq. */
INLINE const uint8_t* i16_span(const uint8_t* xq, int c0, int L, float* d, int32_t* sumq) {
    const uint8_t* blk = xq + (int64_t)(c0 / I16SPAN) * I16B;
    int o = c0 % I16SPAN;
    int32_t s = 0;
    for (int b = o / 32; b < (o + L) / 32; b++) s += load32i(blk + 260 + 4 * b);
    *d = f32at(blk + 256);
    *sumq = s;
    return blk + 2 * o;
}

/* 8 x 8 transpose: r[i] lane l becomes r[l] lane i. */
INLINE void transpose8(__m256* r) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* y = fma(s * d, (float) (isum - z * sumq), y), y from 0 on the first span (y read from and written to out). */
INLINE void i16_apply(__m256i isum, __m256i z, int32_t sumq, __m256 s, float d, float* out, int first) {
    __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(isum, _mm256_mullo_epi32(z, _mm256_set1_epi32(sumq))));
    __m256 y = first ? _mm256_setzero_ps() : _mm256_loadu_ps(out);
    _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_mul_ps(s, _mm256_set1_ps(d)), f, y));
}

/* The batched register tile: M vectors of decoded pairs (wb, ws vectors per pair) x K tokens (xp, token
 * stride xs) over np pairs; the int32 sums of token k, vector m land in Is[k * is + m]. M and K are
 * constants at every call, so the sums stay in registers: per pair M weight loads and K broadcasts
 * feed M x K madds. */
INLINE void i16_micro(const int M, const int K, const __m256i* wb, int ws, const uint8_t* xp, int64_t xs, int np,
                      __m256i* Is, int is) {
    __m256i a[4][Q4_NT];
#pragma GCC unroll 4
    for (int m = 0; m < M; m++)
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) a[m][k] = _mm256_setzero_si256();
    for (int p = 0; p < np; p++) {
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) {
            __m256i xb = _mm256_set1_epi32(load32i(xp + k * xs + 4 * p));
#pragma GCC unroll 4
            for (int m = 0; m < M; m++) a[m][k] = _mm256_add_epi32(a[m][k], _mm256_madd_epi16(wb[p * ws + m], xb));
        }
    }
#pragma GCC unroll 4
    for (int m = 0; m < M; m++)
#pragma GCC unroll 6
        for (int k = 0; k < K; k++) Is[k * is + m] = a[m][k];
}

#define I16_MICRO_K(M)                                                                                       \
    __attribute__((noinline)) static void i16_micro_##M(int K, const __m256i* wb, int ws, const uint8_t* xp, int64_t xs, int np, __m256i* Is, int is) { \
        switch (K) {                                                                                         \
        case 1: i16_micro(M, 1, wb, ws, xp, xs, np, Is, is); break;                                          \
        case 2: i16_micro(M, 2, wb, ws, xp, xs, np, Is, is); break;                                          \
        case 3: i16_micro(M, Q4_NT >= 3 ? 3 : 1, wb, ws, xp, xs, np, Is, is); break;                         \
        case 4: i16_micro(M, Q4_NT >= 4 ? 4 : 1, wb, ws, xp, xs, np, Is, is); break;                         \
        case 5: i16_micro(M, Q4_NT >= 5 ? 5 : 1, wb, ws, xp, xs, np, Is, is); break;                         \
        default: i16_micro(M, Q4_NT, wb, ws, xp, xs, np, Is, is); break;                                     \
        }                                                                                                    \
    }
I16_MICRO_K(1)
I16_MICRO_K(4)

/* ---- GPTQ: a tile is M <= GM vectors of 8 consecutive outputs. ---- */

/* Zeros (as int32, with zoff) and scales of group g for vectors m < M of the tile at row r. */
INLINE void gptq16_group_params(const uint8_t* qz, const uint8_t* sc, int64_t rows, int g, int64_t r, int M, int zoff,
                                __m256* s, __m256i* z) {
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    for (int m = 0; m < M; m++) {
        int64_t o = r + 8 * m;
        int32_t zw = load32i(qz + ((int64_t)g * (rows / 8) + o / 8) * 4);
        __m256i zn = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(zw), shifts), _mm256_set1_epi32(15));
        z[m] = _mm256_add_epi32(zn, _mm256_set1_epi32(zoff));
        s[m] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(sc + ((int64_t)g * rows + o) * 2)));
    }
}

/* One token, M vectors: code pairs decoded in registers. */
INLINE void gptq16_tile1(const int M, const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols,
                         int gs, int zoff, int64_t r, const uint8_t* xq, float* out) {
    const int L = gs < I16SPAN ? gs : I16SPAN;
    const __m256i mask = pair_mask();
    int64_t ks = rows * 4;
    for (int c0 = 0; c0 < cols; c0 += L) {
        float d;
        int32_t sumq;
        const uint8_t* xp = i16_span(xq, c0, L, &d, &sumq);
        __m256i acc[GM];
        for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_si256();
        const uint8_t* p = qw + ((int64_t)(c0 / 8) * rows + r) * 4;
        for (int k = 0; k < L / 8; k++, p += ks, xp += 16) {
            for (int m = 0; m < 32 * M; m += 64) __builtin_prefetch(p + 16 * ks + m, 0, 0);
            __m256i v[GM];
            for (int m = 0; m < M; m++) v[m] = _mm256_loadu_si256((const __m256i*)(p + 32 * m));
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                __m256i xb = _mm256_set1_epi32(load32i(xp + 4 * j));
                for (int m = 0; m < M; m++) acc[m] = madd_acc(acc[m], _mm256_and_si256(_mm256_srli_epi32(v[m], 4 * j), mask), xb);
            }
        }
        __m256 s[GM];
        __m256i z[GM];
        gptq16_group_params(qz, sc, rows, c0 / gs, r, M, zoff, s, z);
        for (int m = 0; m < M; m++) i16_apply(acc[m], z[m], sumq, s[m], d, out + 8 * m, c0 == 0);
    }
}

/* T tokens, M vectors: each span's code pairs decoded once into wb, every token runs over it. */
INLINE void gptq16_tileT(const int M, const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols,
                         int gs, int zoff, int64_t r, const uint8_t* xq, int64_t xs, int T, float* out, int os) {
    const int L = gs < I16SPAN ? gs : I16SPAN;
    const __m256i mask = pair_mask();
    __m256i wb[I16SPAN / 2][GM] __attribute__((aligned(32))); /* [pair][vector] */
    __m256i Is[Q4_NT][GM] __attribute__((aligned(32)));
    int64_t ks = rows * 4;
    for (int c0 = 0; c0 < cols; c0 += L) {
        const uint8_t* p = qw + ((int64_t)(c0 / 8) * rows + r) * 4;
        for (int k = 0; k < L / 8; k++, p += ks)
            for (int m = 0; m < M; m++) {
                __m256i v = _mm256_loadu_si256((const __m256i*)(p + 32 * m));
                for (int j = 0; j < 4; j++) wb[4 * k + j][m] = _mm256_and_si256(_mm256_srli_epi32(v, 4 * j), mask);
            }
        /* The next span (or the next tile's first) arrives while the tokens run over this one. */
        {
            const uint8_t* np = c0 + L < cols ? p : r + 16 * M <= rows ? qw + (r + 8 * M) * 4 : NULL;
            if (np)
                for (int k = 0; k < L / 8; k++)
                    for (int m = 0; m < 32 * M; m += 64) __builtin_prefetch(np + k * ks + m, 0, 3);
        }
        __m256 s[GM];
        __m256i z[GM];
        gptq16_group_params(qz, sc, rows, c0 / gs, r, M, zoff, s, z);
        for (int t = 0, K; t < T; t += K) {
            K = q4_tile_tokens(T - t);
            float d[Q4_NT];
            int32_t sumq[Q4_NT];
            const uint8_t* xp = NULL;
            for (int k = 0; k < K; k++) {
                const uint8_t* x1 = i16_span(xq + (int64_t)(t + k) * xs, c0, L, &d[k], &sumq[k]);
                if (k == 0) xp = x1;
            }
            if (M == GM) i16_micro_4(K, &wb[0][0], GM, xp, xs, L / 2, &Is[0][0], GM);
            else i16_micro_1(K, &wb[0][0], GM, xp, xs, L / 2, &Is[0][0], GM);
            for (int k = 0; k < K; k++)
                for (int m = 0; m < M; m++)
                    i16_apply(Is[k][m], z[m], sumq[k], s[m], d[k], out + (int64_t)(t + k) * os + 8 * m, c0 == 0);
        }
    }
}

/* GPTQ rows [r0, r1) (multiples of 8, trivial g_idx) times I16 activations; gs 32, 64 or a multiple of 128. */
EXPORT void chorus_matmul16_gptq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs, int zoff,
                                 const uint8_t* xq, int T, float* out, int os, int r0, int r1) {
    int64_t xs = (int64_t)cols / I16SPAN * I16B;
    int r = r0;
    if (T == 1) {
        for (; r + 8 * GM <= r1; r += 8 * GM) gptq16_tile1(GM, qw, qz, sc, rows, cols, gs, zoff, r, xq, out + r);
        for (; r < r1; r += 8) gptq16_tile1(1, qw, qz, sc, rows, cols, gs, zoff, r, xq, out + r);
        return;
    }
    for (; r + 8 * GM <= r1; r += 8 * GM) gptq16_tileT(GM, qw, qz, sc, rows, cols, gs, zoff, r, xq, xs, T, out + r, os);
    for (; r < r1; r += 8) gptq16_tileT(1, qw, qz, sc, rows, cols, gs, zoff, r, xq, xs, T, out + r, os);
}

/* ---- AWQ: a tile is M <= 8 words of one input (64 outputs); sums are kept per nibble position n
 * (vector n, lane w: output 8w + ORDER[n]) and put in natural order (vector w, lane l: output 8w + l)
 * by a transpose of the vectors taken in the order NIB (the nibble of output l). Odd positions are
 * masked in place (0x00F000F0, one shift by 8 serves positions 2 and 3): their sums are 16 times the
 * true ones, exact (|16 isum| <= 16 * 128 * 15 * 32767 < 2^31), and shifted back at the span's end. ---- */

static const int AWQ_NIB[8] = {0, 4, 1, 5, 2, 6, 3, 7};

/* Inputs a and a + 4 of the tile as code pairs of the 8 nibble positions (odd ones times 16). */
INLINE void awq16_pairs(const uint8_t* pa, const uint8_t* pb, int M, __m256i* w) {
    const __m256i m0 = pair_mask(), m1 = _mm256_slli_epi32(pair_mask(), 4);
    __m256i A = awq_words(pa, M), B = awq_words(pb, M);
    __m256i lo = _mm256_blend_epi16(A, _mm256_slli_epi32(B, 16), 0xAA);  /* positions 0-3 of a and b */
    __m256i hi = _mm256_blend_epi16(_mm256_srli_epi32(A, 16), B, 0xAA);  /* positions 4-7 */
    __m256i lo8 = _mm256_srli_epi32(lo, 8), hi8 = _mm256_srli_epi32(hi, 8);
    w[0] = _mm256_and_si256(lo, m0);
    w[1] = _mm256_and_si256(lo, m1);
    w[2] = _mm256_and_si256(lo8, m0);
    w[3] = _mm256_and_si256(lo8, m1);
    w[4] = _mm256_and_si256(hi, m0);
    w[5] = _mm256_and_si256(hi, m1);
    w[6] = _mm256_and_si256(hi8, m0);
    w[7] = _mm256_and_si256(hi8, m1);
}

/* Zeros of group g per nibble position (z[n], lane w: output 8w + ORDER[n]) and scales in natural
 * order (s[w], lane l: output 8w + l) of the tile at word wc (words past M read as 0). */
INLINE void awq16_params(const uint8_t* qz, const uint8_t* sc, int64_t words, int64_t rows, int g, int64_t wc, int M,
                         __m256i* z, __m256* s) {
    __m256i Z = awq_words(qz + ((int64_t)g * words + wc) * 4, M);
    for (int n = 0; n < 8; n++) z[n] = _mm256_and_si256(_mm256_srli_epi32(Z, 4 * n), _mm256_set1_epi32(15));
    const uint8_t* sg = sc + ((int64_t)g * rows + wc * 8) * 2;
    for (int w = 0; w < 8; w++) s[w] = w < M ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(sg + 16 * w))) : _mm256_setzero_ps();
}

/* The span's sums minus the zeros, in natural order, scaled and added into out (M words). */
INLINE void awq16_apply(const __m256i* acc, const __m256i* z, const __m256* s, int M, int32_t sumq, float d, float* out,
                        int first) {
    __m256i sq = _mm256_set1_epi32(sumq);
    __m256 f[8];
    for (int l = 0; l < 8; l++) {
        int n = AWQ_NIB[l];
        __m256i isum = n & 1 ? _mm256_srai_epi32(acc[n], 4) : acc[n];
        f[l] = _mm256_cvtepi32_ps(_mm256_sub_epi32(isum, _mm256_mullo_epi32(z[n], sq)));
    }
    transpose8(f);
    __m256 dv = _mm256_set1_ps(d);
    for (int w = 0; w < M; w++) {
        __m256 y = first ? _mm256_setzero_ps() : _mm256_loadu_ps(out + 8 * w);
        _mm256_storeu_ps(out + 8 * w, _mm256_fmadd_ps(_mm256_mul_ps(s[w], dv), f[w], y));
    }
}

/* One token, one span of L inputs from c0, one tile of M words: the int32 sums per nibble position. */
INLINE void awq16_span1(const uint8_t* qw, int64_t words, int64_t wc, const int M, int c0, int L, const uint8_t* xp,
                        int pf, __m256i* acc) {
    int64_t stride = words * 4;
    for (int n = 0; n < 8; n++) acc[n] = _mm256_setzero_si256();
    const uint8_t* p = qw + ((int64_t)c0 * words + wc) * 4;
    for (int k = 0; k < L / 8; k++, p += 8 * stride, xp += 16) {
        if (pf)
            for (int i = 0; i < 8; i++) __builtin_prefetch(p + (32 + i) * stride, 0, 0);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m256i w[8], xb = _mm256_set1_epi32(load32i(xp + 4 * j));
            awq16_pairs(p + j * stride, p + (j + 4) * stride, M, w);
#pragma GCC unroll 8
            for (int n = 0; n < 8; n++) acc[n] = madd_acc(acc[n], w[n], xb);
        }
    }
}

/* One token, a pair of 64-output tiles (Ma words at wc, Mb <= 8 at wc + 8, Mb possibly 0) span by span:
 * the second reads the other half of the 64-byte lines the first has just brought into L1. */
static void awq16_pair1(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                        int64_t wc, int Ma, int Mb, const uint8_t* xq, float* out) {
    const int L = gs < I16SPAN ? gs : I16SPAN;
    int64_t words = rows / 8;
    for (int c0 = 0; c0 < cols; c0 += L) {
        float d;
        int32_t sumq;
        const uint8_t* xp = i16_span(xq, c0, L, &d, &sumq);
        __m256i acc[8], z[8];
        __m256 s[8];
        if (Ma == 8) awq16_span1(qw, words, wc, 8, c0, L, xp, 1, acc);
        else awq16_span1(qw, words, wc, Ma, c0, L, xp, 1, acc);
        awq16_params(qz, sc, words, rows, c0 / gs, wc, Ma, z, s);
        awq16_apply(acc, z, s, Ma, sumq, d, out, c0 == 0);
        if (Mb == 0) continue;
        if (Mb == 8) awq16_span1(qw, words, wc + 8, 8, c0, L, xp, 0, acc);
        else awq16_span1(qw, words, wc + 8, Mb, c0, L, xp, 0, acc);
        awq16_params(qz, sc, words, rows, c0 / gs, wc + 8, Mb, z, s);
        awq16_apply(acc, z, s, Mb, sumq, d, out + 64, c0 == 0);
    }
}

/* T tokens, one tile of M words: each span's code pairs decoded once into wb, every token runs over it. */
static void awq16_tileT(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int64_t rows, int cols, int gs,
                        int64_t wc, int M, const uint8_t* xq, int64_t xs, int T, float* out, int os) {
    const int L = gs < I16SPAN ? gs : I16SPAN;
    int64_t words = rows / 8, stride = words * 4;
    __m256i wb[I16SPAN / 2][8] __attribute__((aligned(32))); /* [pair][nibble position] */
    __m256i Is[Q4_NT][8] __attribute__((aligned(32)));
    for (int c0 = 0; c0 < cols; c0 += L) {
        const uint8_t* p = qw + ((int64_t)c0 * words + wc) * 4;
        for (int k = 0; k < L / 8; k++, p += 8 * stride)
            for (int j = 0; j < 4; j++) awq16_pairs(p + j * stride, p + (j + 4) * stride, M, wb[4 * k + j]);
        /* The next span (or the next tile's first) arrives while the tokens run over this one. */
        {
            const uint8_t* np = c0 + L < cols ? p : wc + 8 < words ? qw + (wc + 8) * 4 : NULL;
            if (np)
                for (int i = 0; i < L; i++) __builtin_prefetch(np + i * stride, 0, 3);
        }
        __m256i z[8];
        __m256 s[8];
        awq16_params(qz, sc, words, rows, c0 / gs, wc, M, z, s);
        for (int t = 0, K; t < T; t += K) {
            K = q4_tile_tokens(T - t);
            float d[Q4_NT];
            int32_t sumq[Q4_NT];
            const uint8_t* xp = NULL;
            for (int k = 0; k < K; k++) {
                const uint8_t* x1 = i16_span(xq + (int64_t)(t + k) * xs, c0, L, &d[k], &sumq[k]);
                if (k == 0) xp = x1;
            }
            i16_micro_4(K, &wb[0][0], 8, xp, xs, L / 2, &Is[0][0], 8);
            i16_micro_4(K, &wb[0][4], 8, xp, xs, L / 2, &Is[0][4], 8);
            for (int k = 0; k < K; k++) awq16_apply(Is[k], z, s, M, sumq[k], d[k], out + (int64_t)(t + k) * os, c0 == 0);
        }
    }
}

/* AWQ rows [r0, r1) (multiples of 8) times I16 activations; gs 32, 64 or a multiple of 128. */
EXPORT void chorus_matmul16_awq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs,
                                const uint8_t* xq, int T, float* out, int os, int r0, int r1) {
    int64_t xs = (int64_t)cols / I16SPAN * I16B;
    if (T == 1) {
        for (int r = r0; r < r1; r += 128) {
            int n = (r1 - r) / 8, Ma = n < 8 ? n : 8, Mb = n - Ma < 8 ? n - Ma : 8;
            awq16_pair1(qw, qz, sc, rows, cols, gs, r / 8, Ma, Mb, xq, out + r);
        }
        return;
    }
    for (int r = r0; r < r1; r += 64) {
        int M = (r1 - r) / 8 < 8 ? (r1 - r) / 8 : 8;
        awq16_tileT(qw, qz, sc, rows, cols, gs, r / 8, M, xq, xs, T, out + r, os);
    }
}
