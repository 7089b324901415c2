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
     * Positions a query sees, itself included, when every layer attends within a sliding window
     * (Phi-3, Mistral v0.1); 0 when some layer sees the whole context. The engine then releases the
     * blocks no later query can see.
     */
    default int attentionWindow() {
        return 0;
    }

    /**
     * Runs the batch and writes the logits of each requested row:
     * {@code logits[j * vocabSize() + v]} for j in [0, batch.numLogits()).
     */
    void forward(Batch batch, float[] logits);

    /** Width of a final hidden state (the model's embedding size). */
    default int hiddenSize() {
        throw new UnsupportedOperationException("this model does not expose its hidden states");
    }

    /**
     * {@link #forward(Batch, float[])}, also writing the final hidden state (after the output norm) of
     * each row the batch asks for: {@code hidden[j * hiddenSize() + i]} for j in [0, batch.numHidden()).
     */
    default void forward(Batch batch, float[] logits, float[] hidden) {
        if (batch.numHidden() > 0) throw new UnsupportedOperationException("this model does not expose its hidden states");
        forward(batch, logits);
    }

    /**
     * For i in [0, count): copies every layer's K and V of block {@code src[i]} over block
     * {@code dst[i]}, in that order. The copy-on-write step for sequences that shared a partly
     * filled block (parallel sampling, n > 1).
     */
    void copyBlocks(int[] src, int[] dst, int count);
}
