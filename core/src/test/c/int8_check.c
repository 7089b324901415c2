/*
 * Checks a build of the 8-bit activation kernels (chorus_int8.c on x86, chorus_int8_neon.c on Arm)
 * against a plain scalar reference of the lane contract (chorus_int8.c's header; the same steps as
 * io.chorus.tensor.Int8Kernels), bit for bit, for every type on random blocks, several batch sizes
 * and row ranges. Prints one line per type; exits 1 on the first difference.
 *
 * Built and run by Int8NativeCheckTest: natively against the x86 build, and cross-compiled for
 * aarch64 under qemu-aarch64 against the Arm build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

typedef void (*kernel)(const uint8_t*, int64_t, int, const uint8_t*, int, float*, int, int, int);
#define K(N) void chorus_matmul8_##N(const uint8_t*, int64_t, int, const uint8_t*, int, float*, int, int, int);
K(q8_0) K(q4_0) K(q5_0) K(iq4_nl) K(q4_1) K(q5_1) K(q4_k) K(q5_k) K(q6_k) K(iq4_xs) K(q2_k) K(q3_k)

static uint64_t rng = 88172645463325252ULL;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }
static float uniform(void) { return (next() & 0xFFFFFF) / 16777216.0f * 2 - 1; }

static float half(const uint8_t* p) {
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : ldexpf((float)(m | 1024), e - 25);
    return h >> 15 ? -v : v;
}
static void put_half(uint8_t* p, float small) { /* a normal fp16 of magnitude below 1, sign random */
    uint16_t h = (uint16_t)((next() & 1) << 15 | (5 + next() % 9) << 10 | (next() & 1023));
    (void)small;
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}
static float f32(const uint8_t* p) { float f; memcpy(&f, p, 4); return f; }
static int s16(const uint8_t* p) { return (int16_t)(p[0] | p[1] << 8); }

static const int8_t NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

typedef struct { const char* name; kernel k; int block, bytes; } type_t;

/* ---- the reference: per (row, token), as Int8Kernels ---- */

static float hsum8(const float* a) {
    float t0 = a[0] + a[4], t1 = a[1] + a[5], t2 = a[2] + a[6], t3 = a[3] + a[7];
    t0 += t2;
    t1 += t3;
    return t0 + t1;
}

static float ref32(const type_t* ty, const uint8_t* row, int nb, const uint8_t* x) {
    float acc[8] = {0}, mn = 0;
    for (int b = 0; b < nb; b++) {
        const uint8_t* p = row + b * ty->bytes;
        const uint8_t* a = x + b * 40;
        int w[32];
        float d = half(p), m = 0;
        int has_min = 0;
        const char* n = ty->name;
        if (!strcmp(n, "q8_0")) for (int j = 0; j < 32; j++) w[j] = (int8_t)p[2 + j];
        else if (!strcmp(n, "q4_0") || !strcmp(n, "iq4_nl")) {
            for (int j = 0; j < 16; j++) { w[j] = p[2 + j] & 15; w[j + 16] = p[2 + j] >> 4; }
            for (int j = 0; j < 32; j++) w[j] = !strcmp(n, "q4_0") ? w[j] - 8 : NL[w[j]];
        } else if (!strcmp(n, "q4_1")) {
            m = half(p + 2); has_min = 1;
            for (int j = 0; j < 16; j++) { w[j] = p[4 + j] & 15; w[j + 16] = p[4 + j] >> 4; }
        } else {
            int q5_1 = !strcmp(n, "q5_1"), o = q5_1 ? 4 : 2;
            uint32_t qh = p[o] | p[o + 1] << 8 | p[o + 2] << 16 | (uint32_t)p[o + 3] << 24;
            if (q5_1) { m = half(p + 2); has_min = 1; }
            for (int j = 0; j < 16; j++) { w[j] = p[o + 4 + j] & 15; w[j + 16] = p[o + 4 + j] >> 4; }
            for (int j = 0; j < 32; j++) w[j] += (int)((qh >> j) & 1) * 16 - (q5_1 ? 0 : 16);
        }
        float scale = d * f32(a);
        for (int i = 0; i < 8; i++) {
            int l = 0;
            for (int k = 0; k < 4; k++) l += w[4 * i + k] * (int8_t)a[8 + 4 * i + k];
            acc[i] = fmaf(scale, (float)l, acc[i]);
        }
        if (has_min) mn = fmaf(m, f32(a + 4), mn);
    }
    return hsum8(acc) + mn;
}

