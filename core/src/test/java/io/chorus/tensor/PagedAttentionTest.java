package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Paged attention against a scalar reference that keeps each sequence's K/V in plain contiguous
 * arrays: scattered block tables, GQA groups, causal prefill chunks, odd head sizes, f32 and f16, over
 * a reserved cache and over one that allocates its chunks as they are written.
 */
class PagedAttentionTest {
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    @ParameterizedTest
    @CsvSource({"4,2,16,F32,true", "4,2,16,F16,true", "6,3,8,F32,true", "8,1,64,F16,true", "3,3,20,F32,true", "2,2,128,F16,true",
                "4,2,16,F16,false", "3,3,20,F32,false"})
    void matchesReference(int heads, int kvHeads, int headDim, KvCacheDtype dtype, boolean reserve) {
        SplittableRandom r = new SplittableRandom(heads * 31 + headDim);
        int blockSize = 4, blocks = 40, kvDim = kvHeads * headDim, qDim = heads * headDim;
        int[] lens = {1, 5, 13, 9};          // tokens already in each sequence's context after this step
        int[] newTokens = {1, 5, 3, 1};      // this step's tokens: a fresh prompt, a chunk, decodes
        int seqs = lens.length;
        // Scattered, non-overlapping block tables.
        int[][] tables = new int[seqs][4];
        int next = blocks - 1;
        for (int s = 0; s < seqs; s++) for (int b = 0; b < 4; b++) tables[s][b] = next--;
        // Reference K/V per sequence, position-major.
        float[][][] k = new float[seqs][][], v = new float[seqs][][];
        try (PagedKvCache cache = new PagedKvCache(2, blocks, blockSize, kvDim, dtype, reserve)) {
            for (int s = 0; s < seqs; s++) {
                k[s] = new float[lens[s]][];
                v[s] = new float[lens[s]][];
                for (int p = 0; p < lens[s]; p++) {
                    k[s][p] = KernelsTest.random(r, kvDim, 1);
                    v[s][p] = KernelsTest.random(r, kvDim, 1);
                    if (dtype == KvCacheDtype.F16) { roundToHalf(k[s][p]); roundToHalf(v[s][p]); }
                    int slot = tables[s][p / blockSize] * blockSize + p % blockSize;
                    cache.write(1, slot, k[s][p], 0, v[s][p], 0);
                    cache.write(0, slot, new float[kvDim], 0, new float[kvDim], 0); // other layer: zeros
                }
            }
            int T = 0;
            for (int n : newTokens) T += n;
            int[] positions = new int[T];
            int[][] tokTables = new int[T][];
            int[] tokSeq = new int[T];
            int t = 0;
            for (int s = 0; s < seqs; s++) {
                for (int i = 0; i < newTokens[s]; i++, t++) {
                    positions[t] = lens[s] - newTokens[s] + i;
                    tokTables[t] = tables[s];
                    tokSeq[t] = s;
                }
            }
            int qStride = qDim + 7, qOff = 3; // q inside a wider (fused) row
            float[] q = KernelsTest.random(r, T * qStride, 1);
            float[] out = new float[T * qDim];
            float scale = (float) (1 / Math.sqrt(headDim));
            PagedAttention attn = new PagedAttention(heads, kvHeads, headDim, scale, 64, pool.threads());
            attn.run(pool, cache, 1, T, positions, tokTables, q, qStride, qOff, out);

            int group = heads / kvHeads;
            for (t = 0; t < T; t++) {
                int s = tokSeq[t], ctx = positions[t] + 1;
                for (int h = 0; h < heads; h++) {
                    int g = h / group;
                    double[] sc = new double[ctx];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < ctx; j++) {
                        double d = 0;
                        for (int i = 0; i < headDim; i++) d += q[t * qStride + qOff + h * headDim + i] * k[s][j][g * headDim + i];
                        sc[j] = d * scale;
                        max = Math.max(max, sc[j]);
                    }
                    for (int j = 0; j < ctx; j++) sum += sc[j] = Math.exp(sc[j] - max);
                    for (int i = 0; i < headDim; i++) {
                        double o = 0;
                        for (int j = 0; j < ctx; j++) o += sc[j] / sum * v[s][j][g * headDim + i];
                        assertThat((double) out[t * qDim + h * headDim + i]).as("token %d head %d dim %d", t, h, i)
                                .isCloseTo(o, within(2e-5));
                    }
                }
            }
        }
    }

    /**
     * A prefill chunk's tokens attend in tiles that share each K/V row; every token's output is still
     * the bits it gets alone (one token per call), with and without a sliding window.
     */
    @ParameterizedTest
    @CsvSource({"F16,0", "F32,0", "F16,3", "F32,6"})
    void tokensOfAChunkGetTheirBitsAlone(KvCacheDtype dtype, int window) {
        SplittableRandom r = new SplittableRandom(17 + window);
        int heads = 6, kvHeads = 2, headDim = 24, blockSize = 4, len = 11, chunk = 9, kvDim = kvHeads * headDim, qDim = heads * headDim;
        int[] table = {7, 2, 5};
        try (PagedKvCache cache = new PagedKvCache(1, 8, blockSize, kvDim, dtype, true)) {
            for (int p = 0; p < len; p++) {
                cache.write(0, table[p / blockSize] * blockSize + p % blockSize, KernelsTest.random(r, kvDim, 1), 0, KernelsTest.random(r, kvDim, 1), 0);
            }
            int[] positions = new int[chunk];
            int[][] tables = new int[chunk][];
            for (int t = 0; t < chunk; t++) {
                positions[t] = len - chunk + t;
                tables[t] = table;
            }
            float[] q = KernelsTest.random(r, chunk * qDim, 1);
            PagedAttention attn = new PagedAttention(heads, kvHeads, headDim, 0.2f, 16, pool.threads());
            float[] all = new float[chunk * qDim];
            attn.run(pool, cache, 0, chunk, positions, tables, q, qDim, 0, all, window);
            for (int t = 0; t < chunk; t++) {
                float[] one = new float[qDim];
                attn.run(pool, cache, 0, 1, new int[] {positions[t]}, new int[][] {table},
                        java.util.Arrays.copyOfRange(q, t * qDim, (t + 1) * qDim), qDim, 0, one, window);
                for (int i = 0; i < qDim; i++) {
                    assertThat(Float.floatToRawIntBits(all[t * qDim + i])).as("token %d dim %d", t, i).isEqualTo(Float.floatToRawIntBits(one[i]));
                }
            }
        }
    }

    private static void roundToHalf(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
    }
}
