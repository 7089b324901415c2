package io.chorus.engine.kv;

/**
 * One sequence's blocks, in position order: position {@code p} lives in block {@code ids()[p / blockSize]}.
 *
 * <p>Implementation notes: {@link #ids()} is never mutated once handed out; every change installs a
 * new array, so a step plan or batch may hold the array it was given. {@code numHashedBlocks}
 * leading blocks are full and computed and their chained hashes are known (the last one is
 * {@code lastHash}); they are registered in the prefix cache when caching is on. With a sliding window,
 * {@code numReleased} leading entries may be {@link KvCacheManager#RELEASED}. Owned by the engine
 * loop thread; only {@link KvCacheManager} changes it.
 */
public final class BlockTable {
    private static final int[] EMPTY = new int[0];

    int[] ids = EMPTY;
    int numHashedBlocks;
    long lastHash = BlockHasher.ROOT;
    /** Leading entries that are {@link KvCacheManager#RELEASED}: outside every later query's window. */
    int numReleased;

    public int[] ids() { return ids; }

    public int numBlocks() { return ids.length; }

    public boolean isEmpty() { return ids.length == 0; }

    void reset() {
        ids = EMPTY;
        numHashedBlocks = 0;
        lastHash = BlockHasher.ROOT;
        numReleased = 0;
    }
}