static float refK(const type_t* ty, const uint8_t* row, int nb, const uint8_t* x) {
    float acc[8] = {0}, mn = 0;
    const char* n = ty->name;
    int q4k = !strcmp(n, "q4_k"), q5k = !strcmp(n, "q5_k"), q6k = !strcmp(n, "q6_k");
    int q2k = !strcmp(n, "q2_k"), q3k = !strcmp(n, "q3_k"), iq4 = !strcmp(n, "iq4_xs");
    for (int b = 0; b < nb; b++) {
        const uint8_t* p = row + b * ty->bytes;
        const uint8_t* a = x + b * 308;
        int w[256], sc[16] = {0}, mins[16] = {0};
        float d = 0, dmin = 0;
        if (q4k || q5k) {
            d = half(p); dmin = half(p + 2);
            for (int j = 0; j < 8; j++) {
                int q0 = p[4 + j];
                if (j < 4) { sc[2 * j] = q0 & 63; mins[j] = p[8 + j] & 63; }
                else { int q4 = p[8 + j]; sc[2 * j] = (q4 & 15) | (p[j] >> 6) << 4; mins[j] = (q4 >> 4) | (q0 >> 6) << 4; }
                sc[2 * j + 1] = sc[2 * j];
            }
            const uint8_t* qs = p + (q5k ? 48 : 16);
            for (int c = 0; c < 8; c++)
                for (int l = 0; l < 32; l++) {
                    int q = qs[32 * (c >> 1) + l];
                    w[32 * c + l] = ((c & 1) ? q >> 4 : q & 15) | (q5k ? ((p[16 + l] >> c) & 1) << 4 : 0);
                }
        } else if (q6k) {
            d = half(p + 208);
            for (int k = 0; k < 16; k++) sc[k] = (int8_t)p[192 + k];
            for (int c = 0; c < 8; c++) {
                int h = c >> 2, k = c & 3;
                for (int l = 0; l < 32; l++) {
                    int ql = p[64 * h + 32 * (k & 1) + l];
                    w[32 * c + l] = ((k & 2) ? ql >> 4 : ql & 15) | ((p[128 + 32 * h + l] >> (2 * k)) & 3) << 4;
                }
            }
        } else if (q2k || q3k) {
            d = half(p + (q3k ? 108 : 80));
            if (q2k) dmin = half(p + 82);
            for (int k = 0; k < 16; k++) {
                if (q3k) {
                    int lo = k < 8 ? p[96 + k] & 15 : p[96 + k - 8] >> 4;
                    sc[k] = (lo | ((p[104 + k % 4] >> (2 * (k / 4))) & 3) << 4) - 32;
                } else { sc[k] = p[k] & 15; mins[k] = p[k] >> 4; }
            }
            for (int c = 0; c < 8; c++)
                for (int l = 0; l < 32; l++) {
                    int v = (p[(q3k ? 32 : 16) + 32 * (c >> 2) + l] >> (2 * (c & 3))) & 3;
                    if (q3k) v |= ((p[l] >> c) & 1) << 2;
                    w[32 * c + l] = v;
                }
        } else if (iq4) {
            d = half(p);
            int sh = p[2] | p[3] << 8;
            uint32_t sl = p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24;
            for (int c = 0; c < 8; c++) {
                sc[2 * c] = sc[2 * c + 1] = (int)(((sl >> (4 * c)) & 15) | ((sh >> (2 * c)) & 3) << 4) - 32;
                for (int l = 0; l < 16; l++) {
                    w[32 * c + l] = NL[p[8 + 16 * c + l] & 15];
                    w[32 * c + 16 + l] = NL[p[8 + 16 * c + l] >> 4];
                }
            }
        }
        int lane[8] = {0};
        for (int c = 0; c < 8; c++)
            for (int i = 0; i < 8; i++) {
                int s = 0;
                for (int k = 0; k < 4; k++) s += w[32 * c + 4 * i + k] * (int8_t)a[4 + 32 * c + 4 * i + k];
                lane[i] += sc[2 * c + (i >> 2)] * s;
            }
        if (q6k || q3k)
            for (int i = 0; i < 8; i++)
                lane[i] -= (q6k ? 32 : 4) * (sc[2 * i] * s16(a + 260 + 4 * i) + sc[2 * i + 1] * s16(a + 262 + 4 * i));
        float dy = f32(a);
        if (q4k || q5k || q2k) {
            int mi = 0;
            if (q2k) for (int k = 0; k < 16; k++) mi += mins[k] * s16(a + 260 + 2 * k);
            else for (int c = 0; c < 8; c++) mi += mins[c] * s16(a + 292 + 2 * c);
            mn = fmaf(dmin * dy, (float)mi, mn);
        }
        float scale = d * dy;
        for (int i = 0; i < 8; i++) acc[i] = fmaf(scale, (float)lane[i], acc[i]);
    }
    float h = hsum8(acc);
    return q4k || q5k || q2k ? h - mn : h;
}

/* ---- random inputs ---- */

