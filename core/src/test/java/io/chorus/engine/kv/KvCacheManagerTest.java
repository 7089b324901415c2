package io.chorus.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {
    private static final int BS = 4;
    private final List<BlockCopy> copies = new ArrayList<>();

    private static int[] seq(int from, int n) { return IntStream.range(from, from + n).toArray(); }

    /** Admits {@code tokens} as the scheduler does: lookup, check, allocate; returns tokens computed by the hit. */
    private int admit(KvCacheManager kv, BlockTable t, int[] tokens, int n) {
        CacheHit hit = kv.findCachedPrefix(tokens, n);
        assertThat(kv.canAllocate(t, hit, hit.numTokens(), n)).isTrue();
        kv.allocate(t, hit, hit.numTokens(), n, copies);
        return hit.numTokens();
    }

    @Test
    void allocatesBlocksAsComputedTokensCatchUp() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(8), BS, false);
        BlockTable t = new BlockTable();
        kv.allocate(t, CacheHit.NONE, 0, 5, copies);
        assertThat(t.ids()).containsExactly(0, 1);
        int[] before = t.ids();
        kv.allocate(t, CacheHit.NONE, 5, 8, copies);
        assertThat(t.ids()).isSameAs(before);
        kv.allocate(t, CacheHit.NONE, 8, 9, copies);
        assertThat(t.ids()).containsExactly(0, 1, 2);
        assertThat(before).containsExactly(0, 1); // published arrays never change
        kv.free(t);
        assertThat(t.ids()).isEmpty();
        assertThat(kv.pool().freeQueue()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(copies).isEmpty();
    }

    @Test
    void canAllocateChangesNothingAndRefusesWhenFull() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(3), BS, false);
        BlockTable t = new BlockTable();
        assertThat(kv.canAllocate(t, CacheHit.NONE, 0, 13)).isFalse();
        assertThat(kv.canAllocate(t, CacheHit.NONE, 0, 12)).isTrue();
        assertThat(kv.pool().numFreeBlocks()).isEqualTo(3);
        assertThat(t.ids()).isEmpty();
    }

    @Test
    void reusesTheLongestCachedChainAndLeavesOneTokenToCompute() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(10), BS, true);
        int[] a = seq(100, 10);
        BlockTable ta = new BlockTable();
        assertThat(admit(kv, ta, a, 10)).isZero();
        kv.cacheComputedBlocks(ta, a, 10);
        assertThat(ta.ids()).containsExactly(0, 1, 2);
        assertThat(kv.pool().numCachedBlocks()).isEqualTo(2); // the partial third block is not cached

        // Same first 8 tokens, then different: both full blocks hit, shared by refcount.
        int[] b = seq(100, 12);
        b[9] = 7;
        BlockTable tb = new BlockTable();
        assertThat(admit(kv, tb, b, 12)).isEqualTo(8);
        assertThat(tb.ids()).containsExactly(0, 1, 3);
        assertThat(kv.pool().refCount(0)).isEqualTo(2);
        assertThat(kv.pool().refCount(1)).isEqualTo(2);

        // Partial chain: the first block matches, the second does not.
        int[] c = seq(100, 9);
        c[5] = -5;
        BlockTable tc = new BlockTable();
        assertThat(admit(kv, tc, c, 9)).isEqualTo(4);
        assertThat(tc.ids()).containsExactly(0, 4, 5);

        // A prompt of exactly two blocks hits only the first: the last token is always computed.
        BlockTable td = new BlockTable();
        assertThat(admit(kv, td, seq(100, 8), 8)).isEqualTo(4);
        assertThat(td.ids()).containsExactly(0, 6);
    }

    @Test
    void freedBlocksKeepTheirHashUntilReusedAndAreEvictedTailFirst() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(4), BS, true);
        int[] a = seq(0, 12);
        BlockTable ta = new BlockTable();
        admit(kv, ta, a, 12);
        kv.cacheComputedBlocks(ta, a, 12);
        kv.free(ta);
        // Uncached block 3 was never used; the chain 0,1,2 is freed tail first.
        assertThat(kv.pool().freeQueue()).containsExactly(3, 2, 1, 0);

        BlockTable tb = new BlockTable();
        assertThat(admit(kv, tb, a, 12)).isEqualTo(8); // blocks 0 and 1 hit, block 3 fresh
        assertThat(tb.ids()).containsExactly(0, 1, 3);
        assertThat(kv.pool().freeQueue()).containsExactly(2);
        kv.free(tb);
        assertThat(kv.pool().freeQueue()).containsExactly(3, 2, 1, 0);

        // An unrelated sequence needing three blocks takes 3, then evicts 2 and 1; block 0 survives.
        BlockTable tx = new BlockTable();
        admit(kv, tx, seq(500, 12), 12);
        assertThat(tx.ids()).containsExactly(3, 2, 1);
        kv.free(tx);
        BlockTable ty = new BlockTable();
        assertThat(admit(kv, ty, a, 12)).isEqualTo(4);
        assertThat(ty.ids()[0]).isZero();
    }

    @Test
    void aHashCollisionIsAMissNotWrongContent() {
        BlockHasher constant = (parent, tokens, from, count) -> 42L;
        KvCacheManager kv = new KvCacheManager(new BlockPool(6), BS, true, constant);
        int[] a = seq(0, 5);
        BlockTable ta = new BlockTable();
        admit(kv, ta, a, 5);
        kv.cacheComputedBlocks(ta, a, 5);
        BlockTable tb = new BlockTable();
        assertThat(admit(kv, tb, seq(50, 5), 5)).isZero();
        assertThat(tb.ids()).containsExactly(2, 3);
        BlockTable tc = new BlockTable();
        assertThat(admit(kv, tc, a, 5)).isEqualTo(4);
        assertThat(tc.ids()).containsExactly(0, 4);
    }

    @Test
    void collisionOnTheParentChainIsAMiss() {
        // The hash ignores the parent: only the stored parent hash tells two chains apart.
        BlockHasher tokensOnly = (parent, tokens, from, count) -> BlockHasher.DEFAULT.hash(0, tokens, from, count);
        KvCacheManager kv = new KvCacheManager(new BlockPool(8), BS, true, tokensOnly);
        int[] a = {1, 1, 1, 1, 5, 5, 5, 5, 0};
        BlockTable ta = new BlockTable();
        admit(kv, ta, a, 9);
        kv.cacheComputedBlocks(ta, a, 9);
        int[] b = {2, 2, 2, 2, 5, 5, 5, 5, 0};
        BlockTable tb = new BlockTable();
        assertThat(admit(kv, tb, b, 9)).isZero();
        kv.cacheComputedBlocks(tb, b, 9);
        BlockTable tc = new BlockTable();
        assertThat(admit(kv, tc, b, 9)).isEqualTo(4); // block 0 of b, then block "5 5 5 5" is a's: wrong parent
        assertThat(tc.ids()[0]).isEqualTo(tb.ids()[0]);
        assertThat(tc.ids()[1]).isNotEqualTo(ta.ids()[1]);
    }

    @Test
    void prefixCachingOffNeverHits() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(6), BS, false);
        int[] a = seq(0, 9);
        BlockTable ta = new BlockTable();
        admit(kv, ta, a, 9);
        kv.cacheComputedBlocks(ta, a, 9);
        assertThat(kv.pool().numCachedBlocks()).isZero();
        assertThat(kv.findCachedPrefix(a, 9).isEmpty()).isTrue();
    }

    @Test
    void forkSharesBlocksAndCopiesTheSharedPartialBlockOnWrite() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(8), BS, true);
        int[] prompt = seq(0, 6);
        BlockTable parent = new BlockTable();
        kv.allocate(parent, CacheHit.NONE, 0, 5, copies);
        kv.cacheComputedBlocks(parent, prompt, 5);
        BlockTable c1 = new BlockTable(), c2 = new BlockTable();
        kv.fork(parent, c1);
        kv.fork(parent, c2);
        kv.free(parent);
        assertThat(kv.pool().refCount(0)).isEqualTo(2);
        assertThat(kv.pool().refCount(1)).isEqualTo(2);

        // Child 1 writes position 5 into shared block 1: it gets block 2 and a copy 1 -> 2.
        assertThat(kv.canAllocate(c1, CacheHit.NONE, 5, 6)).isTrue();
        kv.allocate(c1, CacheHit.NONE, 5, 6, copies);
        assertThat(c1.ids()).containsExactly(0, 2);
        assertThat(copies).containsExactly(new BlockCopy(1, 2));
        assertThat(kv.pool().refCount(1)).isEqualTo(1);

        // Child 2 is now the only holder of block 1 and writes in place.
        copies.clear();
        kv.allocate(c2, CacheHit.NONE, 5, 6, copies);
        assertThat(c2.ids()).containsExactly(0, 1);
        assertThat(copies).isEmpty();

        // The full first block stays shared; writing past it never copies it.
        kv.allocate(c1, CacheHit.NONE, 6, 9, copies);
        assertThat(c1.ids()).containsExactly(0, 2, 3);
        assertThat(copies).isEmpty();
        kv.free(c1);
        kv.free(c2);
        assertThat(kv.pool().numFreeBlocks()).isEqualTo(8);
    }

    @Test
    void copyOnWriteCountsTowardsCanAllocate() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(2), BS, false);
        BlockTable parent = new BlockTable(), child = new BlockTable();
        kv.allocate(parent, CacheHit.NONE, 0, 6, copies);
        kv.fork(parent, child);
        assertThat(kv.canAllocate(child, CacheHit.NONE, 5, 6)).isFalse(); // would need a copy of block 1
        assertThat(kv.canAllocate(child, CacheHit.NONE, 6, 8)).isFalse(); // positions 6, 7 are in block 1 too
        assertThat(kv.canAllocate(child, CacheHit.NONE, 8, 8)).isTrue();  // nothing written, nothing copied
        kv.free(parent);
        assertThat(kv.canAllocate(child, CacheHit.NONE, 5, 6)).isTrue();  // sole holder now
    }

    @Test
    void aWindowReleasesTheBlocksNoLaterQueryCanSee() {
        // window 6 over 4-token blocks: the query at position p sees p - 5 .. p
        KvCacheManager kv = new KvCacheManager(new BlockPool(8), BS, true, BlockHasher.DEFAULT, 6);
        BlockTable t = new BlockTable();
        int[] tokens = seq(100, 20);
        kv.allocate(t, CacheHit.NONE, 0, 9, copies);
        kv.cacheComputedBlocks(t, tokens, 9);
        kv.releaseOutsideWindow(t, 9); // the next query (9) sees 4..9: block 0 (0-3) is dead
        assertThat(t.ids()).containsExactly(KvCacheManager.RELEASED, 1, 2);
        assertThat(kv.pool().refCount(0)).isZero();
        assertThat(kv.pool().isCached(0)).isTrue(); // still a prefix-cache entry until reused
        int[] published = t.ids();
        kv.releaseOutsideWindow(t, 9);
        assertThat(t.ids()).isSameAs(published); // nothing new to release, no new array
        kv.allocate(t, CacheHit.NONE, 9, 13, copies);
        kv.cacheComputedBlocks(t, tokens, 13);
        kv.releaseOutsideWindow(t, 12); // query 12 sees 7..12: block 1 (4-7) still visible
        assertThat(t.ids()).containsExactly(KvCacheManager.RELEASED, 1, 2, 3);
        kv.releaseOutsideWindow(t, 13); // query 13 sees 8..13
        assertThat(t.ids()).containsExactly(KvCacheManager.RELEASED, KvCacheManager.RELEASED, 2, 3);
        assertThat(published).containsExactly(KvCacheManager.RELEASED, 1, 2); // published arrays never change
        assertThat(kv.pool().numFreeBlocks()).isEqualTo(6);

        BlockTable child = new BlockTable();
        kv.fork(t, child);
        assertThat(kv.pool().refCount(2)).isEqualTo(2);
        assertThat(kv.pool().numFreeBlocks()).isEqualTo(6);
        kv.free(child);
        kv.free(t);
        assertThat(kv.pool().numFreeBlocks()).isEqualTo(8);
        assertThat(t.ids()).isEmpty();
    }

    @Test
    void withoutAWindowNothingIsReleasedAndAWindowBoundsTheBlocksHeld() {
        KvCacheManager all = new KvCacheManager(new BlockPool(8), BS, false);
        BlockTable t = new BlockTable();
        all.allocate(t, CacheHit.NONE, 0, 30, copies);
        all.releaseOutsideWindow(t, 30);
        assertThat(t.ids()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(all.maxBlocksHeld(1000, 16)).isEqualTo(250);
        KvCacheManager windowed = new KvCacheManager(new BlockPool(8), BS, false, BlockHasher.DEFAULT, 6);
        // a step of 16 tokens from s sees s - 5 .. s + 15: 21 positions, over at most 6 blocks (1 + 4 + 1 from offset 3)
        assertThat(windowed.maxBlocksHeld(1000, 16)).isEqualTo(6);
        assertThat(windowed.maxBlocksHeld(1000, 3)).isEqualTo(3); // 8 positions: 3 blocks unless aligned
        assertThat(windowed.maxBlocksHeld(10, 16)).isEqualTo(3);
    }
}
