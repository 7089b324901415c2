package io.chorus.engine.runner;

import java.util.Arrays;

/**
 * The distinct tokens one sequence has seen, for the penalties: how often each was generated and
 * whether it occurs in the prompt. A small open-addressing hash set over dense arrays, so applying
 * the penalties touches only the distinct tokens, never the whole vocabulary.
 *
 * <p>Implementation notes: {@link #update} consumes tokens incrementally; {@code seen} is how many of
 * the sequence's known tokens were counted, and since a sequence's known tokens never change once
 * written (preemption keeps them), the counts stay valid across steps, chunked prefill and
 * recompute. Arrays grow by doubling, so steady-state decoding allocates nothing. Invariants:
 * {@code ids[0, size)} are distinct; {@code table} holds {@code index + 1} of each (0 = empty slot)
 * and is at most half full. Engine loop thread only (it belongs to one sequence's SamplingState).
 */
public final class TokenCounts {
    private int[] table = new int[64];  // open addressing, linear probing: index + 1 into the dense arrays
    private int[] ids = new int[16];    // [size] distinct tokens
    private int[] outputCounts = new int[16]; // [size] occurrences among generated tokens
    private boolean[] inPrompt = new boolean[16]; // [size] occurs in the prompt
    private int size;
    private int seen;

    /**
     * Counts {@code tokens[seen, numTokens)}: positions below {@code promptLen} are prompt tokens
     * (recorded only if {@code trackPrompt}), the rest generated.
     */
    public void update(int[] tokens, int promptLen, int numTokens, boolean trackPrompt) {
        if (seen < promptLen && !trackPrompt) seen = Math.min(promptLen, numTokens);
        for (; seen < numTokens; seen++) {
            int i = indexOf(tokens[seen]);
            if (seen < promptLen) inPrompt[i] = true;
            else outputCounts[i]++;
        }
    }

    public int size() { return size; }

    public int id(int i) { return ids[i]; }

    public int outputCount(int i) { return outputCounts[i]; }

    public boolean inPrompt(int i) { return inPrompt[i]; }

    /** The dense index of {@code token}, added with zero counts if new. */
    private int indexOf(int token) {
        int mask = table.length - 1;
        for (int h = mix(token) & mask; ; h = (h + 1) & mask) {
            int e = table[h];
            if (e == 0) break;
            if (ids[e - 1] == token) return e - 1;
        }
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
            outputCounts = Arrays.copyOf(outputCounts, size * 2);
            inPrompt = Arrays.copyOf(inPrompt, size * 2);
        }
        ids[size] = token;
        size++;
        if (size * 2 > table.length) rehash(table.length * 2);
        else insert(size - 1);
        return size - 1;
    }

    private void rehash(int capacity) {
        table = new int[capacity];
        for (int i = 0; i < size; i++) insert(i);
    }

    private void insert(int index) {
        int mask = table.length - 1;
        int h = mix(ids[index]) & mask;
        while (table[h] != 0) h = (h + 1) & mask;
        table[h] = index + 1;
    }

    private static int mix(int x) {
        x *= 0x9E3779B9;
        return x ^ (x >>> 16);
    }
}
