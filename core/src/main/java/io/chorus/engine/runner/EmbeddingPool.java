package io.chorus.engine.runner;

import io.chorus.engine.api.Pooling;

/**
 * One embedding request's pooled hidden states while its prompt is prefilled, chunk after chunk:
 * the running sum of the rows it has seen (mean), or the row at position 0 (cls), or the last
 * (last). {@link #finish} turns it into the L2-normalised vector, as llama.cpp's embeddings are.
 * A prefill that restarts from position 0 (after a preemption) starts the pool over.
 *
 * <p>Part of the sequence's state that the model runner updates, as it does sampling state;
 * engine loop thread only.
 */
public final class EmbeddingPool {
    private final Pooling pooling;
    private double[] sum; // [dim] sum of the rows seen (mean), or the one row kept (cls, last)
    private int rows;

    public EmbeddingPool(Pooling pooling) {
        this.pooling = pooling;
    }

    public Pooling pooling() { return pooling; }

    /** Whether the row of a prompt of {@code promptLen} tokens at position {@code pos} counts. */
    boolean wants(int pos, int promptLen) {
        return switch (pooling) {
            case MEAN -> true;
            case CLS -> pos == 0;
            case LAST -> pos == promptLen - 1;
        };
    }

    /** Starts over (a prefill from position 0). */
    void reset(int dim) {
        if (sum == null || sum.length != dim) sum = new double[dim];
        else java.util.Arrays.fill(sum, 0);
        rows = 0;
    }

    /** Adds the hidden row {@code hidden[off, off + dim)}. */
    void add(float[] hidden, int off, int dim) {
        for (int i = 0; i < dim; i++) sum[i] += hidden[off + i];
        rows++;
    }

    /** The pooled vector, L2-normalised (a zero vector stays zero). */
    float[] finish() {
        int dim = sum.length;
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            double v = sum[i] / Math.max(rows, 1);
            norm += v * v;
        }
        norm = Math.sqrt(norm);
        float[] out = new float[dim];
        double scale = norm > 0 ? 1.0 / (norm * Math.max(rows, 1)) : 0;
        for (int i = 0; i < dim; i++) out[i] = (float) (sum[i] * scale);
        return out;
    }
}
