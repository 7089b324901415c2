/*
 * Chorus 8-bit activation kernels for Arm (Armv8.2-A with the dot product extension): the same
 * products as chorus_int8.c, defined by the same lane contract (see its header), so that the Java
 * twin (io.chorus.tensor.Int8Kernels) reproduces them bit for bit:
 *
 *   a 32-value chunk's products are summed into 8 int32 lanes, lane i holding values 4i..4i+3;
 *   each block (super-block) adds scale * (float) lane to a float lane accumulator with one fused
 *   multiply-add; the lanes are summed pairwise (i + 4, i + 2, i + 1) at the end, and a per-pair
 *   scalar term (weight minima) is added or subtracted last.
 *
 * SDOT (vdotq_s32) sums 4 adjacent byte products into one int32 lane, which is the contract's lane
 * itself: lanes 0-3 come from values 0-15 of a chunk, lanes 4-7 from values 16-31. Weights are
 * decoded to signed bytes (all K-quant values fit: at most 63), so no sign trick is needed.
 *
 * Each block of a row is decoded once into a small buffer and the tokens of the batch pass over it
 * in groups whose accumulators stay in L1. This build holds only the 8-bit kernels; the float
 * kernels of chorus_kernels.c are x86-only and the Java kernels take their place on Arm.
 */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))
#define EXPORT __attribute__((visibility("default")))

#define A32 40
#define AK 308
#define TG 32 /* tokens per pass over a decoded block */

INLINE float f16at(const uint8_t* p) { __fp16 h; memcpy(&h, p, 2); return (float)h; }
INLINE float f32at(const uint8_t* p) { float f; memcpy(&f, p, 4); return f; }
INLINE int16_t i16at(const uint8_t* p) { int16_t v; memcpy(&v, p, 2); return v; }

static const int8_t IQ4_NL_VALUES[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* One decoded block: values, and for super-blocks the scale of each 16 values and the minima. */
typedef struct {
    int8_t q[256];
    int32_t sc[16];   /* scale of values 16k..16k+15 */
    int32_t mins[16]; /* Q4_K/Q5_K: minimum per 32 values (8); Q2_K: per 16 values */
    float d, m;       /* scale; minimum (Q4_1/Q5_1) or dmin (Q4_K, Q5_K, Q2_K) */
} blk_t;

/* ---- decoders ---- */

INLINE void nibbles(const uint8_t* p, int8_t* q, int add) {
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)((p[j] & 0xF) + add);
        q[j + 16] = (int8_t)((p[j] >> 4) + add);
    }
}
INLINE void fifth(uint32_t qh, int8_t* q, int add) {
    for (int j = 0; j < 32; j++) q[j] = (int8_t)(q[j] + (int)((qh >> j) & 1) * 16 + add);
}

static void dec_q8_0(const uint8_t* b, blk_t* o) { o->d = f16at(b); memcpy(o->q, b + 2, 32); }
static void dec_q4_0(const uint8_t* b, blk_t* o) { o->d = f16at(b); nibbles(b + 2, o->q, -8); }
static void dec_q4_1(const uint8_t* b, blk_t* o) { o->d = f16at(b); o->m = f16at(b + 2); nibbles(b + 4, o->q, 0); }
static void dec_q5_0(const uint8_t* b, blk_t* o) {
    uint32_t qh; memcpy(&qh, b + 2, 4);
    o->d = f16at(b);
    nibbles(b + 6, o->q, 0);
    fifth(qh, o->q, -16);
}
static void dec_q5_1(const uint8_t* b, blk_t* o) {
    uint32_t qh; memcpy(&qh, b + 4, 4);
    o->d = f16at(b);
    o->m = f16at(b + 2);
    nibbles(b + 8, o->q, 0);
    fifth(qh, o->q, 0);
}
static void dec_iq4_nl(const uint8_t* b, blk_t* o) {
    int8x16_t lut = vld1q_s8(IQ4_NL_VALUES);
    uint8x16_t p = vld1q_u8(b + 2);
    vst1q_s8(o->q, vqtbl1q_s8(lut, vandq_u8(p, vdupq_n_u8(0xF))));
    vst1q_s8(o->q + 16, vqtbl1q_s8(lut, vshrq_n_u8(p, 4)));
    o->d = f16at(b);
}

