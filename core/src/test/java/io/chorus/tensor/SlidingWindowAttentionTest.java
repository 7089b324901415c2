package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sliding-window attention with soft-capped scores against a scalar reference over contiguous K/V:
 * windows smaller than a block, equal to it and spanning several, windows that start mid-block, prefill
 * chunks whose tokens' windows start at different positions, and contexts shorter than the window.
 * The block table entries before each sequence's earliest window are poisoned, so reading a block
 * outside the window fails the test.
 */
class SlidingWindowAttentionTest {
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
    @CsvSource({"1,0,F32", "3,0,F32", "3,10,F16", "4,0,F32", "6,10,F32", "9,50,F16", "13,0,F32", "40,10,F32"})
    void matchesReference(int window, float softcap, KvCacheDtype dtype) {
        int heads = 4, kvHeads = 2, headDim = 16, blockSize = 4, blocks = 40, tablesLen = 5;
        int kvDim = kvHeads * headDim, qDim = heads * headDim;
        SplittableRandom r = new SplittableRandom(window * 7 + (long) softcap);
        int[] lens = {1, 5, 14, 19, 11};      // context of each sequence after this step
        int[] newTokens = {1, 5, 1, 6, 1};    // a fresh prompt, a whole prompt, decodes, a chunk mid-sequence
        int seqs = lens.length;
        int[][] tables = new int[seqs][tablesLen];
        int next = blocks - 1;
        for (int s = 0; s < seqs; s++) for (int b = 0; b < tablesLen; b++) tables[s][b] = next--;
        float[][][] k = new float[seqs][][], v = new float[seqs][][];
        try (PagedKvCache cache = new PagedKvCache(1, blocks, blockSize, kvDim, dtype, true)) {
            for (int s = 0; s < seqs; s++) {
                k[s] = new float[lens[s]][];
                v[s] = new float[lens[s]][];
                for (int p = 0; p < lens[s]; p++) {
                    k[s][p] = KernelsTest.random(r, kvDim, 1);
                    v[s][p] = KernelsTest.random(r, kvDim, 1);
                    if (dtype == KvCacheDtype.F16) { roundToHalf(k[s][p]); roundToHalf(v[s][p]); }
                    int slot = tables[s][p / blockSize] * blockSize + p % blockSize;
                    cache.write(0, slot, k[s][p], 0, v[s][p], 0);
                }
            }
            int T = 0;
            for (int n : newTokens) T += n;
            int[] positions = new int[T];
            int[][] tokTables = new int[T][];
            int[] tokSeq = new int[T];
            int poisoned = 0;
            int t = 0;
            for (int s = 0; s < seqs; s++) {
                int earliest = Math.max(0, lens[s] - newTokens[s] - window + 1);
                // Blocks wholly before the earliest window of this step: an index no cache has.
                for (int b = 0; b < earliest / blockSize; b++, poisoned++) tables[s][b] = -1000;
                for (int i = 0; i < newTokens[s]; i++, t++) {
                    positions[t] = lens[s] - newTokens[s] + i;
                    tokTables[t] = tables[s];
                    tokSeq[t] = s;
                }
            }
            if (window <= 6) assertThat(poisoned).as("blocks outside every window").isGreaterThan(0);
            float[] q = KernelsTest.random(r, T * qDim, 2);
            float[] out = new float[T * qDim];
            float scale = (float) (1 / Math.sqrt(headDim));
            PagedAttention attn = new PagedAttention(heads, kvHeads, headDim, scale, softcap, 64, pool.threads());
            attn.run(pool, cache, 0, T, positions, tokTables, q, qDim, 0, out, window);

            int group = heads / kvHeads;
            for (t = 0; t < T; t++) {
                int s = tokSeq[t], first = Math.max(0, positions[t] - window + 1), ctx = positions[t] + 1;
                for (int h = 0; h < heads; h++) {
                    int g = h / group;
                    double[] sc = new double[ctx];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = first; j < ctx; j++) {
                        double d = 0;
                        for (int i = 0; i < headDim; i++) d += q[t * qDim + h * headDim + i] * k[s][j][g * headDim + i];
                        d *= scale;
                        sc[j] = softcap > 0 ? softcap * Math.tanh(d / softcap) : d;
                        max = Math.max(max, sc[j]);
                    }
                    for (int j = first; j < ctx; j++) sum += sc[j] = Math.exp(sc[j] - max);
                    for (int i = 0; i < headDim; i++) {
                        double o = 0;
                        for (int j = first; j < ctx; j++) o += sc[j] / sum * v[s][j][g * headDim + i];
                        assertThat((double) out[t * qDim + h * headDim + i]).as("token %d head %d dim %d", t, h, i)
                                .isCloseTo(o, within(2e-5));
                    }
                }
            }
        }
    }

    private static void roundToHalf(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
    }
}
