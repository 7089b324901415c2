package io.chorus.engine;

import io.chorus.model.Batch;
import io.chorus.model.ForwardPass;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * A model for engine tests that really uses the paged cache: each token's id (and position) is
 * stored at its slot, and the logits of a row are a function of every token of the sequence read
 * back through its block table. A wrong slot, block table, prefix-cache hit, missing block copy or
 * bad recompute changes the outputs (or, when a slot holds the wrong position, throws).
 *
 * <p>The argmax of a row is a hash of the sequence's tokens and position; the other logits spread
 * over [0, 4) so temperature sampling has real choices.
 */
public final class FakeForwardPass implements ForwardPass {
    private final int vocab;
    private final int blockSize;
    private final int numBlocks;
    private final int[] slotToken; // [numBlocks * blockSize] token id whose K/V the slot holds, -1 if none
    private final int[] slotPos;   // [numBlocks * blockSize] position of that token
    private volatile IntPredicate failOnCall = call -> false;
    private volatile long delayNanos;
    private int calls;
    private long copies;
    private long logitsRows;
    /** Per forward call: tokens in the batch (for tests asserting budgets). */
    public final List<Integer> batchTokens = new ArrayList<>();
    public final List<Integer> batchSeqs = new ArrayList<>();

    public FakeForwardPass(int vocab, int blockSize, int numBlocks) {
        this.vocab = vocab;
        this.blockSize = blockSize;
        this.numBlocks = numBlocks;
        slotToken = new int[numBlocks * blockSize];
        slotPos = new int[numBlocks * blockSize];
        Arrays.fill(slotToken, -1);
        Arrays.fill(slotPos, -1);
    }

    /** Makes forward call number {@code call} (0-based) throw when the predicate says so. */
    public void failOn(IntPredicate call) { this.failOnCall = call; }

    public long blockCopies() { return copies; }

    /** Logits rows computed so far (the engine should ask only for rows it samples). */
    public long logitsRows() { return logitsRows; }

    /** Makes every forward pass take at least this long (for tests of a running engine thread). */
    public void delayEachStep(long nanos) { this.delayNanos = nanos; }

    @Override public int vocabSize() { return vocab; }
    @Override public int blockSize() { return blockSize; }
    @Override public int numBlocks() { return numBlocks; }

    @Override
    public void copyBlocks(int[] src, int[] dst, int count) {
        for (int i = 0; i < count; i++) {
            System.arraycopy(slotToken, src[i] * blockSize, slotToken, dst[i] * blockSize, blockSize);
            System.arraycopy(slotPos, src[i] * blockSize, slotPos, dst[i] * blockSize, blockSize);
            copies++;
        }
    }

    @Override
    public void forward(Batch batch, float[] logits) {
        if (failOnCall.test(calls++)) throw new IllegalStateException("injected forward failure");
        if (delayNanos > 0) java.util.concurrent.locks.LockSupport.parkNanos(delayNanos);
        batchTokens.add(batch.numTokens());
        batchSeqs.add(batch.numSeqs());
        for (int i = 0; i < batch.numTokens(); i++) {
            slotToken[batch.slot(i)] = batch.token(i);
            slotPos[batch.slot(i)] = batch.position(i);
        }
        logitsRows += batch.numLogits();
        for (int j = 0; j < batch.numLogits(); j++) {
            int row = batch.logitsRow(j);
            int s = batch.seqOfToken(row);
            int pos = batch.position(row);
            if (row < batch.seqStart(s) || row >= batch.seqEnd(s) || pos >= batch.contextLen(s)) {
                throw new IllegalStateException("logits requested for a row outside its sequence");
            }
            int[] table = batch.blockTable(s);
            long h = 17;
            for (int p = 0; p <= pos; p++) {
                int slot = table[p / blockSize] * blockSize + p % blockSize;
                if (slotPos[slot] != p) {
                    throw new IllegalStateException("slot " + slot + " holds position " + slotPos[slot] + ", not " + p);
                }
                h = mix(h * 31 + slotToken[slot]);
            }
            fillLogits(h, pos, logits, j * vocab, vocab);
        }
    }

    /** The logits this model gives after {@code tokens[0, n)}. */
    public static void referenceLogits(int[] tokens, int n, float[] out, int vocab) {
        long h = 17;
        for (int p = 0; p < n; p++) h = mix(h * 31 + tokens[p]);
        fillLogits(h, n - 1, out, 0, vocab);
    }

    private static void fillLogits(long h, int pos, float[] out, int offset, int vocab) {
        long key = mix(h ^ (pos * 0x9E3779B97F4A7C15L));
        for (int v = 0; v < vocab; v++) out[offset + v] = (mix(key + v) >>> 40) * (4f / (1 << 24));
        out[offset + (int) Long.remainderUnsigned(key, vocab)] = 8f;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
