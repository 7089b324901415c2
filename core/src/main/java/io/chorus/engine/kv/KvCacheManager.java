package io.chorus.engine.kv;

import java.util.Arrays;
import java.util.List;

/**
 * Block tables of the live sequences over one {@link BlockPool}: slot allocation as computed tokens
 * catch up with known tokens, automatic prefix caching, forking and copy-on-write.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>A sequence's table covers every position it has computed or is computing this step; blocks
 *       past that are never held.
 *   <li>Admission and growth are a two-step transaction: {@link #canAllocate} changes nothing, and
 *       {@link #allocate} must only be called after it said yes (it then cannot fail), so a
 *       half-admitted sequence never exists.
 *   <li>A full block is hashed as {@code hasher(parent hash, its tokens)} once all its positions are
 *       computed ({@link #cacheComputedBlocks}); a lookup walks the chain from the first block and
 *       accepts a block only if its stored tokens and parent hash match, so a hash collision is a
 *       miss, never wrong K/V. At least one token is always left to compute, so a hit never covers a
 *       whole sequence.
 *   <li>A block that will be written (it holds a position {@code >= numComputed}) is never cached, since
 *       cached blocks are full and computed. If it is shared (refcount above 1, after a fork), the
 *       writer first gets a fresh block and a {@link BlockCopy}; the last holder writes in place.
 *   <li>When every layer attends within a sliding window of {@code window} positions, a block whose
 *       positions all lie before the next query's window is released after each step
 *       ({@link #releaseOutsideWindow}) and its entry becomes {@link #RELEASED}: attention never reads
 *       it again, so a long sequence holds about window / blockSize blocks, as vLLM's sliding-window
 *       manager does. A released block stays in the prefix cache until reused.
 *   <li>Engine loop thread only.
 * </ul>
 */
public final class KvCacheManager {
    /** A block table entry whose block was released because no query will see its positions again. */
    public static final int RELEASED = -1;

    private final BlockPool pool;
    private final int blockSize;
    private final boolean prefixCaching;
    private final BlockHasher hasher;
    private final int window;

    public KvCacheManager(BlockPool pool, int blockSize, boolean enablePrefixCaching) {
        this(pool, blockSize, enablePrefixCaching, BlockHasher.DEFAULT, 0);
    }

    public KvCacheManager(BlockPool pool, int blockSize, boolean enablePrefixCaching, BlockHasher hasher) {
        this(pool, blockSize, enablePrefixCaching, hasher, 0);
    }

    /**
     * @param window positions a query sees on every layer, itself included (the model's sliding window when all
     *               its layers have one), or 0 when some layer sees the whole context
     */
    public KvCacheManager(BlockPool pool, int blockSize, boolean enablePrefixCaching, BlockHasher hasher, int window) {
        if (blockSize < 1) throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
        if (window < 0) throw new IllegalArgumentException("window must be >= 0, got " + window);
        this.pool = pool;
        this.blockSize = blockSize;
        this.prefixCaching = enablePrefixCaching;
        this.hasher = hasher;
        this.window = window;
    }

    /** Positions a query sees on every layer, or 0 for the whole context. */
    public int window() { return window; }

    /**
     * Most blocks a sequence of {@code numTokens} positions ever holds when steps compute at most
     * {@code maxStepTokens} of them: all of them, or with a window the blocks that the window before a
     * step's first token and the step's tokens touch.
     */
    public int maxBlocksHeld(long numTokens, int maxStepTokens) {
        return blocksHeld(numTokens, blockSize, window, maxStepTokens);
    }

    /** {@link #maxBlocksHeld} for a cache of {@code blockSize}-token blocks and this {@code window} (0: none). */
    public static int blocksHeld(long numTokens, int blockSize, int window, int maxStepTokens) {
        long all = (numTokens + blockSize - 1) / blockSize;
        if (window == 0) return (int) Math.min(Integer.MAX_VALUE, all);
        long span = (long) window - 1 + maxStepTokens; // positions a step reads or writes
        return (int) Math.min(all, (span - 1 + blockSize - 1) / blockSize + 1); // at most this many blocks, however aligned
    }

    public BlockPool pool() { return pool; }

    public int blockSize() { return blockSize; }

    public boolean prefixCachingEnabled() { return prefixCaching; }

    /** Blocks needed to hold {@code numTokens} positions. */
    public int blocksFor(int numTokens) { return (numTokens + blockSize - 1) / blockSize; }

    /**
     * The longest chain of cached full blocks holding a prefix of {@code tokens[0, numTokens - 1)}
     * (the last token is always left to compute). Changes nothing.
     */
    public CacheHit findCachedPrefix(int[] tokens, int numTokens) {
        if (!prefixCaching) return CacheHit.NONE;
        int maxBlocks = (numTokens - 1) / blockSize;
        int[] hit = null;
        int n = 0;
        long parent = BlockHasher.ROOT;
        for (int b = 0; b < maxBlocks; b++) {
            long h = hasher.hash(parent, tokens, b * blockSize, blockSize);
            int block = pool.lookup(h);
            if (block < 0 || !pool.contentEquals(block, parent, tokens, b * blockSize, blockSize)) break;
            if (hit == null) hit = new int[maxBlocks];
            hit[n++] = block;
            parent = h;
        }
        return n == 0 ? CacheHit.NONE : new CacheHit(Arrays.copyOf(hit, n), parent, blockSize);
    }