/* Q4_K / Q5_K: 6-bit scales and minima of 8 sub-blocks of 32. */
static void dec_q45(const uint8_t* b, blk_t* o, int q5) {
    const uint8_t* s = b + 4;
    for (int j = 0; j < 8; j++) {
        int sc, m;
        if (j < 4) {
            sc = s[j] & 63;
            m = s[j + 4] & 63;
        } else {
            sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
            m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
        o->sc[2 * j] = o->sc[2 * j + 1] = sc;
        o->mins[j] = m;
    }
    o->d = f16at(b);
    o->m = f16at(b + 2);
    const uint8_t* qs = b + (q5 ? 48 : 16);
    for (int k = 0; k < 4; k++) {
        uint8x16x2_t v = vld1q_u8_x2(qs + 32 * k);
        for (int h = 0; h < 2; h++) {
            uint8x16_t lo = vandq_u8(v.val[h], vdupq_n_u8(0xF)), hi = vshrq_n_u8(v.val[h], 4);
            if (q5) {
                uint8x16_t qh = vld1q_u8(b + 16 + 16 * h);
                lo = vorrq_u8(lo, vshlq_n_u8(vandq_u8(vshlq_u8(qh, vdupq_n_s8((int8_t)(-2 * k))), vdupq_n_u8(1)), 4));
                hi = vorrq_u8(hi, vshlq_n_u8(vandq_u8(vshlq_u8(qh, vdupq_n_s8((int8_t)(-2 * k - 1))), vdupq_n_u8(1)), 4));
            }
            vst1q_s8(o->q + 64 * k + 16 * h, vreinterpretq_s8_u8(lo));
            vst1q_s8(o->q + 64 * k + 32 + 16 * h, vreinterpretq_s8_u8(hi));
        }
    }
}
static void dec_q4_k(const uint8_t* b, blk_t* o) { dec_q45(b, o, 0); }
static void dec_q5_k(const uint8_t* b, blk_t* o) { dec_q45(b, o, 1); }

/* Q6_K: unsigned 6-bit values (q + 32), int8 scales per 16. */
static void dec_q6_k(const uint8_t* b, blk_t* o) {
    for (int k = 0; k < 16; k++) o->sc[k] = (int8_t)b[192 + k];
    o->d = f16at(b + 208);
    for (int c = 0; c < 8; c++) {
        int h = c >> 2, k = c & 3;
        for (int l = 0; l < 32; l += 16) {
            uint8x16_t ql = vld1q_u8(b + 64 * h + 32 * (k & 1) + l);
            ql = (k & 2) ? vshrq_n_u8(ql, 4) : vandq_u8(ql, vdupq_n_u8(0xF));
            uint8x16_t qh = vandq_u8(vshlq_u8(vld1q_u8(b + 128 + 32 * h + l), vdupq_n_s8((int8_t)(-2 * k))), vdupq_n_u8(3));
            vst1q_s8(o->q + 32 * c + l, vreinterpretq_s8_u8(vorrq_u8(ql, vshlq_n_u8(qh, 4))));
        }
    }
}

/* Q2_K: 2-bit values, 4-bit scale and minimum per 16. Q3_K: u = 3 bits (u - 4 the value), signed 6-bit scales. */
static void dec_q23(const uint8_t* b, blk_t* o, int q3) {
    if (q3) {
        const uint8_t* s3 = b + 96;
        for (int k = 0; k < 16; k++) {
            int lo = k < 8 ? s3[k] & 0xF : s3[k - 8] >> 4;
            o->sc[k] = (lo | (((s3[8 + k % 4] >> (2 * (k / 4))) & 3) << 4)) - 32;
        }
        o->d = f16at(b + 108);
    } else {
        for (int k = 0; k < 16; k++) {
            o->sc[k] = b[k] & 0xF;
            o->mins[k] = b[k] >> 4;
        }
        o->d = f16at(b + 80);
        o->m = f16at(b + 82);
    }
    const uint8_t* qs = b + (q3 ? 32 : 16);
    for (int c = 0; c < 8; c++) {
        for (int l = 0; l < 32; l += 16) {
            uint8x16_t v = vandq_u8(vshlq_u8(vld1q_u8(qs + 32 * (c >> 2) + l), vdupq_n_s8((int8_t)(-2 * (c & 3)))), vdupq_n_u8(3));
            if (q3) {
                uint8x16_t h = vandq_u8(vshlq_u8(vld1q_u8(b + l), vdupq_n_s8((int8_t)-c)), vdupq_n_u8(1));
                v = vorrq_u8(v, vshlq_n_u8(h, 2));
            }
            vst1q_s8(o->q + 32 * c + l, vreinterpretq_s8_u8(v));
        }
    }
}
static void dec_q2_k(const uint8_t* b, blk_t* o) { dec_q23(b, o, 0); }
static void dec_q3_k(const uint8_t* b, blk_t* o) { dec_q23(b, o, 1); }

/* IQ4_XS: IQ4_NL's levels, a 6-bit scale minus 32 per 32 values. */
static void dec_iq4_xs(const uint8_t* b, blk_t* o) {
    uint16_t sh; memcpy(&sh, b + 2, 2);
    uint32_t sl; memcpy(&sl, b + 4, 4);
    int8x16_t lut = vld1q_s8(IQ4_NL_VALUES);
    for (int c = 0; c < 8; c++) {
        o->sc[2 * c] = o->sc[2 * c + 1] = (int)(((sl >> (4 * c)) & 0xF) | (((sh >> (2 * c)) & 3) << 4)) - 32;
        uint8x16_t p = vld1q_u8(b + 8 + 16 * c);
        vst1q_s8(o->q + 32 * c, vqtbl1q_s8(lut, vandq_u8(p, vdupq_n_u8(0xF))));
        vst1q_s8(o->q + 32 * c + 16, vqtbl1q_s8(lut, vshrq_n_u8(p, 4)));
    }
    o->d = f16at(b);
}

/* Lane sum in the contract's order: i + 4, i + 2, i + 1. */
INLINE float hsum8(float32x4_t lo, float32x4_t hi) {
    float t[4];
    vst1q_f32(t, vaddq_f32(lo, hi));
    float a = t[0] + t[2], b = t[1] + t[3];
    return a + b;
}

/* ---- kernels ---- */

/* 32-value blocks: MIN = 1 for the types with a minimum (value = d q + m, sum over a block m * s). */
static void rows32(void (*dec)(const uint8_t*, blk_t*), int bytes, int MIN, const uint8_t* w, int64_t rb, int cols,
                   const uint8_t* x, int T, float* out, int os, int r0, int r1) {
    int nb = cols / 32;
    int64_t xs = (int64_t)nb * A32;
    blk_t k;
    float32x4_t acc[TG][2];
    float mn[TG];
    for (int r = r0; r < r1; r++) {
        for (int t0 = 0; t0 < T; t0 += TG) {
            int n = T - t0 < TG ? T - t0 : TG;
            for (int t = 0; t < n; t++) { acc[t][0] = acc[t][1] = vdupq_n_f32(0); mn[t] = 0; }
            for (int b = 0; b < nb; b++) {
                dec(w + (int64_t)r * rb + (int64_t)b * bytes, &k);
                int8x16_t w0 = vld1q_s8(k.q), w1 = vld1q_s8(k.q + 16);
                for (int t = 0; t < n; t++) {
                    const uint8_t* a = x + (int64_t)(t0 + t) * xs + (int64_t)b * A32;
                    int32x4_t lo = vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8((const int8_t*)a + 8));
                    int32x4_t hi = vdotq_s32(vdupq_n_s32(0), w1, vld1q_s8((const int8_t*)a + 24));
                    float32x4_t s = vdupq_n_f32(k.d * f32at(a));
                    acc[t][0] = vfmaq_f32(acc[t][0], s, vcvtq_f32_s32(lo));
                    acc[t][1] = vfmaq_f32(acc[t][1], s, vcvtq_f32_s32(hi));
                    if (MIN) mn[t] = __builtin_fmaf(k.m, f32at(a + 4), mn[t]);
                }
            }
            for (int t = 0; t < n; t++) out[(int64_t)(t0 + t) * os + r] = hsum8(acc[t][0], acc[t][1]) + mn[t];
        }
    }
}

