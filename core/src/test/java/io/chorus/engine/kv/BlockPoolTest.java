package io.chorus.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BlockPoolTest {
    private static final int[] T = {1, 2, 3, 4};

    @Test
    void allocatesInIdOrderAndCountsReferences() {
        BlockPool pool = new BlockPool(4);
        assertThat(pool.freeQueue()).containsExactly(0, 1, 2, 3);
        assertThat(pool.allocate()).isEqualTo(0);
        assertThat(pool.allocate()).isEqualTo(1);
        assertThat(pool.numFreeBlocks()).isEqualTo(2);
        assertThat(pool.usage()).isEqualTo(0.5);
        pool.retain(1);
        assertThat(pool.refCount(1)).isEqualTo(2);
        pool.release(1);
        assertThat(pool.refCount(1)).isEqualTo(1);
        assertThat(pool.freeQueue()).containsExactly(2, 3);
    }

    @Test
    void uncachedBlocksAreReusedFirstAndCachedOnesGoToTheLruTail() {
        BlockPool pool = new BlockPool(4);
        int a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
        pool.cache(a, 100, BlockHasher.ROOT, T, 0, 4);
        pool.release(a); // cached: tail
        pool.release(c); // uncached: head
        pool.release(b); // uncached: head
        assertThat(pool.freeQueue()).containsExactly(1, 2, 3, 0);
        assertThat(pool.allocate()).isEqualTo(1);
        assertThat(pool.allocate()).isEqualTo(2);
        assertThat(pool.allocate()).isEqualTo(3);
        assertThat(pool.lookup(100)).isEqualTo(0);
        assertThat(pool.allocate()).isEqualTo(0); // evicts the cached block
        assertThat(pool.lookup(100)).isEqualTo(-1);
        assertThat(pool.isCached(0)).isFalse();
        assertThatThrownBy(pool::allocate).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void evictsCachedBlocksLeastRecentlyFreedFirst() {
        BlockPool pool = new BlockPool(3);
        for (int i = 0; i < 3; i++) pool.allocate();
        pool.cache(0, 10, BlockHasher.ROOT, T, 0, 4);
        pool.cache(1, 11, BlockHasher.ROOT, T, 0, 4);
        pool.cache(2, 12, BlockHasher.ROOT, T, 0, 4);
        pool.release(2);
        pool.release(0);
        pool.release(1);
        assertThat(pool.freeQueue()).containsExactly(2, 0, 1);
        pool.retain(0); // a prefix hit takes it out of the middle
        assertThat(pool.freeQueue()).containsExactly(2, 1);
        assertThat(pool.allocate()).isEqualTo(2);
        assertThat(pool.lookup(12)).isEqualTo(-1);
        assertThat(pool.lookup(10)).isEqualTo(0);
        assertThat(pool.lookup(11)).isEqualTo(1);
    }

    @Test
    void verifiesContentAndKeepsTheFirstBlockForAHash() {
        BlockPool pool = new BlockPool(2);
        int a = pool.allocate(), b = pool.allocate();
        pool.cache(a, 7, BlockHasher.ROOT, T, 0, 4);
        pool.cache(b, 7, BlockHasher.ROOT, new int[] {9, 9, 9, 9}, 0, 4);
        assertThat(pool.lookup(7)).isEqualTo(a);
        assertThat(pool.isCached(b)).isFalse();
        assertThat(pool.contentEquals(a, BlockHasher.ROOT, new int[] {0, 1, 2, 3, 4}, 1, 4)).isTrue();
        assertThat(pool.contentEquals(a, BlockHasher.ROOT, new int[] {1, 2, 3, 5}, 0, 4)).isFalse();
        assertThat(pool.contentEquals(a, 42, T, 0, 4)).isFalse();
    }

    @Test
    void releasingAFreeBlockIsAnError() {
        BlockPool pool = new BlockPool(1);
        assertThatThrownBy(() -> pool.release(0)).isInstanceOf(IllegalStateException.class);
    }
}
