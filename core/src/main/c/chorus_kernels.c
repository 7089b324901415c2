/*
 * Chorus native matmul kernels, called from Java through FFM (io.chorus.tensor.NativeKernels).
 *
 * out[t * outStride + r] = sum_c W[r][c] * x[t * cols + c]  for r in [r0, r1), t in [0, T)
 *
 * W is stored in its GGUF block layout (one row = rowBytes bytes); x and out are float32.
 * Activations are never quantised: weights are decoded to float and multiplied in float32.
 *
 * Quantised types: a tile of 4 weight rows is decoded block by block (into registers or an L1
 * buffer) and multiplied at once with a group of up to NT tokens whose accumulators stay in
 * registers for the whole row (fused_tile). More tokens run group after group over panels of rows
 * that stay in L2, so weights come from memory once per step. Plain float types (F32/F16/BF16) do
 * the same in blocks of 32 when cols is a multiple of 32; other column counts decode 4 rows KC
 * columns at a time into an L1 buffer and run a register-tiled micro-kernel over the tokens,
 * spilling accumulators between column chunks.
 *
 * Either way every (row, token) pair owns one VL-lane accumulator that runs over the columns in
 * order and is summed across lanes in a fixed order at the end, so each output is computed by
 * exactly the same float operations whatever T is or however tokens are grouped: batching cannot
 * change a result by a single bit (NativeKernelsTest checks this).
 *
 * The same source builds for AVX-512 (VL = 16, 4 rows x 6 tokens = 24 accumulators of the 32
 * registers) and AVX2 (VL = 8, 4 rows x 2 tokens within 16 registers). Built with
 * -ffp-contract=off so decoding is plain multiplies and adds; the FMAs are explicit.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#ifdef __AVX512F__
#define VL 16
#define NT 6
typedef float vf __attribute__((vector_size(64)));
static inline vf vfma(vf a, vf b, vf c) { return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c); }
#define VARIANT "avx512"
#else
#define VL 8
#define NT 2
typedef float vf __attribute__((vector_size(32)));
static inline vf vfma(vf a, vf b, vf c) { return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c); }
#define VARIANT "avx2"
#endif

#define ROWS 4     /* weight rows decoded per tile */
#ifndef KC
#define KC 512     /* columns per chunk: a multiple of every block size (256) and of VL */
#endif
#ifndef TB
#define TB 64      /* tokens per pass over a row tile; bounds the accumulator buffer */
#endif

/* How far ahead weights are prefetched, in bytes (the single-token kernel rounds it up to whole
 * row tiles so each row stream prefetches its own future row). Measured on Zen 5: 4 KB ahead
 * streams a tall matrix at ~19 GB/s on one core, 16-32 KB ahead at ~35-42 GB/s. */
#ifndef PF_BYTES
#define PF_BYTES 24576
#endif

#define INLINE static inline __attribute__((always_inline))

/* Rows are streamed a tile (ROWS rows) at a time, each row from its own pointer; a row prefetches
 * the same column of the row this many rows later (>= PF_BYTES ahead, whole tiles). */
INLINE int64_t pf_rows(int64_t rowBytes) {
    return (PF_BYTES + ROWS * rowBytes - 1) / (ROWS * rowBytes) * ROWS;
}

/* 16 decoded floats: one zmm, or a pair of ymm on AVX2 (GCC handles 64-byte generic vectors
 * badly there, so both are explicit). Bytes are handled as __m128i with SSE intrinsics. */
INLINE float half_to_float(const uint8_t* p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m128i load16(const uint8_t* p) { return _mm_loadu_si128((const __m128i*)p); }
INLINE __m128i and8(__m128i v, int m) { return _mm_and_si128(v, _mm_set1_epi8((char)m)); }
/* Per-byte logical shifts (x86 shifts 16-bit lanes; the mask drops bits from the neighbour). */
INLINE __m128i shr8(__m128i v, int k) { return and8(_mm_srl_epi16(v, _mm_cvtsi32_si128(k)), 0xFF >> k); }
INLINE __m128i shl8_4(__m128i v) { return _mm_slli_epi16(v, 4); } /* bytes must be < 16 */
INLINE __m128i or8(__m128i a, __m128i b) { return _mm_or_si128(a, b); }

#ifdef __AVX512F__
typedef __m512 f16x;
INLINE void store16(float* dst, f16x v) { _mm512_storeu_ps(dst, v); }
INLINE f16x i8_to_f(__m128i q) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)); }
INLINE f16x u8_to_f(__m128i q) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q)); }
INLINE f16x mul_s(f16x v, float a) { return _mm512_mul_ps(v, _mm512_set1_ps(a)); }            /* v a */
INLINE f16x mul_sub_s(f16x v, float a, float b) { return _mm512_sub_ps(mul_s(v, a), _mm512_set1_ps(b)); } /* v a - b */
INLINE f16x sub_mul_s(f16x v, float a, float b) { return mul_s(_mm512_sub_ps(v, _mm512_set1_ps(a)), b); } /* (v - a) b */
#else
typedef struct { __m256 lo, hi; } f16x;
INLINE void store16(float* dst, f16x v) { _mm256_storeu_ps(dst, v.lo); _mm256_storeu_ps(dst + 8, v.hi); }
INLINE f16x i8_to_f(__m128i q) {
    return (f16x){_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)))};
}
INLINE f16x u8_to_f(__m128i q) {
    return (f16x){_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(q, 8)))};
}
INLINE f16x mul_s(f16x v, float a) {
    __m256 s = _mm256_set1_ps(a);
    return (f16x){_mm256_mul_ps(v.lo, s), _mm256_mul_ps(v.hi, s)};
}
INLINE f16x mul_sub_s(f16x v, float a, float b) {
    __m256 s = _mm256_set1_ps(a), m = _mm256_set1_ps(b);
    return (f16x){_mm256_sub_ps(_mm256_mul_ps(v.lo, s), m), _mm256_sub_ps(_mm256_mul_ps(v.hi, s), m)};
}
INLINE f16x sub_mul_s(f16x v, float a, float b) {
    __m256 m = _mm256_set1_ps(a), s = _mm256_set1_ps(b);
    return (f16x){_mm256_mul_ps(_mm256_sub_ps(v.lo, m), s), _mm256_mul_ps(_mm256_sub_ps(v.hi, m), s)};
}
INLINE f16x mul_add_s(f16x v, float a, float b) { /* v a + b */
    __m256 s = _mm256_set1_ps(a), m = _mm256_set1_ps(b);
    return (f16x){_mm256_add_ps(_mm256_mul_ps(v.lo, s), m), _mm256_add_ps(_mm256_mul_ps(v.hi, s), m)};
}
/* 16 bits (bit j for byte j) to bytes: 0x10 where the bit is set, else 0 (the fifth bit of Q5_x). */
INLINE __m128i bits_to_0x10(uint32_t bits) {
    __m128i v = _mm_shuffle_epi8(_mm_cvtsi32_si128((int)bits), _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    __m128i sel = _mm_set1_epi64x((long long)0x8040201008040201ULL);
    return and8(_mm_cmpeq_epi8(_mm_and_si128(v, sel), sel), 0x10);
}
#endif

INLINE vf vload(const float* p) { vf v; memcpy(&v, p, sizeof v); return v; }
INLINE void vstore(float* p, vf v) { memcpy(p, &v, sizeof v); }
/* n < VL floats, zero-filled: column tails of the plain float types. */
INLINE vf vload_tail(const float* p, int n) {
    float t[VL] = {0};
    for (int i = 0; i < n; i++) t[i] = p[i];
    return vload(t);
}
/* Lane sum in a fixed pairwise order. */
INLINE float hsum(vf v) {
    float t[VL];
    memcpy(t, &v, sizeof t);
#pragma GCC unroll 8
    for (int w = VL / 2; w >= 1; w /= 2) {
#pragma GCC unroll 16
        for (int i = 0; i < w; i++) t[i] += t[i + w];
    }
    return t[0];
}

/* ---------------------------------------------------------------------------------------------
 * Decoders. Block decoders (blk_*: one block of BS values into dst) feed the fused kernel; chunk
 * decoders (dec_*: columns [c0, c0 + n) of one row, prefetching pf bytes ahead) feed the tiles.
 * ------------------------------------------------------------------------------------------- */

typedef void (*decode_fn)(const uint8_t* row, int c0, int n, float* dst, int64_t pf);

/* Q8_0: half d; int8 qs[32]; y = d * q (exact in float). */
INLINE void blk_q8_0(const uint8_t* b, float* dst) {
    float d = half_to_float(b);
    store16(dst, mul_s(i8_to_f(load16(b + 2)), d));
    store16(dst + 16, mul_s(i8_to_f(load16(b + 18)), d));
}

#ifdef __AVX512F__
/* 4/5-bit codes decode by table: the 16 (or 32) possible values of a (sub-)block are computed
 * once with the same float operations as the conversion path would use per value, then vpermps
 * picks them by code (it reads only the low 4 bits of each index, so no masking is needed). */
INLINE __m512 iota16(float base) {
    return _mm512_add_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_ps(base));
}
#endif

