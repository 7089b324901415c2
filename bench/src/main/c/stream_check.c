/*
 * How fast one thread streams a weight matrix through the 8-bit single-token kernels, against a
 * plain read loop over the same bytes: the ceiling a decode step can reach per thread.
 *
 *   scripts/bench-kernel-stream [MB] [reps]
 *
 * The weights are random bytes with small, finite block scales; the activations are one random
 * 8-bit row. Each kernel runs over all rows (r0 = 0, r1 = rows) as one call, best of reps.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

typedef void kernel(const uint8_t*, int64_t, int, const uint8_t*, int, float*, int, int, int);
kernel chorus_matmul8_q8_0, chorus_matmul8_q4_0, chorus_matmul8_q4_1, chorus_matmul8_q5_0,
       chorus_matmul8_q4_k, chorus_matmul8_q5_k, chorus_matmul8_q6_k;

typedef struct { const char* name; kernel* fn; int values, bytes, scale_at, min_at, act_bytes; } type_t;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static uint64_t rng = 88172645463325252ULL;
static uint8_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint8_t)(rng >> 24); }

int main(int argc, char** argv) {
    double mb = argc > 1 ? atof(argv[1]) : 128;
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    const int cols = 2048;
    const type_t types[] = {
        {"Q8_0", chorus_matmul8_q8_0, 32, 34, 0, -1, 40},    {"Q4_0", chorus_matmul8_q4_0, 32, 18, 0, -1, 40},
        {"Q4_1", chorus_matmul8_q4_1, 32, 20, 0, 2, 40},     {"Q5_0", chorus_matmul8_q5_0, 32, 22, 0, -1, 40},
        {"Q4_K", chorus_matmul8_q4_k, 256, 144, 0, 2, 308},  {"Q5_K", chorus_matmul8_q5_k, 256, 176, 0, 2, 308},
        {"Q6_K", chorus_matmul8_q6_k, 256, 210, 208, -1, 308},
    };
    size_t cap = (size_t)(mb * 1e6) + 4096;
    uint8_t* w = aligned_alloc(64, (cap + 63) / 64 * 64);
    uint8_t* x = aligned_alloc(64, 64 * 1024);
    for (size_t i = 0; i < cap; i++) w[i] = next();
    for (int i = 0; i < 64 * 1024; i++) x[i] = next();
    float* out = malloc(sizeof(float) * (cap / 18 + 1));
    /* read loop: the same number of bytes, 4 loads of 32 bytes per step */
    double best_read = 1e9;
    __m256i s = _mm256_setzero_si256();
    size_t n = (size_t)(mb * 1e6) / 128 * 128;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i += 128) {
            s = _mm256_add_epi32(s, _mm256_load_si256((const __m256i*)(w + i)));
            s = _mm256_add_epi32(s, _mm256_load_si256((const __m256i*)(w + i + 32)));
            s = _mm256_add_epi32(s, _mm256_load_si256((const __m256i*)(w + i + 64)));
            s = _mm256_add_epi32(s, _mm256_load_si256((const __m256i*)(w + i + 96)));
        }
        double t = now() - t0;
        if (t < best_read) best_read = t;
    }
    printf("read loop   %8.1f MB  %6.2f GB/s  (checksum %d)\n", n / 1e6, n / best_read / 1e9, _mm256_extract_epi32(s, 0) & 1);
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        const type_t* t = &types[k];
        int64_t rb = (int64_t)cols / t->values * t->bytes;
        int rows = (int)((size_t)(mb * 1e6) / rb);
        size_t bytes = (size_t)rows * rb;
        /* every block's fp16 scale (and minimum) a small normal value: random halves would include
         * subnormals and infinities, whose float steps can take microcode assists */
        for (size_t b = 0; b + t->bytes <= bytes; b += t->bytes) {
            w[b + t->scale_at] = 0x00; w[b + t->scale_at + 1] = 0x1c;
            if (t->min_at >= 0) { w[b + t->min_at] = 0x00; w[b + t->min_at + 1] = 0x98; }
        }
        for (int b = 0; b < cols / t->values; b++) {
            float d = 0.01f, sum = 0.5f; /* A32 blocks: d, then the scaled sum the minima use */
            memcpy(x + b * t->act_bytes, &d, 4);
            if (t->values == 32) memcpy(x + b * t->act_bytes + 4, &sum, 4);
        }
        double best = 1e9;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            t->fn(w, rb, cols, x, 1, out, rows, 0, rows);
            double e = now() - t0;
            if (e < best) best = e;
        }
        printf("%-6s T=1  %8.1f MB  %6.2f GB/s  %.2fx the read loop  (out[0] %g)\n", t->name, bytes / 1e6,
               bytes / best / 1e9, (bytes / best) / (n / best_read), out[0]);
    }
    return 0;
}
