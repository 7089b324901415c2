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
}