/* Q4_0: half d; u8 qs[16]; y[j] = (lo(qs[j]) - 8) d, y[j + 16] = (hi(qs[j]) - 8) d. */
INLINE void blk_q4_0(const uint8_t* b, float* dst) {
    float d = half_to_float(b);
#ifdef __AVX512F__
    __m512 tab = _mm512_mul_ps(iota16(-8.0f), _mm512_set1_ps(d));
    __m512i q = _mm512_cvtepu8_epi32(load16(b + 2));
    _mm512_storeu_ps(dst, _mm512_permutexvar_ps(q, tab));
    _mm512_storeu_ps(dst + 16, _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), tab));
#else
    __m128i q = load16(b + 2);
    store16(dst, sub_mul_s(u8_to_f(and8(q, 15)), 8.0f, d));
    store16(dst + 16, sub_mul_s(u8_to_f(shr8(q, 4)), 8.0f, d));
#endif
}

/* Q4_1: half d, m; u8 qs[16]; y[j] = lo(qs[j]) d + m, y[j + 16] = hi(qs[j]) d + m. q d is exact
 * in float, so the one rounding is that of the add, as in ggml. */
INLINE void blk_q4_1(const uint8_t* b, float* dst) {
    float d = half_to_float(b), m = half_to_float(b + 2);
#ifdef __AVX512F__
    __m512 tab = _mm512_add_ps(_mm512_mul_ps(iota16(0.0f), _mm512_set1_ps(d)), _mm512_set1_ps(m));
    __m512i q = _mm512_cvtepu8_epi32(load16(b + 4));
    _mm512_storeu_ps(dst, _mm512_permutexvar_ps(q, tab));
    _mm512_storeu_ps(dst + 16, _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), tab));
#else
    __m128i q = load16(b + 4);
    store16(dst, mul_add_s(u8_to_f(and8(q, 15)), d, m));
    store16(dst + 16, mul_add_s(u8_to_f(shr8(q, 4)), d, m));
#endif
}

/* Q5_0 / Q5_1: 5-bit codes q = nibble | (bit j of the 32-bit qh) << 4, nibbles as in Q4_0/Q4_1.
 * Q5_0 (half d; u8 qh[4]; u8 qs[16]): y = (q - 16) d. Q5_1 (half d, m; u8 qh[4]; u8 qs[16]):
 * y = q d + m. AVX-512 looks the 32 possible values up in two tables (vpermt2ps reads the low 5
 * bits of each index; the fifth bit is or-ed in under a mask taken straight from qh). */
INLINE void blk_q5(const uint8_t* qhp, float* dst, float d, float m, int hasMin) {
    uint32_t qh;
    memcpy(&qh, qhp, 4);
    const uint8_t* qs = qhp + 4;
#ifdef __AVX512F__
    __m512 vd = _mm512_set1_ps(d);
    __m512 t0 = _mm512_mul_ps(iota16(hasMin ? 0.0f : -16.0f), vd);
    __m512 t1 = _mm512_mul_ps(iota16(hasMin ? 16.0f : 0.0f), vd);
    if (hasMin) {
        t0 = _mm512_add_ps(t0, _mm512_set1_ps(m));
        t1 = _mm512_add_ps(t1, _mm512_set1_ps(m));
    }
    __m512i q = _mm512_cvtepu8_epi32(load16(qs));
    __m512i sixteen = _mm512_set1_epi32(16);
    __m512i i0 = _mm512_and_si512(q, _mm512_set1_epi32(15));
    i0 = _mm512_mask_or_epi32(i0, (__mmask16)(qh & 0xFFFF), i0, sixteen);
    __m512i i1 = _mm512_srli_epi32(q, 4);
    i1 = _mm512_mask_or_epi32(i1, (__mmask16)(qh >> 16), i1, sixteen);
    _mm512_storeu_ps(dst, _mm512_permutex2var_ps(t0, i0, t1));
    _mm512_storeu_ps(dst + 16, _mm512_permutex2var_ps(t0, i1, t1));
#else
    __m128i q = load16(qs);
    __m128i lo = or8(and8(q, 15), bits_to_0x10(qh & 0xFFFF));
    __m128i hi = or8(shr8(q, 4), bits_to_0x10(qh >> 16));
    if (hasMin) {
        store16(dst, mul_add_s(u8_to_f(lo), d, m));
        store16(dst + 16, mul_add_s(u8_to_f(hi), d, m));
    } else {
        store16(dst, sub_mul_s(u8_to_f(lo), 16.0f, d));
        store16(dst + 16, sub_mul_s(u8_to_f(hi), 16.0f, d));
    }
#endif
}
INLINE void blk_q5_0(const uint8_t* b, float* dst) { blk_q5(b + 2, dst, half_to_float(b), 0.0f, 0); }
INLINE void blk_q5_1(const uint8_t* b, float* dst) { blk_q5(b + 4, dst, half_to_float(b), half_to_float(b + 2), 1); }

/* 32 values of the fixed non-linear table (llama.cpp kvalues_iq4nl) with scale d: codes in the low
 * (values 0..15) and high (16..31) nibbles of qs[0..16): y[j] = d K[lo(qs[j])], y[j + 16] = d K[hi(qs[j])].
 * IQ4_NL blocks and IQ4_XS sub-blocks. */
INLINE void iq4_32(const uint8_t* qs, float d, float* dst) {
#ifdef __AVX512F__
    __m512 tab = _mm512_mul_ps(_mm512_setr_ps(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113),
                               _mm512_set1_ps(d));
    __m512i q = _mm512_cvtepu8_epi32(load16(qs));
    _mm512_storeu_ps(dst, _mm512_permutexvar_ps(q, tab));
    _mm512_storeu_ps(dst + 16, _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), tab));
