package io.chorus.engine.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The paged KV cache's blocks as ids {@code [0, numBlocks)}: reference counts, the free queue, and
 * the prefix-cache index of full blocks by chained hash.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>A block is free iff its reference count is 0; every free block sits exactly once in the free
 *       queue, a doubly linked list threaded through {@code prev}/{@code next} so that a prefix hit
 *       can take a free cached block out of the middle in O(1).
 *   <li>Order of the free queue, head first, is the order of reuse. At start it is 0, 1, 2, ...
 *       A freed block without a hash holds nothing worth keeping and goes to the head (reused
 *       first); a freed block with a hash goes to the tail, so cached blocks are evicted least
 *       recently freed first (LRU).
 *   <li>A block with a hash is in {@code cached} under that hash, and {@code cached} maps each hash to
 *       at most one block. The hash is dropped (eviction) only when the block is allocated again.
 *   <li>For a cached block the pool keeps its parent's hash and its token ids, so a hit is verified
 *       on content, not on the hash alone.
 *   <li>Only the engine loop thread touches a pool; it is not thread-safe.
 * </ul>
 */
public final class BlockPool {
    private static final int NONE = -1;

    private final int numBlocks;
    private final int[] refCount;        // [numBlocks]
    private final int[] prev;            // [numBlocks] free-queue links, NONE at the ends / when not free
    private final int[] next;            // [numBlocks]
    private int head = NONE;
    private int tail = NONE;
    private int numFree;

    private final boolean[] hasHash;     // [numBlocks]
    private final long[] hash;           // [numBlocks] chained hash of a cached block
    private final long[] parentHash;     // [numBlocks] hash of the block before it in its chain
    private final int[][] blockTokens;   // [numBlocks][blockSize] token ids of a cached block
    private final Map<Long, Integer> cached = new HashMap<>();

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) throw new IllegalArgumentException("a pool needs at least one block, got " + numBlocks);
        this.numBlocks = numBlocks;
        refCount = new int[numBlocks];
        prev = new int[numBlocks];
        next = new int[numBlocks];
        hasHash = new boolean[numBlocks];
        hash = new long[numBlocks];
        parentHash = new long[numBlocks];
        blockTokens = new int[numBlocks][];
        Arrays.fill(prev, NONE);
        Arrays.fill(next, NONE);
        for (int b = 0; b < numBlocks; b++) pushTail(b);
    }

    public int numBlocks() { return numBlocks; }

    /** Blocks with reference count 0 (including cached blocks that can still be hit). */
    public int numFreeBlocks() { return numFree; }

    /** Share of blocks in use, in [0, 1]. */
    public double usage() { return 1.0 - (double) numFree / numBlocks; }

    public int refCount(int block) { return refCount[block]; }

    /** The head of the free queue: takes it out, evicts its cached hash if any, and gives it refcount 1. */
    public int allocate() {
        if (head == NONE) throw new IllegalStateException("no free KV-cache block");
        int b = head;
        unlink(b);
        evict(b);
        refCount[b] = 1;
        return b;
    }

    /** One more reference to {@code block}; a free (cached) block leaves the free queue. */
    public void retain(int block) {
        if (refCount[block] == 0) unlink(block);
        refCount[block]++;
    }

    /** One reference fewer; at zero the block joins the free queue (head if uncached, tail if cached). */
    public void release(int block) {
        if (refCount[block] <= 0) throw new IllegalStateException("block " + block + " released while free");
        if (--refCount[block] == 0) {
            if (hasHash[block]) pushTail(block);
            else pushHead(block);
        }
    }

    /** The block cached under {@code h}, or -1. */
    public int lookup(long h) {
        Integer b = cached.get(h);
        return b == null ? NONE : b;
    }

    /** Whether cached block {@code block} holds exactly these tokens after a parent with hash {@code parent}. */
    public boolean contentEquals(int block, long parent, int[] tokens, int from, int count) {
        if (!hasHash[block] || parentHash[block] != parent) return false;
        int[] t = blockTokens[block];
        return t.length == count && Arrays.equals(t, 0, count, tokens, from, from + count);
    }

    /**
     * Registers a full, computed block under hash {@code h}. Does nothing when the block already has a
     * hash or another block is cached under {@code h} (the first one stays canonical).
     */
    public void cache(int block, long h, long parent, int[] tokens, int from, int count) {
        if (hasHash[block] || cached.containsKey(h)) return;
        hasHash[block] = true;
        hash[block] = h;
        parentHash[block] = parent;
        blockTokens[block] = Arrays.copyOfRange(tokens, from, from + count);
        cached.put(h, block);
    }

    public boolean isCached(int block) { return hasHash[block]; }

    /** Number of blocks currently registered in the prefix cache. */
    public int numCachedBlocks() { return cached.size(); }

    /** The free queue, head (next to be reused) first. For tests and diagnostics; allocates. */
    public List<Integer> freeQueue() {
        List<Integer> out = new ArrayList<>(numFree);
        for (int b = head; b != NONE; b = next[b]) out.add(b);
        return out;
    }

    /** Drops every cached hash (the blocks stay where they are). */
    public void resetPrefixCache() {
        for (int b = 0; b < numBlocks; b++) evict(b);
    }

    private void evict(int b) {
        if (!hasHash[b]) return;
        cached.remove(hash[b], b);
        hasHash[b] = false;
        blockTokens[b] = null;
    }

    private void pushTail(int b) {
        prev[b] = tail;
        next[b] = NONE;
        if (tail == NONE) head = b;
        else next[tail] = b;
        tail = b;
        numFree++;
    }

    private void pushHead(int b) {
        next[b] = head;
        prev[b] = NONE;
        if (head == NONE) tail = b;
        else prev[head] = b;
        head = b;
        numFree++;
    }

    private void unlink(int b) {
        if (prev[b] == NONE) head = next[b];
        else next[prev[b]] = next[b];
        if (next[b] == NONE) tail = prev[b];
        else prev[next[b]] = prev[b];
        prev[b] = NONE;
        next[b] = NONE;
        numFree--;
    }
}
