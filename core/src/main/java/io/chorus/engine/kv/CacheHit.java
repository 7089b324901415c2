package io.chorus.engine.kv;

/**
 * The result of a prefix-cache lookup: the cached full blocks that hold a sequence's first
 * {@code numTokens()} tokens, and the chained hash of the last one. Nothing is retained until the
 * hit is passed to {@link KvCacheManager#allocate}.
 */
public record CacheHit(int[] blocks, long lastHash, int blockSize) {
    public static final CacheHit NONE = new CacheHit(new int[0], BlockHasher.ROOT, 0);

    public int numTokens() { return blocks.length * blockSize; }

    public boolean isEmpty() { return blocks.length == 0; }
}
