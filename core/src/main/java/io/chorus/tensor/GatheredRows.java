package io.chorus.tensor;

/**
 * A matmul input made of chosen rows of a batch (the tokens routed to one expert): {@link #gather}
 * copies those rows into a scratch [m][cols] and returns them as {@link Q8Activations}, so the
 * matmul reads the weights once for the m rows, with the same kernels (and, where the precision says
 * so, the same per-row 8-bit rounding) as for a whole batch. Each row's result therefore equals what
 * the same row gets in any other batch. {@link #scatterAdd} adds the m result rows back, each scaled,
 * into the rows they came from.
 *
 * <p>Implementation notes: the scratch grows to the largest m seen and is then reused; nothing is
 * allocated per call. Used by one thread (the engine thread).
 */
public final class GatheredRows {
    private float[] rows = new float[0];    // [m][cols]
    private final Q8Activations view = new Q8Activations();

    /** Rows src[index[i]] for i in [from, to), each of {@code cols} floats, as a matmul input of to - from rows. */
    public Q8Activations gather(float[] src, int cols, int[] index, int from, int to) {
        copy(src, cols, index, from, to);
        view.set(rows, to - from, cols);
        return view;
    }

    /**
     * Rows index[i] of {@code src} for i in [from, to) as a matmul input of to - from rows: the
     * floats copied, the 8-bit rows, when a matmul asks for them, copied from src's own (rounded
     * once for all the gathers from src) rather than rounded again per gather. The same bits as
     * {@link #gather(float[], int, int[], int, int)}. src must not change while the result is in use.
     */
    public Q8Activations gather(Q8Activations src, int[] index, int from, int to) {
        int cols = src.cols();
        copy(src.floats(), cols, index, from, to);
        view.setGathered(rows, to - from, cols, src, index, from);
        return view;
    }

    private void copy(float[] src, int cols, int[] index, int from, int to) {
        int m = to - from;
        if ((long) m * cols > rows.length) rows = new float[Math.max(m * cols, rows.length * 2)];
        for (int i = 0; i < m; i++) System.arraycopy(src, index[from + i] * cols, rows, i * cols, cols);
    }

    /**
     * dst[index[from + i]] += weight[from + i] * src[i] for i in [0, to - from): the rows of a
     * gathered product back where they came from. Each element is one multiply and one add, in
     * float, so a row's sum over several calls depends only on the order of the calls.
     */
    public static void scatterAdd(float[] src, int cols, int[] index, float[] weight, int from, int to, float[] dst) {
        for (int i = 0; i < to - from; i++) {
            int d = index[from + i] * cols, s = i * cols;
            float w = weight[from + i];
            for (int c = 0; c < cols; c++) dst[d + c] += w * src[s + c];
        }
    }
}