#else
    const __m128i k = _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    __m128i q = load16(qs);
    store16(dst, mul_s(i8_to_f(_mm_shuffle_epi8(k, and8(q, 15))), d));
    store16(dst + 16, mul_s(i8_to_f(_mm_shuffle_epi8(k, shr8(q, 4))), d));
#endif
}

/* IQ4_NL: half d; u8 qs[16]. */
INLINE void blk_iq4_nl(const uint8_t* b, float* dst) { iq4_32(b + 2, half_to_float(b), dst); }

/* 6-bit scale and min of sub-block j from the 12 packed bytes s (Q4_K, Q5_K). */
INLINE void scale_min(const uint8_t* s, int j, int* sc, int* m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q4_K: half d, dmin; u8 scales[12]; u8 qs[128]; chunk c of 64 values: low nibbles of
 * qs[32c..32c+32) are sub-block 2c, high nibbles 2c+1; y = d sc q - dmin m. */
INLINE void blk_q4_k(const uint8_t* b, float* dst) {
    float d = half_to_float(b), dmin = half_to_float(b + 2);
    const uint8_t* qs = b + 16;
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        int sc0, m0, sc1, m1;
        scale_min(b + 4, 2 * c, &sc0, &m0);
        scale_min(b + 4, 2 * c + 1, &sc1, &m1);
        float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
        float* y = dst + 64 * c;
#ifdef __AVX512F__
        __m512 iota = iota16(0.0f);
        __m512 t0 = _mm512_sub_ps(_mm512_mul_ps(iota, _mm512_set1_ps(d0)), _mm512_set1_ps(mm0));
        __m512 t1 = _mm512_sub_ps(_mm512_mul_ps(iota, _mm512_set1_ps(d1)), _mm512_set1_ps(mm1));
        for (int h = 0; h < 2; h++) {
            __m512i q = _mm512_cvtepu8_epi32(load16(qs + 32 * c + 16 * h));
            _mm512_storeu_ps(y + 16 * h, _mm512_permutexvar_ps(q, t0));
            _mm512_storeu_ps(y + 32 + 16 * h, _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), t1));
        }
#else
        for (int h = 0; h < 2; h++) {
            __m128i q = load16(qs + 32 * c + 16 * h);
            store16(y + 16 * h, mul_sub_s(u8_to_f(and8(q, 15)), d0, mm0));
            store16(y + 32 + 16 * h, mul_sub_s(u8_to_f(shr8(q, 4)), d1, mm1));
        }
#endif
    }
}

/* Q5_K: half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]; as Q4_K plus a fifth bit from qh
 * (bit 2c for the low nibbles of chunk c, bit 2c+1 for the high ones). */
INLINE void blk_q5_k(const uint8_t* b, float* dst) {
    float d = half_to_float(b), dmin = half_to_float(b + 2);
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + 48;
    for (int c = 0; c < 4; c++) {
        int sc0, m0, sc1, m1;
        scale_min(b + 4, 2 * c, &sc0, &m0);
        scale_min(b + 4, 2 * c + 1, &sc1, &m1);
        float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
        float* y = dst + 64 * c;
        for (int h = 0; h < 2; h++) {
            __m128i q = load16(qs + 32 * c + 16 * h);
            __m128i hb = load16(qh + 16 * h);
            __m128i lo = or8(and8(q, 15), shl8_4(and8(shr8(hb, 2 * c), 1)));
            __m128i hi = or8(shr8(q, 4), shl8_4(and8(shr8(hb, 2 * c + 1), 1)));
            store16(y + 16 * h, mul_sub_s(u8_to_f(lo), d0, mm0));
            store16(y + 32 + 16 * h, mul_sub_s(u8_to_f(hi), d1, mm1));
        }
    }
}

/* Q6_K: u8 ql[128]; u8 qh[64]; int8 scales[16]; half d. Every run of 16 values shares
 * scales[position / 16]; y = d * sc * (q6 - 32). */
INLINE void blk_q6_k(const uint8_t* b, float* dst) {
    float d = half_to_float(b + 208);
    for (int h = 0; h < 2; h++) {
        const uint8_t* ql = b + 64 * h;
        const uint8_t* qh = b + 128 + 32 * h;
        const int8_t* sc = (const int8_t*)(b + 192 + 8 * h);
        float* y = dst + 128 * h;
        for (int g = 0; g < 2; g++) {
            __m128i l0 = load16(ql + 16 * g), l1 = load16(ql + 32 + 16 * g);
            __m128i hq = load16(qh + 16 * g);
            __m128i q1 = or8(and8(l0, 15), shl8_4(and8(hq, 3)));
            __m128i q2 = or8(and8(l1, 15), shl8_4(and8(shr8(hq, 2), 3)));
            __m128i q3 = or8(shr8(l0, 4), shl8_4(and8(shr8(hq, 4), 3)));
            __m128i q4 = or8(shr8(l1, 4), shl8_4(shr8(hq, 6)));
            store16(y + 16 * g, sub_mul_s(u8_to_f(q1), 32.0f, d * sc[g]));
            store16(y + 32 + 16 * g, sub_mul_s(u8_to_f(q2), 32.0f, d * sc[g + 2]));
            store16(y + 64 + 16 * g, sub_mul_s(u8_to_f(q3), 32.0f, d * sc[g + 4]));
            store16(y + 96 + 16 * g, sub_mul_s(u8_to_f(q4), 32.0f, d * sc[g + 6]));
        }
    }
}

/* 2-bit field k/2 of every byte (k even): a 16-bit lane shift, then the mask drops the neighbour's bits. */
INLINE __m128i bits2(__m128i v, int k) { return and8(_mm_srl_epi16(v, _mm_cvtsi32_si128(k)), 3); }

/* Q2_K: u8 scales[16]; u8 qs[64]; half d, dmin. Run i = 8h + 2j + g of 16 values is the 2-bit
 * field j of qs[32h + 16g + l]; y = d (sc & 15) q - dmin (sc >> 4) with sc = scales[i]. */
INLINE void blk_q2_k(const uint8_t* b, float* dst) {
    float d = half_to_float(b + 80), dmin = half_to_float(b + 82);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) {
            __m128i q = load16(b + 16 + 32 * h + 16 * g);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                int sc = b[8 * h + 2 * j + g];
                store16(dst + 128 * h + 32 * j + 16 * g, mul_sub_s(u8_to_f(bits2(q, 2 * j)), d * (sc & 15), dmin * (sc >> 4)));
            }
        }
    }
}

/* Q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d. Run i = 8h + 2j + g: low bits = field j
 * of qs[32h + 16g + l], high bit = bit 4h + j of hmask[16g + l]; y = d (sc_i - 32) (low + 4 high - 4),
 * sc_i a 6-bit value: 4 bits from scales[i % 8] (high nibble when i >= 8), 2 from scales[8 + i % 4]. */