static void random_weights(const type_t* ty, uint8_t* w, int nblocks) {
    for (int b = 0; b < nblocks; b++) {
        uint8_t* p = w + b * ty->bytes;
        for (int i = 0; i < ty->bytes; i++) p[i] = (uint8_t)next();
        const char* n = ty->name;
        if (!strcmp(n, "q6_k")) put_half(p + 208, 0);
        else if (!strcmp(n, "q3_k")) put_half(p + 108, 0);
        else if (!strcmp(n, "q2_k")) { put_half(p + 80, 0); put_half(p + 82, 0); }
        else {
            put_half(p, 0);
            if (!strcmp(n, "q4_1") || !strcmp(n, "q5_1") || !strcmp(n, "q4_k") || !strcmp(n, "q5_k")) put_half(p + 2, 0);
        }
    }
}

static void random_activations(int block, uint8_t* x, int nblocks) {
    for (int b = 0; b < nblocks; b++) {
        if (block == 32) {
            uint8_t* a = x + b * 40;
            float d = uniform() * 0.05f, s = uniform() * 3;
            memcpy(a, &d, 4);
            memcpy(a + 4, &s, 4);
            for (int j = 0; j < 32; j++) a[8 + j] = (uint8_t)(int8_t)((int)(next() % 255) - 127);
        } else {
            uint8_t* a = x + b * 308;
            float d = uniform() * 0.05f;
            memcpy(a, &d, 4);
            for (int j = 0; j < 256; j++) a[4 + j] = (uint8_t)(int8_t)((int)(next() % 255) - 127);
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int j = 0; j < 16; j++) s += (int8_t)a[4 + 16 * g + j];
                int16_t v = (int16_t)s; memcpy(a + 260 + 2 * g, &v, 2);
            }
            for (int g = 0; g < 8; g++) {
                int16_t v = (int16_t)(s16(a + 260 + 4 * g) + s16(a + 262 + 4 * g)); memcpy(a + 292 + 2 * g, &v, 2);
            }
        }
    }
}

int main(void) {
    const type_t types[] = {
        {"q8_0", chorus_matmul8_q8_0, 32, 34}, {"q4_0", chorus_matmul8_q4_0, 32, 18}, {"q5_0", chorus_matmul8_q5_0, 32, 22},
        {"iq4_nl", chorus_matmul8_iq4_nl, 32, 18}, {"q4_1", chorus_matmul8_q4_1, 32, 20}, {"q5_1", chorus_matmul8_q5_1, 32, 24},
        {"q4_k", chorus_matmul8_q4_k, 256, 144}, {"q5_k", chorus_matmul8_q5_k, 256, 176}, {"q6_k", chorus_matmul8_q6_k, 256, 210},
        {"iq4_xs", chorus_matmul8_iq4_xs, 256, 136}, {"q2_k", chorus_matmul8_q2_k, 256, 84}, {"q3_k", chorus_matmul8_q3_k, 256, 110},
    };
    const int Ts[] = {1, 2, 3, 5, 8, 33, 37};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const type_t* ty = &types[ti];
        int rows = 11, cols = ty->block == 256 ? 768 : 224, nb = cols / ty->block, xb = ty->block == 256 ? 308 : 40;
        int64_t rb = (int64_t)nb * ty->bytes;
        uint8_t* w = malloc((size_t)(rows * rb));
        random_weights(ty, w, rows * nb);
        int checked = 0;
        for (size_t k = 0; k < sizeof Ts / sizeof Ts[0]; k++) {
            int T = Ts[k], os = rows + 3;
            uint8_t* x = malloc((size_t)T * nb * xb);
            random_activations(ty->block, x, T * nb);
            const int ranges[][2] = {{0, rows}, {2, rows - 1}, {rows - 1, rows}};
            for (int g = 0; g < 3; g++) {
                float* out = malloc(sizeof(float) * T * os);
                for (int i = 0; i < T * os; i++) out[i] = NAN;
                ty->k(w, rb, cols, x, T, out, os, ranges[g][0], ranges[g][1]);
                for (int t = 0; t < T; t++)
                    for (int r = 0; r < os; r++) {
                        float got = out[t * os + r];
                        if (r < ranges[g][0] || r >= ranges[g][1]) {
                            if (!isnan(got)) { printf("FAIL %s T=%d r=%d written outside [%d,%d)\n", ty->name, T, r, ranges[g][0], ranges[g][1]); return 1; }
                            continue;
                        }
                        const uint8_t* xr = x + (int64_t)t * nb * xb;
                        float want = ty->block == 256 ? refK(ty, w + r * rb, nb, xr) : ref32(ty, w + r * rb, nb, xr);
                        uint32_t gb, wb;
                        memcpy(&gb, &got, 4);
                        memcpy(&wb, &want, 4);
                        if (gb != wb) { printf("FAIL %s T=%d r=%d: kernel %.9g, reference %.9g\n", ty->name, T, r, got, want); return 1; }
                        checked++;
                    }
                free(out);
            }
            free(x);
        }
        free(w);
        printf("ok %s %d outputs\n", ty->name, checked);
    }
    return 0;
}
