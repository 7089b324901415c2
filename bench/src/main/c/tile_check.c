/*
 * How much work the 32-value 8-bit kernels do per weight block and token at small and medium batch:
 * one thread, each call on a matrix not read before (weights streamed from memory, as an expert's
 * slice in a batched mixture-of-experts step or a layer's matrix in prefill).
 *
 *   scripts/bench-kernel-tile [seconds per figure] [type]
 *
 * Times are the thread's CPU time, so that on a shared machine the time slices other processes
 * take do not count (their cache and memory traffic still does: compare figures of one run).
 * Prints, per type, shape (rows x cols) and number of tokens T: ns per block-pair (one 32-value
 * block of one row times one token), the weight bytes read per second, and a hash of the output
 * bits, which must not change when a kernel is rewritten to the same lane contract.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef void kernel(const uint8_t*, int64_t, int, const uint8_t*, int, float*, int, int, int);
kernel chorus_matmul8_q8_0, chorus_matmul8_q4_0, chorus_matmul8_q4_1, chorus_matmul8_q5_0,
       chorus_matmul8_q5_1, chorus_matmul8_iq4_nl;

typedef struct { const char* name; kernel* fn; int bytes, min_at; } type_t;

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static uint64_t rng = 88172645463325252ULL;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }

#define POOL (256u << 20) /* larger than the last-level cache: every call reads its weights from memory */
#define TMAX 512

int main(int argc, char** argv) {
    double secs = argc > 1 ? atof(argv[1]) : 0.3;
    const type_t types[] = {
        {"Q4_1", chorus_matmul8_q4_1, 20, 2}, {"Q8_0", chorus_matmul8_q8_0, 34, -1},
        {"Q4_0", chorus_matmul8_q4_0, 18, -1}, {"Q5_0", chorus_matmul8_q5_0, 22, -1},
        {"Q5_1", chorus_matmul8_q5_1, 24, 2}, {"IQ4_NL", chorus_matmul8_iq4_nl, 18, -1},
    };
    const int shapes[][2] = {{1024, 2048}, {4864, 896}};
    const int ts[] = {1, 2, 3, 4, 5, 6, 8, 16, 64, 512};
    uint8_t* w = aligned_alloc(64, POOL);
    uint8_t* x = aligned_alloc(64, (size_t)TMAX * 4864 / 32 * 40);
    float* out = aligned_alloc(64, sizeof(float) * TMAX * 4864);
    for (size_t i = 0; i < POOL; i++) w[i] = (uint8_t)next();
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        const type_t* ty = &types[k];
        if (argc > 2 && strcasecmp(argv[2], ty->name) != 0) continue;
        /* every block's fp16 scale and minimum a small normal value (no subnormal or infinity assists) */
        for (size_t b = 0; b + ty->bytes <= POOL; b += ty->bytes) {
            w[b] = (uint8_t)next(); w[b + 1] = 0x14 + (next() & 3);
            if (ty->min_at >= 0) { w[b + 2] = (uint8_t)next(); w[b + 3] = 0x94 + (next() & 3); }
        }
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            int rows = shapes[s][0], cols = shapes[s][1], nb = cols / 32;
            int64_t rb = (int64_t)nb * ty->bytes, mat = rows * rb;
            int nmat = (int)(POOL / mat);
            for (int t = 0; t < TMAX; t++)
                for (int b = 0; b < nb; b++) {
                    uint8_t* a = x + ((size_t)t * nb + b) * 40;
                    float d = 0.001f * (1 + next() % 100), sum = 0.01f * ((int)(next() % 200) - 100);
                    memcpy(a, &d, 4);
                    memcpy(a + 4, &sum, 4);
                    for (int j = 0; j < 32; j++) a[8 + j] = (uint8_t)(int8_t)((int)(next() % 255) - 127);
                }
            for (size_t ti = 0; ti < sizeof(ts) / sizeof(ts[0]); ti++) {
                int T = ts[ti];
                ty->fn(w, rb, cols, x, T, out, rows, 0, rows);
                uint64_t h = 1469598103934665603ULL;
                for (size_t i = 0; i < (size_t)T * rows; i++) {
                    uint32_t u; memcpy(&u, out + i, 4);
                    h = (h ^ u) * 1099511628211ULL;
                }
                int calls = 0, m = 1;
                double t0 = now(), e;
                do {
                    ty->fn(w + (int64_t)m * mat, rb, cols, x, T, out, rows, 0, rows);
                    calls++;
                    m = m + 1 < nmat ? m + 1 : 0;
                } while ((e = now() - t0) < secs);
                double pairs = (double)calls * rows * nb * T;
                printf("%-6s %4dx%-4d T=%-2d  %6.3f ns/block-pair  %6.2f GB/s weights  hash %016llx\n", ty->name,
                       rows, cols, T, e / pairs * 1e9, (double)calls * mat / e / 1e9, (unsigned long long)h);
                fflush(stdout);
            }
        }
    }
    return 0;
}