/* How a super-block type's lane sums become its output. */
enum { K_MIN32, K_MIN16, K_OFF32, K_OFF4, K_PLAIN };

static void rowsK(void (*dec)(const uint8_t*, blk_t*), int bytes, int KIND, const uint8_t* w, int64_t rb, int cols,
                  const uint8_t* x, int T, float* out, int os, int r0, int r1) {
    int nb = cols / 256;
    int64_t xs = (int64_t)nb * AK;
    blk_t k;
    float32x4_t acc[TG][2];
    float mn[TG];
    for (int r = r0; r < r1; r++) {
        for (int t0 = 0; t0 < T; t0 += TG) {
            int n = T - t0 < TG ? T - t0 : TG;
            for (int t = 0; t < n; t++) { acc[t][0] = acc[t][1] = vdupq_n_f32(0); mn[t] = 0; }
            for (int b = 0; b < nb; b++) {
                dec(w + (int64_t)r * rb + (int64_t)b * bytes, &k);
                for (int t = 0; t < n; t++) {
                    const uint8_t* a = x + (int64_t)(t0 + t) * xs + (int64_t)b * AK;
                    const int8_t* y = (const int8_t*)a + 4;
                    int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
                    for (int c = 0; c < 8; c++) {
                        int32x4_t p0 = vdotq_s32(vdupq_n_s32(0), vld1q_s8(k.q + 32 * c), vld1q_s8(y + 32 * c));
                        int32x4_t p1 = vdotq_s32(vdupq_n_s32(0), vld1q_s8(k.q + 32 * c + 16), vld1q_s8(y + 32 * c + 16));
                        lo = vmlaq_n_s32(lo, p0, k.sc[2 * c]);
                        hi = vmlaq_n_s32(hi, p1, k.sc[2 * c + 1]);
                    }
                    if (KIND == K_OFF32 || KIND == K_OFF4) {
                        /* lane i: minus (32 or 4) x the scales times the 16-value sums of sub-blocks 2i, 2i + 1 */
                        int32_t off[8];
                        for (int i = 0; i < 8; i++)
                            off[i] = (k.sc[2 * i] * i16at(a + 260 + 4 * i) + k.sc[2 * i + 1] * i16at(a + 262 + 4 * i)) * (KIND == K_OFF32 ? 32 : 4);
                        lo = vsubq_s32(lo, vld1q_s32(off));
                        hi = vsubq_s32(hi, vld1q_s32(off + 4));
                    }
                    float dy = f32at(a);
                    float32x4_t s = vdupq_n_f32(k.d * dy);
                    acc[t][0] = vfmaq_f32(acc[t][0], s, vcvtq_f32_s32(lo));
                    acc[t][1] = vfmaq_f32(acc[t][1], s, vcvtq_f32_s32(hi));
                    if (KIND == K_MIN32 || KIND == K_MIN16) {
                        int mi = 0;
                        if (KIND == K_MIN32) for (int c = 0; c < 8; c++) mi += k.mins[c] * i16at(a + 292 + 2 * c);
                        else for (int c = 0; c < 16; c++) mi += k.mins[c] * i16at(a + 260 + 2 * c);
                        mn[t] = __builtin_fmaf(k.m * dy, (float)mi, mn[t]);
                    }
                }
            }
            for (int t = 0; t < n; t++) {
                float h = hsum8(acc[t][0], acc[t][1]);
                out[(int64_t)(t0 + t) * os + r] = KIND == K_MIN32 || KIND == K_MIN16 ? h - mn[t] : h;
            }
        }
    }
}

