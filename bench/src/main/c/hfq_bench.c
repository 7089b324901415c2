/*
 * The Hugging Face quantized kernels (chorus_hfq.c: FP8, AWQ and GPTQ, the last two also as awq16 / gptq16
 * with 16-bit integer activations) and the BF16 float kernel (chorus_kernels.c) alone,
 * on the qwen2.5-0.5b shapes: single token (weights streamed from memory, as in decode) and a batch
 * of tokens (compute-bound), on 1 and 2 threads splitting the rows as the Java side does.
 *
 *   scripts/bench-hfq-kernels [T] [reps] [filter]
 *
 * Prints per kernel and shape: ms per call over all copies, GB/s of weight bytes, and multiply-adds
 * per cycle per thread at the given clock (CHORUS_GHZ, default 3.0). Weights are random with small,
 * finite scales; several copies of each matrix (about 256 MB in all) are cycled so single-token runs
 * read from memory, not cache.
 */
#define _GNU_SOURCE
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void chorus_matmul_fp8(const uint8_t* w, int cols, const float* s, const float* x, int T, float* out, int os, int r0, int r1);
void chorus_matmul_awq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs,
                       const float* x, int T, float* out, int os, int r0, int r1);
void chorus_matmul_gptq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs, int zoff,
                        const float* x, int T, float* out, int os, int r0, int r1);
void chorus_matmul16_awq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs,
                         const uint8_t* xq, int T, float* out, int os, int r0, int r1);
void chorus_matmul16_gptq(const uint8_t* qw, const uint8_t* qz, const uint8_t* sc, int rows, int cols, int gs, int zoff,
                          const uint8_t* xq, int T, float* out, int os, int r0, int r1);
void chorus_matmul_bf16(const uint8_t* w, int64_t rowBytes, int cols, const float* x, int T, float* out, int outStride,
                        int r0, int r1);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static uint64_t rng = 88172645463325252ULL;
static uint32_t next32(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }

