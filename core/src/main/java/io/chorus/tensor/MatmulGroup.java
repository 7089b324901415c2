package io.chorus.tensor;

/**
 * Several independent matmuls (each its own weights, input rows and output) run as one job of the
 * worker pool: the rows of all of them are split over the workers together, so small products,
 * such as the experts a decode step routes its few tokens to, cost one pool hand-off in all instead
 * of one each (on a busy machine a hand-off can wait a whole scheduler slice for a worker). Each
 * output row is computed by the very kernel {@link WeightMatrix#matmul(WorkerPool, Q8Activations,
 * float[])} would use, over whole 16-row tiles, so results are the same bits as one call per matmul.
 *
 * <p>Implementation notes: used by one thread (the engine thread); {@link #clear}, {@link #add} the
 * products, then {@link #run}. The integer inputs are built on the calling thread before the job starts
 * (building them may itself use the pool). Arrays grow to the most products seen and are reused.
 */
public final class MatmulGroup {
    private static final int TILE = 16;

    private WeightMatrix[] w = new WeightMatrix[8];
    private Q8Activations[] in = new Q8Activations[8];
    private float[][] out = new float[8][];
    private byte[][] xq = new byte[8][];
    private Q8Activations.Format[] format = new Q8Activations.Format[8]; // null: floats
    private int[] firstUnit = new int[9];   // [n + 1] job j owns units [firstUnit[j], firstUnit[j + 1]) of 16 rows
    private int n;
    private final WorkerPool.Task task = this::work;

    public void clear() {
        for (int j = 0; j < n; j++) {
            in[j] = null;
            out[j] = null;
            xq[j] = null;
        }
        n = 0;
    }

    public int size() { return n; }

    /**
     * Adds out[t][rows] = W a[t] for the rows of {@code a}: with its rows in {@code format} (one the
     * weights have a kernel for, as {@link ActivationPrecision#formatFor} answers), or its floats when null.
     */
    public void add(WeightMatrix weights, Q8Activations a, float[] dst, Q8Activations.Format format) {
        if (a.cols() != weights.cols) throw new IllegalArgumentException(weights.name + ": activations have " + a.cols() + " columns, expected " + weights.cols);
        if (n == w.length) {
            int m = 2 * n;
            w = java.util.Arrays.copyOf(w, m);
            in = java.util.Arrays.copyOf(in, m);
            out = java.util.Arrays.copyOf(out, m);
            xq = java.util.Arrays.copyOf(xq, m);
            this.format = java.util.Arrays.copyOf(this.format, m);
            firstUnit = java.util.Arrays.copyOf(firstUnit, m + 1);
        }
        w[n] = weights;
        in[n] = a;
        out[n] = dst;
        this.format[n] = format;
        firstUnit[n + 1] = firstUnit[n] + (weights.rows + TILE - 1) / TILE;
        n++;
    }

    /** Runs every product added since {@link #clear}. */
    public void run(WorkerPool pool) {
        if (n == 0) return;
        for (int j = 0; j < n; j++) xq[j] = format[j] != null ? in[j].blocks(format[j], pool) : null;
        pool.run(firstUnit[n], task);
    }

    /** Units [from, to): for each job they overlap, its rows in one kernel call. */
    private void work(int worker, int from, int to) {
        int j = 0;
        while (firstUnit[j + 1] <= from) j++;
        for (int u = from; u < to; j++) {
            int end = Math.min(to, firstUnit[j + 1]);
            WeightMatrix m = w[j];
            int r0 = (u - firstUnit[j]) * TILE, r1 = Math.min(m.rows, (end - firstUnit[j]) * TILE);
            int T = in[j].tokens();
            if (format[j] != null) {
                m.matmulQ(format[j], xq[j], T, out[j], m.rows, r0, r1);
            } else if (NativeKernels.supports(m.type())) {
                NativeKernels.matmul(m, in[j].floats(), T, out[j], m.rows, r0, r1);
            } else {
                m.matmul(in[j].floats(), T, out[j], m.rows, r0, r1);
            }
            u = end;
        }
    }
}