#define EXPORT32(NAME, BYTES, MIN)                                                                  \
EXPORT void chorus_matmul8_##NAME(const uint8_t* w, int64_t rb, int cols, const uint8_t* x, int T,   \
                                  float* out, int os, int r0, int r1) {                             \
    rows32(dec_##NAME, BYTES, MIN, w, rb, cols, x, T, out, os, r0, r1);                             \
}
#define EXPORTK(NAME, BYTES, KIND)                                                                  \
EXPORT void chorus_matmul8_##NAME(const uint8_t* w, int64_t rb, int cols, const uint8_t* x, int T,   \
                                  float* out, int os, int r0, int r1) {                             \
    rowsK(dec_##NAME, BYTES, KIND, w, rb, cols, x, T, out, os, r0, r1);                             \
}

EXPORT32(q8_0, 34, 0)
EXPORT32(q4_0, 18, 0)
EXPORT32(q5_0, 22, 0)
EXPORT32(iq4_nl, 18, 0)
EXPORT32(q4_1, 20, 1)
EXPORT32(q5_1, 24, 1)
EXPORTK(q4_k, 144, K_MIN32)
EXPORTK(q5_k, 176, K_MIN32)
EXPORTK(q6_k, 210, K_OFF32)
EXPORTK(iq4_xs, 136, K_PLAIN)
EXPORTK(q2_k, 84, K_MIN16)
EXPORTK(q3_k, 110, K_OFF4)

/* Which build this is, for start-up logs and checks. */
EXPORT const char* chorus_variant(void) { return "neon"; }