static uint8_t* random_bytes(size_t n) {
    uint8_t* p = aligned_alloc(64, (n + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)next32();
    return p;
}
/* FP8 bytes without NaN (0x7F / 0xFF); BF16 and F16 halves of small magnitude. */
static uint8_t* random_fp8(size_t n) {
    uint8_t* p = random_bytes(n);
    for (size_t i = 0; i < n; i++) if ((p[i] & 0x7F) == 0x7F) p[i] = 0x38;
    return p;
}
static uint8_t* random_halves(size_t n, int bf16) {
    uint16_t* p = aligned_alloc(64, (2 * n + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = bf16 ? (uint16_t)(0x3C00 | (next32() & 0x80FF)) : (uint16_t)(0x2000 | (next32() & 0x83FF));
    return (uint8_t*)p;
}

enum kind { FP8, AWQ, GPTQ, BF16, AWQ16, GPTQ16 };
static const char* NAMES[] = {"fp8", "awq", "gptq", "bf16", "awq16", "gptq16"};

/* 16-bit activations (Q8Activations I16: 128-value blocks of 288 bytes) of random values. */
static uint8_t* random_i16(int T, int cols) {
    size_t rb = (size_t)cols / 128 * 288;
    uint8_t* p = aligned_alloc(64, (T * rb + 63) / 64 * 64);
    for (int t = 0; t < T; t++)
        for (int b = 0; b < cols / 128; b++) {
            uint8_t* blk = p + t * rb + b * 288;
            int32_t sums[4] = {0};
            for (int i = 0; i < 128; i++) {
                int16_t q = (int16_t)((int)(next32() % 65535) - 32767);
                memcpy(blk + 2 * i, &q, 2);
                sums[i / 32] += q; /* pair order keeps each 32-value quarter in place */
            }
            float d = 1e-4f;
            memcpy(blk + 256, &d, 4);
            memcpy(blk + 260, sums, 16);
            memset(blk + 276, 0, 12);
        }
    return p;
}

typedef struct { uint8_t *w, *qz, *sc; float* s; } mat;

static mat make(enum kind k, int rows, int cols, int gs) {
    mat m = {0};
    size_t n = (size_t)rows * cols;
    if (k == FP8) {
        m.w = random_fp8(n);
        m.s = malloc(sizeof(float) * rows);
        for (int r = 0; r < rows; r++) m.s[r] = 0x1p120f * 1e-2f;
    } else if (k == BF16) {
        m.w = random_halves(n, 1);
    } else { /* AWQ, GPTQ, with float or 16-bit activations */
        m.w = random_bytes(n / 2);
        m.qz = random_bytes((size_t)cols / gs * rows / 2);
        m.sc = random_halves((size_t)cols / gs * rows, 0);
    }
    return m;
}

static size_t bytes_of(enum kind k, int rows, int cols) {
    return k == FP8 ? (size_t)rows * cols : k == BF16 ? 2 * (size_t)rows * cols : (size_t)rows * cols / 2;
}

static void call(enum kind k, const mat* m, int rows, int cols, int gs, const float* x, const uint8_t* xq, int T, float* out,
                 int r0, int r1) {
    switch (k) {
    case AWQ16: chorus_matmul16_awq(m->w, m->qz, m->sc, rows, cols, gs, xq, T, out, rows, r0, r1); break;
    case GPTQ16: chorus_matmul16_gptq(m->w, m->qz, m->sc, rows, cols, gs, 1, xq, T, out, rows, r0, r1); break;
    case FP8: chorus_matmul_fp8(m->w, cols, m->s, x, T, out, rows, r0, r1); break;
    case AWQ: chorus_matmul_awq(m->w, m->qz, m->sc, rows, cols, gs, x, T, out, rows, r0, r1); break;
    case GPTQ: chorus_matmul_gptq(m->w, m->qz, m->sc, rows, cols, gs, 1, x, T, out, rows, r0, r1); break;
    case BF16: chorus_matmul_bf16(m->w, 2 * (int64_t)cols, cols, x, T, out, rows, r0, r1); break;
    }
}

int main(int argc, char** argv) {
    int T = argc > 1 ? atoi(argv[1]) : 16;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    const char* filter = argc > 3 ? argv[3] : "";
    double ghz = getenv("CHORUS_GHZ") ? atof(getenv("CHORUS_GHZ")) : 3.0;
    const int gs = 128;
    struct { int rows, cols; const char* what; } shapes[] = {{4864, 896, "gate"}, {896, 4864, "down"}, {896, 896, "q/o"}};
    float* x = malloc(sizeof(float) * 64 * 4864);
    for (int i = 0; i < 64 * 4864; i++) x[i] = (float)((int)(next32() % 2001) - 1000) / 1000.0f;
    uint8_t* xq = random_i16(64, 4864);
    float* out = malloc(sizeof(float) * 64 * 151936);
    for (int k = FP8; k <= GPTQ16; k++) {
        if (*filter && !strstr(filter, NAMES[k])) continue;
        for (int si = 0; si < 3; si++) {
            int rows = shapes[si].rows, cols = shapes[si].cols;
            size_t b = bytes_of(k, rows, cols);
            int copies = (int)(256e6 / b);
            if (copies < 1) copies = 1;
            if (T > 1) copies = copies < 4 ? copies : 4;
            mat* ms = malloc(sizeof(mat) * copies);
            for (int c = 0; c < copies; c++) ms[c] = make(k, rows, cols, gs);
            for (int threads = 1; threads <= 2; threads++) {
                double best = 1e9;
                for (int rep = 0; rep < reps; rep++) {
                    double t0 = now();
#pragma omp parallel num_threads(threads)
                    {
                        int id = omp_get_thread_num(), n = omp_get_num_threads();
                        int per = (rows / n + 63) / 64 * 64;
                        int r0 = id * per, r1 = r0 + per < rows ? r0 + per : rows;
                        for (int c = 0; c < copies; c++)
                            if (r0 < r1) call(k, &ms[c], rows, cols, gs, x, xq, T, out, r0, r1);
                    }
                    double t = now() - t0;
                    if (t < best) best = t;
                }
                double per = best / copies;
                double macs = (double)rows * cols * T;
                printf("%-6s %-5s %5dx%-5d T=%-3d threads=%d  %8.3f ms  %6.2f GB/s  %5.2f MAC/cycle/thread  %6.1f GFLOP/s\n",
                       NAMES[k], shapes[si].what, rows, cols, T, threads, per * 1e3, b / per / 1e9,
                       macs / per / (ghz * 1e9) / threads, 2 * macs / per / 1e9);
                fflush(stdout);
            }
            for (int c = 0; c < copies; c++) { free(ms[c].w); free(ms[c].qz); free(ms[c].sc); free(ms[c].s); }
            free(ms);
        }
    }
    return 0;
}