INLINE void blk_q3_k(const uint8_t* b, float* dst) {
    float d = half_to_float(b + 108);
    uint32_t a0, a1, t;
    memcpy(&a0, b + 96, 4);
    memcpy(&a1, b + 100, 4);
    memcpy(&t, b + 104, 4);
    /* all 16 scales unpacked at once: scale i in byte i of w */
    uint32_t w[4] = {(a0 & 0x0F0F0F0F) | ((t & 0x03030303) << 4), (a1 & 0x0F0F0F0F) | (((t >> 2) & 0x03030303) << 4),
                     ((a0 >> 4) & 0x0F0F0F0F) | (((t >> 4) & 0x03030303) << 4),
                     ((a1 >> 4) & 0x0F0F0F0F) | (((t >> 6) & 0x03030303) << 4)};
    const uint8_t* sc = (const uint8_t*)w;
    const __m128i four = _mm_set1_epi8(4);
#pragma GCC unroll 2
    for (int g = 0; g < 2; g++) {
        __m128i hm = load16(b + 16 * g);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m128i q = load16(b + 32 + 32 * h + 16 * g);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                __m128i hi = _mm_slli_epi16(and8(_mm_srl_epi16(hm, _mm_cvtsi32_si128(4 * h + j)), 1), 2);
                __m128i v = _mm_sub_epi8(or8(bits2(q, 2 * j), hi), four);
                store16(dst + 128 * h + 32 * j + 16 * g, mul_s(i8_to_f(v), d * ((int)sc[8 * h + 2 * j + g] - 32)));
            }
        }
    }
}

/* IQ4_XS: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]. Sub-block j of 32 has the 6-bit scale
 * ls = nibble j % 2 of scales_l[j / 2] | bits 2j..2j+1 of scales_h << 4 and is coded as IQ4_NL
 * (qs[16j..16j+16)) with scale d (ls - 32). */
INLINE void blk_iq4_xs(const uint8_t* b, float* dst) {
    float d = half_to_float(b);
    uint16_t sh;
    memcpy(&sh, b + 2, 2);
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        int ls = ((b[4 + j / 2] >> (4 * (j & 1))) & 15) | (((sh >> (2 * j)) & 3) << 4);
        iq4_32(b + 8 + 16 * j, d * (ls - 32), dst + 32 * j);
    }
}

/* Chunk decoders (columns [c0, c0 + n) of a row, block by block) for the tiled path. */
#define CHUNK_DECODER(NAME, BS, BB)                                                               \
    static void dec_##NAME(const uint8_t* row, int c0, int n, float* dst, int64_t pf) {           \
        const uint8_t* b = row + (int64_t)(c0 / BS) * BB;                                         \
        for (int j = 0; j < n; j += BS, b += BB) {                                                \
            __builtin_prefetch(b + pf, 0, 3);                                                     \
            blk_##NAME(b, dst + j);                                                               \
        }                                                                                         \
    }
CHUNK_DECODER(q4_k, 256, 144)
#if NT < 6 /* the tiled path of the 32-value types runs only in the AVX2 build (see EXPORT_L) */
CHUNK_DECODER(q4_1, 32, 20)
CHUNK_DECODER(q5_0, 32, 22)
CHUNK_DECODER(q5_1, 32, 24)
CHUNK_DECODER(iq4_nl, 32, 18)
#endif
CHUNK_DECODER(q5_k, 256, 176)
CHUNK_DECODER(q6_k, 256, 210)
CHUNK_DECODER(q2_k, 256, 84)
CHUNK_DECODER(q3_k, 256, 110)
CHUNK_DECODER(iq4_xs, 256, 136)

/* Plain float types in blocks of 32 values, for the fused kernel when cols is a multiple of 32. */
INLINE void blk_f16(const uint8_t* b, float* dst) {
#ifdef __AVX512F__
    _mm512_storeu_ps(dst, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)b)));
    _mm512_storeu_ps(dst + 16, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(b + 32))));
#else
    for (int j = 0; j < 32; j += 8) _mm256_storeu_ps(dst + j, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(b + 2 * j))));
#endif
}

INLINE void blk_bf16(const uint8_t* b, float* dst) {
    for (int j = 0; j < 32; j += 8) {
        __m256i bits = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(b + 2 * j))), 16);
        _mm256_storeu_si256((__m256i*)(dst + j), bits);
    }
}

INLINE void blk_f32(const uint8_t* b, float* dst) { memcpy(dst, b, 128); }

/* F16: IEEE half, any column count. */
INLINE void prefetch_range(const uint8_t* p, int64_t bytes, int64_t pf) {
    for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off + pf, 0, 3);
}

static void dec_f16(const uint8_t* row, int c0, int n, float* dst, int64_t pf) {
    const uint8_t* p = row + 2 * (int64_t)c0;
    prefetch_range(p, 2 * (int64_t)n, pf);
    int j = 0;
#ifdef __AVX512F__
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(dst + j, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(p + 2 * j))));
#endif
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + j, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(p + 2 * j))));
    for (; j < n; j++) dst[j] = half_to_float(p + 2 * j);
}

/* BF16: the top half of a float32. */
static void dec_bf16(const uint8_t* row, int c0, int n, float* dst, int64_t pf) {
    const uint8_t* p = row + 2 * (int64_t)c0;
    prefetch_range(p, 2 * (int64_t)n, pf);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i bits = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(p + 2 * j))), 16);
        _mm256_storeu_si256((__m256i*)(dst + j), bits);
    }
    for (; j < n; j++) {
        uint32_t bits = (uint32_t)(p[2 * j] | p[2 * j + 1] << 8) << 16;
        memcpy(dst + j, &bits, 4);
    }
}

static void dec_f32(const uint8_t* row, int c0, int n, float* dst, int64_t pf) {
    prefetch_range(row + 4 * (int64_t)c0, 4 * (int64_t)n, pf);
    memcpy(dst, row + 4 * (int64_t)c0, 4 * (size_t)n);
}

/* ---------------------------------------------------------------------------------------------
 * Micro-kernel: R decoded rows (wb, stride KC) x K tokens (xp, stride xs), columns [0, n).
 * Accumulators live in registers; between column chunks they are kept in acc (row stride TB * VL,
 * token stride VL). On the first chunk they start at zero, on the last they are summed into out.
 * ------------------------------------------------------------------------------------------- */
INLINE void micro(int R, int K, const float* wb, const float* xp, int64_t xs, int n,
                  float* acc, int first, int last, float* out, int64_t outStride) {
    vf a[ROWS][NT];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 6
        for (int t = 0; t < K; t++) a[i][t] = first ? (vf){0} : vload(acc + ((int64_t)i * TB + t) * VL);
    }
    int c = 0;
    for (; c + VL <= n; c += VL) {
        vf w[ROWS];
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) w[i] = vload(wb + i * KC + c);
#pragma GCC unroll 6
        for (int t = 0; t < K; t++) {
            vf xv = vload(xp + t * xs + c);
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) a[i][t] = vfma(w[i], xv, a[i][t]);
        }
    }
    if (c < n) { /* column tail of the plain float types */
        vf w[ROWS];
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) w[i] = vload_tail(wb + i * KC + c, n - c);
#pragma GCC unroll 6
        for (int t = 0; t < K; t++) {
            vf xv = vload_tail(xp + t * xs + c, n - c);
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) a[i][t] = vfma(w[i], xv, a[i][t]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 6
        for (int t = 0; t < K; t++) {
            if (last) out[t * outStride + i] = hsum(a[i][t]);
            else vstore(acc + ((int64_t)i * TB + t) * VL, a[i][t]);
        }
    }
}