    /**
     * Whether {@code table} (empty when {@code hit} is not) can grow to hold positions
     * {@code [0, numTokensAfter)} when the sequence has {@code numComputed} tokens computed
     * (counting the hit's). Changes nothing.
     */
    public boolean canAllocate(BlockTable table, CacheHit hit, int numComputed, int numTokensAfter) {
        int have = hit.isEmpty() ? table.numBlocks() : hit.blocks().length;
        int needed = Math.max(0, blocksFor(numTokensAfter) - have);
        int available = pool.numFreeBlocks();
        for (int b : hit.blocks()) if (pool.refCount(b) == 0) available--; // a hit takes it off the free queue
        for (int i = numComputed / blockSize; i < table.numBlocks(); i++) {
            if (pool.refCount(table.ids[i]) > 1) needed++; // copy-on-write
        }
        return needed <= available;
    }

    /**
     * Grows {@code table} as {@link #canAllocate} checked: retains the hit's blocks, gives each shared
     * block that will be written a private copy (recorded in {@code copies}), and appends fresh blocks.
     */
    public void allocate(BlockTable table, CacheHit hit, int numComputed, int numTokensAfter, List<BlockCopy> copies) {
        if (!canAllocate(table, hit, numComputed, numTokensAfter)) {
            throw new IllegalStateException("allocate without room; call canAllocate first");
        }
        if (!hit.isEmpty()) {
            if (!table.isEmpty()) throw new IllegalStateException("a cache hit is only for an empty block table");
            for (int b : hit.blocks()) pool.retain(b);
            table.ids = hit.blocks().clone();
            table.numHashedBlocks = hit.blocks().length;
            table.lastHash = hit.lastHash();
        }
        int[] ids = table.ids;
        int target = blocksFor(numTokensAfter);
        boolean changed = false;
        for (int i = numComputed / blockSize; i < ids.length; i++) {
            if (pool.refCount(ids[i]) > 1) {
                if (!changed) ids = ids.clone();
                changed = true;
                int copy = pool.allocate();
                copies.add(new BlockCopy(ids[i], copy));
                pool.release(ids[i]);
                ids[i] = copy;
            }
        }
        if (target > ids.length) {
            int old = ids.length;
            ids = Arrays.copyOf(ids, target);
            changed = true;
            for (int i = old; i < target; i++) ids[i] = pool.allocate();
        }
        if (changed) table.ids = ids;
    }

    /**
     * Records that positions {@code [0, numComputed)} of {@code tokens} are computed: hashes the blocks
     * that became full and, with prefix caching on, registers them in the cache. Call after the step
     * that computed them succeeded, so the cache never holds K/V that was not written.
     */
    public void cacheComputedBlocks(BlockTable table, int[] tokens, int numComputed) {
        if (!prefixCaching) return;
        int full = Math.min(numComputed / blockSize, table.numBlocks());
        for (int b = table.numHashedBlocks; b < full; b++) {
            long parent = table.lastHash;
            long h = hasher.hash(parent, tokens, b * blockSize, blockSize);
            if (table.ids[b] != RELEASED) pool.cache(table.ids[b], h, parent, tokens, b * blockSize, blockSize);
            table.lastHash = h;
            table.numHashedBlocks = b + 1;
        }
    }

    /**
     * With a window: releases the blocks of {@code table} whose positions all lie before the window of
     * the next query, at position {@code numComputed} (it sees {@code numComputed - window + 1} on).
     * Call after the step that computed them (and after {@link #cacheComputedBlocks}).
     */
    public void releaseOutsideWindow(BlockTable table, int numComputed) {
        if (window == 0) return;
        int dead = Math.min(table.numBlocks(), Math.max(0, numComputed - window + 1) / blockSize);
        if (dead <= table.numReleased) return;
        int[] ids = table.ids.clone();
        for (int i = table.numReleased; i < dead; i++) {
            if (ids[i] != RELEASED) pool.release(ids[i]);
            ids[i] = RELEASED;
        }
        table.ids = ids;
        table.numReleased = dead;
    }

    /** Makes {@code child} (empty) share every block of {@code parent}. */
    public void fork(BlockTable parent, BlockTable child) {
        if (!child.isEmpty()) throw new IllegalStateException("fork into a non-empty block table");
        for (int b : parent.ids) if (b != RELEASED) pool.retain(b);
        child.ids = parent.ids;
        child.numHashedBlocks = parent.numHashedBlocks;
        child.lastHash = parent.lastHash;
        child.numReleased = parent.numReleased;
    }

    /** Releases every block of {@code table}, last first (so a sequence's tail is evicted before its head), and empties it. */
    public void free(BlockTable table) {
        int[] ids = table.ids;
        for (int i = ids.length - 1; i >= 0; i--) if (ids[i] != RELEASED) pool.release(ids[i]);
        table.reset();
    }
}
