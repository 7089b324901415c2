package io.chorus.model;

import java.util.Arrays;

/**
 * One step's flat batch: the new tokens of many sequences, laid end to end. The tokens of a sequence
 * are contiguous and at consecutive positions; a decoding sequence contributes one token, a
 * prefilling one a chunk of its prompt.
 *
 * <p>For every token the batch carries its id, position and the cache slot where its K/V is
 * written ({@code block * blockSize + offset}). For every sequence it carries its block table
 * (where attention reads) and where its tokens sit in the batch. Logits are computed only for the
 * tokens listed by {@link #addLogitsRow}.
 *
 * <p>A batch is reused step after step: {@link #clear()} and refill; arrays grow only when a step
 * is larger than any before.
 */
public final class Batch {
    private int numTokens;
    private int[] tokens = new int[64];       // [numTokens]
    private int[] positions = new int[64];    // [numTokens]
    private int[] slots = new int[64];        // [numTokens] cache slot of each token's K/V
    private int[] seqOfToken = new int[64];   // [numTokens] index of the token's sequence

    private int numSeqs;
    private int[] seqStart = new int[17];     // [numSeqs + 1] first batch index of each sequence
    private int[][] blockTables = new int[16][]; // [numSeqs][blocks] physical block ids
    private int[] contextLens = new int[16];  // [numSeqs] tokens in cache after this step

    private int numLogits;
    private int[] logitsRows = new int[16];   // [numLogits] batch indices whose logits are wanted
    private int numHidden;
    private int[] hiddenRows = new int[16];   // [numHidden] batch indices whose final hidden state is wanted

    public void clear() {
        numTokens = 0;
        numSeqs = 0;
        numLogits = 0;
        numHidden = 0;
        seqStart[0] = 0;
    }

    /**
     * Adds a sequence's new tokens. {@code blockTable} must already hold blocks for every position up
     * to {@code startPos + count - 1}. Returns the sequence's index in this batch.
     */
    public int addSequence(int[] blockTable, int blockSize, int[] ids, int from, int count, int startPos) {
        if (count <= 0) throw new IllegalArgumentException("a sequence needs at least one new token");
        ensureTokens(numTokens + count);
        ensureSeqs(numSeqs + 1);
        int s = numSeqs++;
        blockTables[s] = blockTable;
        contextLens[s] = startPos + count;
        for (int i = 0; i < count; i++) {
            int pos = startPos + i;
            int b = pos / blockSize;
            if (b >= blockTable.length) {
                throw new IllegalArgumentException("block table of " + blockTable.length
                        + " blocks cannot hold position " + pos);
            }
            tokens[numTokens] = ids[from + i];
            positions[numTokens] = pos;
            slots[numTokens] = blockTable[b] * blockSize + pos % blockSize;
            seqOfToken[numTokens] = s;
            numTokens++;
        }
        seqStart[s + 1] = numTokens;
        return s;
    }

    /** Requests logits for the last token added so far (the usual case: the sequence's newest token). */
    public void addLogitsForLastToken() {
        addLogitsRow(numTokens - 1);
    }

    public void addLogitsRow(int batchIndex) {
        if (batchIndex < 0 || batchIndex >= numTokens) throw new IllegalArgumentException("no token " + batchIndex);
        if (numLogits == logitsRows.length) logitsRows = Arrays.copyOf(logitsRows, numLogits * 2);
        logitsRows[numLogits++] = batchIndex;
    }

    /** Requests the final hidden state (after the output norm) of a token, for embeddings. */
    public void addHiddenRow(int batchIndex) {
        if (batchIndex < 0 || batchIndex >= numTokens) throw new IllegalArgumentException("no token " + batchIndex);
        if (numHidden == hiddenRows.length) hiddenRows = Arrays.copyOf(hiddenRows, numHidden * 2);
        hiddenRows[numHidden++] = batchIndex;
    }

    private void ensureTokens(int n) {
        if (n > tokens.length) {
            int c = Math.max(n, tokens.length * 2);
            tokens = Arrays.copyOf(tokens, c);
            positions = Arrays.copyOf(positions, c);
            slots = Arrays.copyOf(slots, c);
            seqOfToken = Arrays.copyOf(seqOfToken, c);
        }
    }

    private void ensureSeqs(int n) {
        if (n > contextLens.length) {
            int c = Math.max(n, contextLens.length * 2);
            blockTables = Arrays.copyOf(blockTables, c);
            contextLens = Arrays.copyOf(contextLens, c);
            seqStart = Arrays.copyOf(seqStart, c + 1);
        }
    }

    public int numTokens() { return numTokens; }
    public int numSeqs() { return numSeqs; }
    public int numLogits() { return numLogits; }
    public int token(int i) { return tokens[i]; }
    public int position(int i) { return positions[i]; }
    public int slot(int i) { return slots[i]; }
    public int seqOfToken(int i) { return seqOfToken[i]; }
    public int seqStart(int s) { return seqStart[s]; }
    public int seqEnd(int s) { return seqStart[s + 1]; }
    public int[] blockTable(int s) { return blockTables[s]; }
    public int contextLen(int s) { return contextLens[s]; }
    public int logitsRow(int j) { return logitsRows[j]; }
    public int numHidden() { return numHidden; }
    public int hiddenRow(int j) { return hiddenRows[j]; }
}