#define MICRO_R(R)                                                                                \
    static void micro_##R(int K, const float* wb, const float* xp, int64_t xs, int n, float* acc, \
                          int first, int last, float* out, int64_t os) {                          \
        switch (K) {                                                                              \
        case 1: micro(R, 1, wb, xp, xs, n, acc, first, last, out, os); break;                     \
        case 2: micro(R, 2, wb, xp, xs, n, acc, first, last, out, os); break;                     \
        case 3: if (NT >= 3) micro(R, NT >= 3 ? 3 : 1, wb, xp, xs, n, acc, first, last, out, os); break; \
        case 4: if (NT >= 4) micro(R, NT >= 4 ? 4 : 1, wb, xp, xs, n, acc, first, last, out, os); break; \
        case 5: if (NT >= 5) micro(R, NT >= 5 ? 5 : 1, wb, xp, xs, n, acc, first, last, out, os); break; \
        default: micro(R, NT, wb, xp, xs, n, acc, first, last, out, os); break;                   \
        }                                                                                         \
    }
MICRO_R(1)
MICRO_R(2)
MICRO_R(3)
MICRO_R(4)

typedef void (*micro_fn)(int, const float*, const float*, int64_t, int, float*, int, int, float*, int64_t);
static const micro_fn MICRO[ROWS + 1] = {0, micro_1, micro_2, micro_3, micro_4};

/* A group of K <= NT tokens: R rows decoded block by block into a buffer that never leaves L1
 * and multiplied with the K tokens at once, accumulators in registers the whole way; weight
 * streams are prefetched ahead. This streams weights at memory speed for T == 1 and avoids the
 * chunk buffer round trip for small batches. Each (row, token) accumulator sees the
 * same floats in the same order as in the tiled path, so results are bit-identical to it. */
INLINE void fused_tile(int R, int K, void (*blk)(const uint8_t*, float*), int BS, int BB, const uint8_t* w,
                       int64_t rowBytes, int64_t pfRows, int cols, const float* x, float* out, int64_t outStride) {
    vf a[ROWS][NT];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 6
        for (int t = 0; t < K; t++) a[i][t] = (vf){0};
    }
    float tmp[ROWS][256] __attribute__((aligned(64)));
    const uint8_t* b = w;
    for (int c = 0; c < cols; c += BS, b += BB) {
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            __builtin_prefetch(b + (i + pfRows) * rowBytes, 0, 3);
            blk(b + i * rowBytes, tmp[i]);
        }
#pragma GCC unroll 16
        for (int v = 0; v < BS; v += VL) {
            vf wv[ROWS];
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) wv[i] = vload(tmp[i] + v);
#pragma GCC unroll 6
            for (int t = 0; t < K; t++) {
                vf xv = vload(x + (int64_t)t * cols + c + v);
#pragma GCC unroll 4
                for (int i = 0; i < R; i++) a[i][t] = vfma(wv[i], xv, a[i][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 6
        for (int t = 0; t < K; t++) out[t * outStride + i] = hsum(a[i][t]);
    }
}

#define FUSED_K(NAME, BS, BB, K)                                                                   \
    static void fused_##NAME##_##K(const uint8_t* w, int64_t rowBytes, int cols, const float* x,  \
                                   float* out, int64_t os, int r0, int r1) {                      \
        int64_t pfRows = pf_rows(rowBytes);                                                        \
        int r = r0;                                                                                \
        for (; r + ROWS <= r1; r += ROWS)                                                          \
            fused_tile(ROWS, K, blk_##NAME, BS, BB, w + r * rowBytes, rowBytes, pfRows, cols, x, out + r, os); \
        for (; r < r1; r++) fused_tile(1, K, blk_##NAME, BS, BB, w + r * rowBytes, rowBytes, pfRows, cols, x, out + r, os); \
    }
#if NT >= 6
#define MATVEC(NAME, BS, BB)                                                                       \
    FUSED_K(NAME, BS, BB, 1) FUSED_K(NAME, BS, BB, 2) FUSED_K(NAME, BS, BB, 3)                     \
    FUSED_K(NAME, BS, BB, 4) FUSED_K(NAME, BS, BB, 5) FUSED_K(NAME, BS, BB, 6)                     \
    static void (*const fused_##NAME[])(const uint8_t*, int64_t, int, const float*, float*, int64_t, int, int) = { \
        0, fused_##NAME##_1, fused_##NAME##_2, fused_##NAME##_3, fused_##NAME##_4, fused_##NAME##_5, fused_##NAME##_6};
#else
#define MATVEC(NAME, BS, BB)                                                                       \
    FUSED_K(NAME, BS, BB, 1) FUSED_K(NAME, BS, BB, 2)                                              \
    static void (*const fused_##NAME[])(const uint8_t*, int64_t, int, const float*, float*, int64_t, int, int) = { \
        0, fused_##NAME##_1, fused_##NAME##_2};
#endif
MATVEC(q8_0, 32, 34)
MATVEC(q4_0, 32, 18)
MATVEC(q4_1, 32, 20)
MATVEC(q5_0, 32, 22)
MATVEC(q5_1, 32, 24)
MATVEC(iq4_nl, 32, 18)
MATVEC(q4_k, 256, 144)
MATVEC(q5_k, 256, 176)
MATVEC(q6_k, 256, 210)
MATVEC(q2_k, 256, 84)
MATVEC(q3_k, 256, 110)
MATVEC(iq4_xs, 256, 136)
MATVEC(f16, 32, 64)
MATVEC(bf16, 32, 64)
MATVEC(f32, 32, 128)

/* ---------------------------------------------------------------------------------------------
 * Single-token K-quant kernels. One token leaves the FMA units idle while the 256-value blocks are
 * decoded, so for T == 1 each block is decoded straight into registers and multiplied there, with
 * no round trip through the L1 buffer, and its cache lines are prefetched whole. Every value is
 * decoded by the same expression as in blk_* and added to the row's accumulator in column order,
 * as fused_tile does, so the results are bit-identical to the batched paths.
 * ------------------------------------------------------------------------------------------- */

/* acc += y . x[0..16) as the fused tile does it: VL lanes at a time in column order. */
#ifdef __AVX512F__
INLINE vf fma16(f16x y, const float* x, vf acc) { return vfma((vf)y, vload(x), acc); }
#else
INLINE vf fma16(f16x y, const float* x, vf acc) { return vfma((vf)y.hi, vload(x + 8), vfma((vf)y.lo, vload(x), acc)); }
#endif

/* The 6-bit scales and mins of the 8 sub-blocks of a Q4_K/Q5_K block, from three word loads. */
INLINE void scales_mins(const uint8_t* s, int* sc, int* m) {
    uint32_t s0, s1, s2;
    memcpy(&s0, s, 4);
    memcpy(&s1, s + 4, 4);
    memcpy(&s2, s + 8, 4);
    uint32_t sc_lo = s0 & 0x3F3F3F3F, m_lo = s1 & 0x3F3F3F3F;
    uint32_t sc_hi = (s2 & 0x0F0F0F0F) | ((s0 >> 2) & 0x30303030);
    uint32_t m_hi = ((s2 >> 4) & 0x0F0F0F0F) | ((s1 >> 2) & 0x30303030);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        sc[j] = (sc_lo >> (8 * j)) & 0xFF;
        m[j] = (m_lo >> (8 * j)) & 0xFF;
        sc[j + 4] = (sc_hi >> (8 * j)) & 0xFF;
        m[j + 4] = (m_hi >> (8 * j)) & 0xFF;
    }
}

/* Q4_K block dotted with x[0..256): the values of blk_q4_k. */
INLINE vf dot_q4_k(const uint8_t* b, const float* x, vf acc) {
    float d = half_to_float(b), dmin = half_to_float(b + 2);
    int sc[8], m[8];
    scales_mins(b + 4, sc, m);
    const uint8_t* qs = b + 16;
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        float d0 = d * sc[2 * c], mm0 = dmin * m[2 * c], d1 = d * sc[2 * c + 1], mm1 = dmin * m[2 * c + 1];
        const float* xc = x + 64 * c;
#ifdef __AVX512F__
        __m512 iota = iota16(0.0f);
        __m512 t0 = _mm512_sub_ps(_mm512_mul_ps(iota, _mm512_set1_ps(d0)), _mm512_set1_ps(mm0));
        __m512 t1 = _mm512_sub_ps(_mm512_mul_ps(iota, _mm512_set1_ps(d1)), _mm512_set1_ps(mm1));
        __m512i q0 = _mm512_cvtepu8_epi32(load16(qs + 32 * c)), q1 = _mm512_cvtepu8_epi32(load16(qs + 32 * c + 16));
        acc = fma16(_mm512_permutexvar_ps(q0, t0), xc, acc);
        acc = fma16(_mm512_permutexvar_ps(q1, t0), xc + 16, acc);
        acc = fma16(_mm512_permutexvar_ps(_mm512_srli_epi32(q0, 4), t1), xc + 32, acc);
        acc = fma16(_mm512_permutexvar_ps(_mm512_srli_epi32(q1, 4), t1), xc + 48, acc);
#else
        __m128i q0 = load16(qs + 32 * c), q1 = load16(qs + 32 * c + 16);
        acc = fma16(mul_sub_s(u8_to_f(and8(q0, 15)), d0, mm0), xc, acc);
        acc = fma16(mul_sub_s(u8_to_f(and8(q1, 15)), d0, mm0), xc + 16, acc);
        acc = fma16(mul_sub_s(u8_to_f(shr8(q0, 4)), d1, mm1), xc + 32, acc);
        acc = fma16(mul_sub_s(u8_to_f(shr8(q1, 4)), d1, mm1), xc + 48, acc);
#endif
    }
    return acc;
}

/* Q6_K block dotted with x[0..256): the values of blk_q6_k, taken in column order (each run of 16
 * re-reads its ql/qh bytes from L1 rather than holding a whole half block in registers). */
INLINE vf dot_q6_k(const uint8_t* b, const float* x, vf acc) {
    float d = half_to_float(b + 208);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const uint8_t* ql = b + 64 * h;
        const uint8_t* qh = b + 128 + 32 * h;
        const int8_t* sc = (const int8_t*)(b + 192 + 8 * h);
        const float* xh = x + 128 * h;
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) {
            __m128i l0 = load16(ql + 16 * g), hq = load16(qh + 16 * g);
            acc = fma16(sub_mul_s(u8_to_f(or8(and8(l0, 15), shl8_4(and8(hq, 3)))), 32.0f, d * sc[g]), xh + 16 * g, acc);
        }
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) {
            __m128i l1 = load16(ql + 32 + 16 * g), hq = load16(qh + 16 * g);
            acc = fma16(sub_mul_s(u8_to_f(or8(and8(l1, 15), shl8_4(and8(shr8(hq, 2), 3)))), 32.0f, d * sc[g + 2]),
                        xh + 32 + 16 * g, acc);
        }
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) {
            __m128i l0 = load16(ql + 16 * g), hq = load16(qh + 16 * g);
            acc = fma16(sub_mul_s(u8_to_f(or8(shr8(l0, 4), shl8_4(and8(shr8(hq, 4), 3)))), 32.0f, d * sc[g + 4]),
                        xh + 64 + 16 * g, acc);
        }
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) {
            __m128i l1 = load16(ql + 32 + 16 * g), hq = load16(qh + 16 * g);
            acc = fma16(sub_mul_s(u8_to_f(or8(shr8(l1, 4), shl8_4(shr8(hq, 6)))), 32.0f, d * sc[g + 6]),
                        xh + 96 + 16 * g, acc);
        }
    }
    return acc;
}

