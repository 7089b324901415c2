package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The KV cache commits memory on use: a budget of several GiB costs no resident memory until blocks
 * are written, written blocks read back exactly, and the fallback allocates chunk by chunk.
 */
class PagedKvCacheTest {
    // The qwen2.5-0.5b shape: 24 layers, 2 KV heads of 64; f16 blocks of 16 tokens are 192 KiB.
    private static final int LAYERS = 24, BLOCK = 16, KV_DIM = 128;

    @Test
    void aLargeBudgetIsReservedNotResident() {
        assumeTrue(ReservedMemory.available(), "no anonymous mmap on this system: the cache allocates as it goes");
        OptionalLong before = ReservedMemory.residentBytes();
        assumeTrue(before.isPresent(), "no /proc/self/status here: resident memory cannot be read");
        long bpb = PagedKvCache.bytesPerBlock(LAYERS, BLOCK, KV_DIM, KvCacheDtype.F16);
        int blocks = (int) ((6L << 30) / bpb); // a 6 GiB budget
        // A few blocks far apart, every layer; the data and read buffers exist before memory is measured,
        // and the checks below allocate nothing, so heap growth does not blur the figures.
        int[] written = {0, 1, blocks / 2, blocks - 1};
        int rows = written.length * LAYERS * BLOCK;
        float[][] k = new float[rows][], v = new float[rows][];
        SplittableRandom r = new SplittableRandom(11);
        for (int n = 0; n < rows; n++) {
            k[n] = halves(r, KV_DIM);
            v[n] = halves(r, KV_DIM);
        }
        float[] kr = new float[KV_DIM], vr = new float[KV_DIM];
        long start = ReservedMemory.residentBytes().getAsLong();
        try (PagedKvCache cache = new PagedKvCache(LAYERS, blocks, BLOCK, KV_DIM, KvCacheDtype.F16)) {
            assertThat(cache.reserved()).isTrue();
            assertThat(cache.reservedBytes()).isGreaterThanOrEqualTo((long) blocks * bpb);
            long afterReserve = ReservedMemory.residentBytes().getAsLong();
            assertThat(afterReserve - start).as("resident growth from reserving 6 GiB").isLessThan(64L << 20);

            int n = 0;
            for (int block : written) {
                for (int l = 0; l < LAYERS; l++) {
                    for (int i = 0; i < BLOCK; i++, n++) cache.write(l, block * BLOCK + i, k[n], 0, v[n], 0);
                }
            }
            int mismatches = 0;
            n = 0;
            for (int block : written) {
                for (int l = 0; l < LAYERS; l++) {
                    for (int i = 0; i < BLOCK; i++, n++) {
                        cache.read(l, block * BLOCK + i, kr, 0, vr, 0);
                        if (!Arrays.equals(kr, k[n]) || !Arrays.equals(vr, v[n])) mismatches++;
                    }
                }
            }
            long afterWrites = ReservedMemory.residentBytes().getAsLong();
            assertThat(mismatches).as("rows that did not read back exactly").isZero();
            assertThat(afterWrites - afterReserve).as("resident growth from writing 4 blocks of 192 KiB").isLessThan(16L << 20);

            // A block never written reads as zeros, not as garbage.
            cache.read(LAYERS - 1, (blocks / 3) * BLOCK + 5, kr, 0, vr, 0);
            assertThat(kr).containsOnly(0f);
            assertThat(vr).containsOnly(0f);
        }
    }

    @Test
    void fallbackAllocatesAChunkOnlyWhenOneOfItsBlocksIsWritten() {
        long bpb = PagedKvCache.bytesPerBlock(LAYERS, BLOCK, KV_DIM, KvCacheDtype.F32);
        int perChunk = Integer.highestOneBit((int) (PagedKvCache.CHUNK_BYTES / bpb)); // 64 blocks of 384 KiB
        int blocks = perChunk * 4 + 3;
        try (PagedKvCache cache = new PagedKvCache(LAYERS, blocks, BLOCK, KV_DIM, KvCacheDtype.F32, false)) {
            assertThat(cache.reserved()).isFalse();
            assertThat(cache.chunksInUse()).isZero();

            SplittableRandom r = new SplittableRandom(5);
            int src = perChunk * 2 + 7, dst = perChunk * 4 + 2; // chunk 2 and the last, partial chunk 4
            float[][] k = new float[LAYERS * BLOCK][], v = new float[LAYERS * BLOCK][];
            for (int l = 0; l < LAYERS; l++) {
                for (int i = 0; i < BLOCK; i++) {
                    k[l * BLOCK + i] = random(r, KV_DIM);
                    v[l * BLOCK + i] = random(r, KV_DIM);
                    cache.write(l, src * BLOCK + i, k[l * BLOCK + i], 0, v[l * BLOCK + i], 0);
                }
            }
            assertThat(cache.chunksInUse()).isEqualTo(1);
            cache.copyBlock(src, dst);
            assertThat(cache.chunksInUse()).isEqualTo(2);

            float[] kr = new float[KV_DIM], vr = new float[KV_DIM];
            for (int block : new int[] {src, dst}) {
                for (int l = 0; l < LAYERS; l++) {
                    for (int i = 0; i < BLOCK; i++) {
                        cache.read(l, block * BLOCK + i, kr, 0, vr, 0);
                        assertThat(kr).containsExactly(k[l * BLOCK + i]);
                        assertThat(vr).containsExactly(v[l * BLOCK + i]);
                    }
                }
            }
            assertThatThrownBy(() -> cache.chunkOf(perChunk))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("KV block " + perChunk + " is read before anything was written");
        }
    }

    @Test
    void blocksLayersAndPlanesDoNotOverlap() {
        // Every slot of every layer and plane keeps its own values, within a chunk and across two.
        int layers = 3, bs = 4, kvDim = 8, blocks = 6;
        try (PagedKvCache cache = new PagedKvCache(layers, blocks, bs, kvDim, KvCacheDtype.F32)) {
            float[] k = new float[kvDim], v = new float[kvDim];
            for (int l = 0; l < layers; l++) {
                for (int slot = 0; slot < blocks * bs; slot++) {
                    for (int j = 0; j < kvDim; j++) {
                        k[j] = l * 10_000 + slot * 10 + j;
                        v[j] = -k[j];
                    }
                    cache.write(l, slot, k, 0, v, 0);
                }
            }
            cache.copyBlock(1, 4);
            for (int l = 0; l < layers; l++) {
                for (int slot = 0; slot < blocks * bs; slot++) {
                    cache.read(l, slot, k, 0, v, 0);
                    int from = slot / bs == 4 ? slot - 3 * bs : slot;
                    for (int j = 0; j < kvDim; j++) {
                        assertThat(k[j]).isEqualTo(l * 10_000 + from * 10 + j);
                        assertThat(v[j]).isEqualTo(-(l * 10_000 + from * 10 + j));
                    }
                }
            }
        }
    }

    /** Random values that f16 holds exactly (11 significant bits, small exponents). */
    private static float[] halves(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (r.nextInt(4096) - 2048) / 256f;
        return a;
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }
}
