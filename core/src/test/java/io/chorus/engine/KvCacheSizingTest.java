package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KvCacheSizingTest {
    private static final long GIB = 1L << 30;

    @Test
    void utilizationShareMinusWeightsGivesTheBudget() {
        // 0.5 x 8 GiB - 1 GiB = 3 GiB; 1 MiB blocks -> 3072 blocks, more than 2 x 4096/16 = 512 useful
        KvCacheSizing s = KvCacheSizing.compute(GIB, 1 << 20, 16, 4096, null, null, 0.5, 8 * GIB, 2);
        assertThat(s.budgetBytes()).isEqualTo(3 * GIB);
        assertThat(s.maxModelLen()).isEqualTo(4096);
        assertThat(s.numBlocks()).isEqualTo(512);
        assertThat(s.fullLengthConcurrency()).isEqualTo(2);
        assertThat(s.notes()).contains("limited to 512 blocks");
    }

    @Test
    void explicitMemoryCapsMaxModelLen() {
        KvCacheSizing s = KvCacheSizing.compute(GIB, 1000, 16, 4096, null, 10_000L, 0.5, 8 * GIB, 64);
        assertThat(s.numBlocks()).isEqualTo(10);
        assertThat(s.maxModelLen()).isEqualTo(160);
        assertThat(s.tokens()).isEqualTo(160);
        assertThat(s.notes()).contains("capped from 4096 to 160");
    }

    @Test
    void tooLittleMemoryNamesTheFlags() {
        assertThatThrownBy(() -> KvCacheSizing.compute(4 * GIB, 1000, 16, 4096, null, null, 0.5, 8 * GIB, 64))
                .hasMessageContaining("--memory-utilization").hasMessageContaining("--kv-cache-memory");
        assertThatThrownBy(() -> KvCacheSizing.compute(GIB, 1000, 16, 4096, 8192, null, 0.5, 8 * GIB, 64))
                .hasMessageContaining("8192").hasMessageContaining("4096");
    }

    @Test
    void aWindowOnEveryLayerNeedsOnlyItsBlocksPerSequence() {
        // window 2047, steps of 512, 16-token blocks: a sequence holds at most ceil(2557 / 16) + 1 = 161 blocks
        KvCacheSizing s = KvCacheSizing.compute(GIB, 1000, 16, 131072, null, 500_000L, 0.5, 8 * GIB, 4, 2047, 512);
        assertThat(s.maxModelLen()).isEqualTo(131072); // 500 blocks (8000 tokens) serve the whole context
        assertThat(s.sequenceBlocks()).isEqualTo(161);
        assertThat(s.numBlocks()).isEqualTo(500);
        assertThat(s.fullLengthConcurrency()).isEqualTo(3);
        assertThat(s.notes()).isEmpty();
        KvCacheSizing roomy = KvCacheSizing.compute(GIB, 1000, 16, 131072, null, 10_000_000L, 0.5, 8 * GIB, 4, 2047, 512);
        assertThat(roomy.numBlocks()).isEqualTo(4 * 161); // no more than max-num-seqs windows
        KvCacheSizing tiny = KvCacheSizing.compute(GIB, 1000, 16, 131072, null, 100_000L, 0.5, 8 * GIB, 4, 2047, 512);
        assertThat(tiny.maxModelLen()).isEqualTo(1600); // not even one window fits: capped as without one
        assertThat(tiny.sequenceBlocks()).isEqualTo(100);
    }
}