/* Q2_K block dotted with x[0..256): the values of blk_q2_k in column order (run j of both g). */
INLINE vf dot_q2_k(const uint8_t* b, const float* x, vf acc) {
    float d = half_to_float(b + 80), dmin = half_to_float(b + 82);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m128i q0 = load16(b + 16 + 32 * h), q1 = load16(b + 32 + 32 * h);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            int s0 = b[8 * h + 2 * j], s1 = b[8 * h + 2 * j + 1];
            const float* xj = x + 128 * h + 32 * j;
            acc = fma16(mul_sub_s(u8_to_f(bits2(q0, 2 * j)), d * (s0 & 15), dmin * (s0 >> 4)), xj, acc);
            acc = fma16(mul_sub_s(u8_to_f(bits2(q1, 2 * j)), d * (s1 & 15), dmin * (s1 >> 4)), xj + 16, acc);
        }
    }
    return acc;
}

/* Q3_K block dotted with x[0..256): the values of blk_q3_k in column order. */
INLINE vf dot_q3_k(const uint8_t* b, const float* x, vf acc) {
    float d = half_to_float(b + 108);
    uint32_t a0, a1, t;
    memcpy(&a0, b + 96, 4);
    memcpy(&a1, b + 100, 4);
    memcpy(&t, b + 104, 4);
    uint32_t w[4] = {(a0 & 0x0F0F0F0F) | ((t & 0x03030303) << 4), (a1 & 0x0F0F0F0F) | (((t >> 2) & 0x03030303) << 4),
                     ((a0 >> 4) & 0x0F0F0F0F) | (((t >> 4) & 0x03030303) << 4),
                     ((a1 >> 4) & 0x0F0F0F0F) | (((t >> 6) & 0x03030303) << 4)};
    const uint8_t* sc = (const uint8_t*)w;
    const __m128i four = _mm_set1_epi8(4);
    __m128i hm0 = load16(b), hm1 = load16(b + 16);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m128i q0 = load16(b + 32 + 32 * h), q1 = load16(b + 48 + 32 * h);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const float* xj = x + 128 * h + 32 * j;
            __m128i h0 = _mm_slli_epi16(and8(_mm_srl_epi16(hm0, _mm_cvtsi32_si128(4 * h + j)), 1), 2);
            __m128i h1 = _mm_slli_epi16(and8(_mm_srl_epi16(hm1, _mm_cvtsi32_si128(4 * h + j)), 1), 2);
            acc = fma16(mul_s(i8_to_f(_mm_sub_epi8(or8(bits2(q0, 2 * j), h0), four)), d * ((int)sc[8 * h + 2 * j] - 32)), xj, acc);
            acc = fma16(mul_s(i8_to_f(_mm_sub_epi8(or8(bits2(q1, 2 * j), h1), four)), d * ((int)sc[8 * h + 2 * j + 1] - 32)),
                        xj + 16, acc);
        }
    }
    return acc;
}

/* IQ4_XS block dotted with x[0..256): the values of blk_iq4_xs (iq4_32) in column order. */
INLINE vf dot_iq4_xs(const uint8_t* b, const float* x, vf acc) {
    float d = half_to_float(b);
    uint16_t sh;
    memcpy(&sh, b + 2, 2);
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        int ls = ((b[4 + j / 2] >> (4 * (j & 1))) & 15) | (((sh >> (2 * j)) & 3) << 4);
        float dj = d * (ls - 32);
        const uint8_t* qs = b + 8 + 16 * j;
#ifdef __AVX512F__
        __m512 tab = _mm512_mul_ps(_mm512_setr_ps(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113),
                                   _mm512_set1_ps(dj));
        __m512i q = _mm512_cvtepu8_epi32(load16(qs));
        acc = fma16(_mm512_permutexvar_ps(q, tab), x + 32 * j, acc);
        acc = fma16(_mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), tab), x + 32 * j + 16, acc);
