package io.chorus.model;

/**
 * What the engine needs of a model: one batched forward pass per step. Implementations read the
 * K/V of earlier positions through each sequence's block table and write the new tokens' K/V at
 * their slots before attending, so a token sees every position up to and including its own.
 */
public interface ForwardPass {
    int vocabSize();

    /** Tokens one KV-cache block holds. */
    int blockSize();

    /** Blocks in the paged KV cache this pass reads and writes. */
    int numBlocks();

    /**
     * Runs the batch and writes the logits of each requested row:
     * {@code logits[j * vocabSize() + v]} for j in [0, batch.numLogits()).
     */
    void forward(Batch batch, float[] logits);

    /**
     * For i in [0, count): copies every layer's K and V of block {@code src[i]} over block
     * {@code dst[i]}, in that order. The copy-on-write step for sequences that shared a partly
     * filled block (parallel sampling, n > 1).
     */
    void copyBlocks(int[] src, int[] dst, int count);
}