#else
        const __m128i k = _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
        __m128i q = load16(qs);
        acc = fma16(mul_s(i8_to_f(_mm_shuffle_epi8(k, and8(q, 15))), dj), x + 32 * j, acc);
        acc = fma16(mul_s(i8_to_f(_mm_shuffle_epi8(k, shr8(q, 4))), dj), x + 32 * j + 16, acc);
#endif
    }
    return acc;
}

/* out[r] = W[r] . x for one token: 4 rows at a time, each with one accumulator as in fused_tile;
 * every cache line of a block is prefetched (blocks are not line-aligned). */
#define DOT1(NAME, BB)                                                                             \
    static void dot1_##NAME(const uint8_t* w, int64_t rowBytes, int cols, const float* x, float* out, \
                            int r0, int r1) {                                                      \
        int64_t pf = pf_rows(rowBytes) * rowBytes;                                                 \
        int r = r0;                                                                                \
        for (; r + ROWS <= r1; r += ROWS) {                                                        \
            const uint8_t* b = w + r * rowBytes;                                                   \
            vf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                             \
            for (int c = 0; c < cols; c += 256, b += BB) {                                         \
                for (int i = 0; i < ROWS; i++)                                                     \
                    for (int l = 0; l < BB + 63; l += 64) __builtin_prefetch(b + i * rowBytes + pf + l, 0, 3); \
                a0 = dot_##NAME(b, x + c, a0);                                                     \
                a1 = dot_##NAME(b + rowBytes, x + c, a1);                                          \
                a2 = dot_##NAME(b + 2 * rowBytes, x + c, a2);                                      \
                a3 = dot_##NAME(b + 3 * rowBytes, x + c, a3);                                      \
            }                                                                                      \
            out[r] = hsum(a0); out[r + 1] = hsum(a1); out[r + 2] = hsum(a2); out[r + 3] = hsum(a3); \
        }                                                                                          \
        for (; r < r1; r++) {                                                                      \
            const uint8_t* b = w + r * rowBytes;                                                   \
            vf a = {0};                                                                            \
            for (int c = 0; c < cols; c += 256, b += BB) a = dot_##NAME(b, x + c, a);             \
            out[r] = hsum(a);                                                                      \
        }                                                                                          \
    }
DOT1(q4_k, 144)
DOT1(q6_k, 210)
DOT1(q2_k, 84)
DOT1(q3_k, 110)
DOT1(iq4_xs, 136)

/* The driver shared by all types. */
static void matmul(decode_fn dec, const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T,
                   float* out, int outStride, int r0, int r1) {
    float wb[ROWS * KC] __attribute__((aligned(64)));
    float acc[ROWS * TB * VL] __attribute__((aligned(64)));
    int64_t pf = pf_rows(rowBytes) * rowBytes;
    for (int tb = 0; tb < T; tb += TB) {
        int nt = T - tb < TB ? T - tb : TB;
        for (int r = r0; r < r1; r += ROWS) {
            int R = r1 - r < ROWS ? r1 - r : ROWS;
            micro_fn mk = MICRO[R];
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int n = cols - c0 < KC ? cols - c0 : KC;
                for (int i = 0; i < R; i++) {
                    const uint8_t* row = w + (int64_t)(r + i) * rowBytes;
                    dec(row, c0, n, wb + i * KC, pf);
                }
                int first = c0 == 0, last = c0 + n >= cols;
                for (int t = 0; t < nt; t += NT) {
                    int K = nt - t < NT ? nt - t : NT;
                    mk(K, wb, x + (int64_t)(tb + t) * cols + c0, cols, n, acc + (int64_t)t * VL, first, last,
                       out + (int64_t)(tb + t) * outStride + r, outStride);
                }
            }
        }
    }
}

/* Quantised types: the fused kernel on groups of up to NT tokens. For more tokens the rows are
 * taken in panels small enough to stay in L2 (PANEL bytes) and every token group runs over the
 * panel: weights come from memory once and are decoded once per group, which measured faster
 * than decoding once into a chunk buffer and reloading it for every group. */
#ifndef PANEL
#define PANEL 196608
#endif
#define FUSED_ALL(NAME)                                                                            \
        if (T <= NT) {                                                                             \
            fused_##NAME[T](w, rowBytes, cols, x, out, outStride, r0, r1);                         \
            return;                                                                                \
        }                                                                                          \
        int P = (int)(PANEL / rowBytes) & ~(ROWS - 1);                                             \
        if (P < ROWS) P = ROWS;                                                                    \
        for (int p = r0; p < r1; p += P) {                                                         \
            int pe = r1 - p < P ? r1 : p + P;                                                      \
            for (int t = 0; t < T; t += NT) {                                                      \
                int K = T - t < NT ? T - t : NT;                                                   \
                fused_##NAME[K](w, rowBytes, cols, x + (int64_t)t * cols, out + (int64_t)t * outStride, \
                                outStride, p, pe);                                                 \
            }                                                                                      \
        }
#define EXPORT_Q(NAME)                                                                             \
    __attribute__((visibility("default"))) void chorus_matmul_##NAME(                              \
        const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out,           \
        int outStride, int r0, int r1) {                                                           \
        FUSED_ALL(NAME)                                                                            \
    }
/* K-quants: their 256-value blocks cost more to decode than the fused path can afford once per
 * token group, so batches larger than one group decode once into the chunk buffer (tiled path;
 * measured 1.6x faster at T=64). Same operations per (row, token), so still bit-identical. */
#define EXPORT_K(NAME)                                                                             \
    __attribute__((visibility("default"))) void chorus_matmul_##NAME(                              \
        const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out,           \
        int outStride, int r0, int r1) {                                                           \
        if (T > NT) {                                                                              \
            matmul(dec_##NAME, w, rowBytes, cols, x, T, out, outStride, r0, r1);                   \
            return;                                                                                \
        }                                                                                          \
        FUSED_ALL(NAME)                                                                            \
    }
/* K-quants with a single-token kernel (dot1_*). */
#define EXPORT_KD(NAME)                                                                            \
    __attribute__((visibility("default"))) void chorus_matmul_##NAME(                              \
        const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out,           \
        int outStride, int r0, int r1) {                                                           \
        if (T == 1) {                                                                              \
            dot1_##NAME(w, rowBytes, cols, x, out, r0, r1);                                        \
            return;                                                                                \
        }                                                                                          \
        if (T > NT) {                                                                              \
            matmul(dec_##NAME, w, rowBytes, cols, x, T, out, outStride, r0, r1);                   \
            return;                                                                                \
        }                                                                                          \
        FUSED_ALL(NAME)                                                                            \
    }
#if NT < 6
/* BF16 batches on AVX2, where the fused path's 4 rows x 2 tokens keep only 8 accumulators and decode
 * every block again for each pair of tokens: a tied BF16 embedding as the output projection of a batch
 * of 16 ran at ~4 multiply-adds per cycle that way. Here 3 rows are decoded KC columns at a time into
 * an L1 buffer once per block of TB tokens, and the tokens run over it in register tiles of 3 rows x 4
 * tokens (12 accumulators, 7 loads per 12 fmas). Each (row, token) accumulator still takes the columns in order, so the
 * results are the bits of the fused path. */
#define BF16_R 3  /* rows of a tile: 3 x 4 accumulators, 3 weights and 1 activation fill the 16 registers */
#define BF16_NT 4 /* tokens of a register tile: 16 = 4 x 4 */
#ifndef BF16_KC
#define BF16_KC 512 /* 3 decoded rows stay in L1 while 16 tokens' activations stream through */
#endif

/* n columns (a multiple of 8) of a BF16 row as floats: 16 bytes broadcast to both lanes, and one in-lane
 * shuffle puts each value's two bytes at the top of its 32-bit lane (the widening move and shift that
 * dec_bf16 uses share one execution port). */
INLINE void bf16_decode(const uint8_t* p, int n, float* dst) {
    const __m256i sh = _mm256_setr_epi8(-1, -1, 0, 1, -1, -1, 2, 3, -1, -1, 4, 5, -1, -1, 6, 7,
                                        -1, -1, 8, 9, -1, -1, 10, 11, -1, -1, 12, 13, -1, -1, 14, 15);
    for (int j = 0; j < n; j += 8)
        _mm256_store_si256((__m256i*)(dst + j),
                           _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)(p + 2 * j))), sh));
}

INLINE void bf16_micro(const int K, const float* wb, const float* xp, int64_t xs, int n, int first, float* acc) {
    vf a[BF16_R][BF16_NT];
#pragma GCC unroll 4
    for (int i = 0; i < BF16_R; i++)
#pragma GCC unroll 4
        for (int t = 0; t < K; t++) a[i][t] = first ? (vf){0} : vload(acc + ((int64_t)i * TB + t) * VL);
    for (int c = 0; c < n; c += VL) { /* n is a multiple of 32 */
        vf w[BF16_R];
#pragma GCC unroll 4
        for (int i = 0; i < BF16_R; i++) w[i] = vload(wb + i * BF16_KC + c);
#pragma GCC unroll 4
        for (int t = 0; t < K; t++) {
            vf xv = vload(xp + t * xs + c);
#pragma GCC unroll 4
            for (int i = 0; i < BF16_R; i++) a[i][t] = vfma(w[i], xv, a[i][t]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < BF16_R; i++)
#pragma GCC unroll 4
        for (int t = 0; t < K; t++) vstore(acc + ((int64_t)i * TB + t) * VL, a[i][t]);
}

/* cols a multiple of 32, T > NT. */
static void bf16_batch(const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out,
                       int outStride, int r0, int r1) {
    float wb[BF16_R * BF16_KC] __attribute__((aligned(64)));
    float acc[BF16_R * TB * VL] __attribute__((aligned(64)));
    int r = r0;
    for (; r + BF16_R <= r1; r += BF16_R) {
        for (int tb = 0; tb < T; tb += TB) {
            int nt = T - tb < TB ? T - tb : TB;
            for (int c0 = 0; c0 < cols; c0 += BF16_KC) {
                int n = cols - c0 < BF16_KC ? cols - c0 : BF16_KC;
                for (int i = 0; i < BF16_R; i++) bf16_decode(w + (int64_t)(r + i) * rowBytes + 2 * (int64_t)c0, n, wb + i * BF16_KC);
                /* the next chunk's bytes (these rows' next columns, or the next rows' first ones) arrive
                 * while the tokens run over this one */
                const uint8_t* np = c0 + BF16_KC < cols ? w + (int64_t)r * rowBytes + 2 * (int64_t)(c0 + BF16_KC)
                                                        : w + (int64_t)(r + BF16_R) * rowBytes;
                int nn = c0 + BF16_KC < cols ? cols - c0 - BF16_KC : cols;
                if (nn > BF16_KC) nn = BF16_KC;
                if (tb + TB >= T && (c0 + BF16_KC < cols || r + 2 * BF16_R <= r1))
                    for (int i = 0; i < BF16_R; i++)
                        for (int j = 0; j < 2 * nn; j += 64) __builtin_prefetch(np + (int64_t)i * rowBytes + j, 0, 3);
                for (int t = 0, K; t < nt; t += K) {
                    /* 4 at a time, but 5 = 3 + 2, not 4 + 1 */
                    K = nt - t <= BF16_NT ? nt - t : nt - t == BF16_NT + 1 ? 3 : BF16_NT;
                    const float* xp = x + (int64_t)(tb + t) * cols + c0;
                    float* ap = acc + (int64_t)t * VL;
                    if (K == 4) bf16_micro(4, wb, xp, cols, n, c0 == 0, ap);
                    else if (K == 3) bf16_micro(3, wb, xp, cols, n, c0 == 0, ap);
                    else if (K == 2) bf16_micro(2, wb, xp, cols, n, c0 == 0, ap);
                    else bf16_micro(1, wb, xp, cols, n, c0 == 0, ap);
                }
            }
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < BF16_R; i++) out[(int64_t)(tb + t) * outStride + r + i] = hsum(vload(acc + ((int64_t)i * TB + t) * VL));
        }
    }
    if (r < r1) /* rows below a tile: the fused path, a token at a time */
        for (int t = 0; t < T; t++) fused_bf16[1](w, rowBytes, cols, x + (int64_t)t * cols, out + (int64_t)t * outStride, outStride, r, r1);
}
#endif

/* Plain float types: the fused kernel when cols is a multiple of 32 (every real model), else the
 * chunked tiles with column tails. The choice depends only on the shape, never on T. */
#define EXPORT_F(NAME)                                                                             \
    __attribute__((visibility("default"))) void chorus_matmul_##NAME(                              \
        const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out,           \
        int outStride, int r0, int r1) {                                                           \
        if (cols % 32 != 0) {                                                                      \
            matmul(dec_##NAME, w, rowBytes, cols, x, T, out, outStride, r0, r1);                   \
            return;                                                                                \
        }                                                                                          \
        FUSED_ALL(NAME)                                                                            \
    }

EXPORT_Q(q8_0)
EXPORT_Q(q4_0)
/* Q4_1, Q5_0, Q5_1, IQ4_NL: with AVX2's 2-token groups a batch of 16 would decode every block 8
 * times, so larger batches decode once into the chunk buffer instead (measured at T=16 on an
 * 8192 x 8192 matrix: Q5_0 62 vs 137 ms, Q5_1 64 vs 150 ms); AVX-512's 6-token groups keep the
 * fused path, as Q4_0 does. */
#if NT < 6
#define EXPORT_L EXPORT_K
#else
#define EXPORT_L EXPORT_Q
#endif
EXPORT_L(q4_1)
EXPORT_L(q5_0)
EXPORT_L(q5_1)
EXPORT_L(iq4_nl)
EXPORT_KD(q4_k)
EXPORT_K(q5_k)
EXPORT_KD(q6_k)
EXPORT_KD(q2_k)
EXPORT_KD(q3_k)
EXPORT_KD(iq4_xs)
EXPORT_F(f16)
__attribute__((visibility("default"))) void chorus_matmul_bf16(
    const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out, int outStride, int r0, int r1) {
    if (cols % 32 != 0) {
        matmul(dec_bf16, w, rowBytes, cols, x, T, out, outStride, r0, r1);
        return;
    }
#if NT < 6
    if (T > NT) {
        bf16_batch(w, rowBytes, cols, x, T, out, outStride, r0, r1);
        return;
    }
#endif
    FUSED_ALL(bf16)
}
EXPORT_F(f32)

/* Which build this is ("avx512" or "avx2"), for start-up logs and checks. */
__attribute__((visibility("default"))) const char* chorus_variant(void) { return VARIANT; }
