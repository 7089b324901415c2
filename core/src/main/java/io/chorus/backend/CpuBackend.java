package io.chorus.backend;

import io.chorus.model.ModelConfig;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.ExpertMatrices;
import io.chorus.tensor.GatheredRows;
import io.chorus.tensor.GemmaKernels;
import io.chorus.tensor.Kernels;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.MatmulGroup;
import io.chorus.tensor.NativeKernels;
import io.chorus.tensor.PagedAttention;
import io.chorus.tensor.PagedKvCache;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU backend: the Vector API and native kernels of {@code io.chorus.tensor}, split over a
 * {@link WorkerPool}; weights read in place from the memory-mapped checkpoint; the KV cache a
 * {@link PagedKvCache} in reserved host memory, attended by {@link PagedAttention}. Row loops run
 * here exactly as the kernels were called per row before, so results are bit-identical to calling
 * the kernels directly.
 */
public final class CpuBackend implements Backend {
    private final WorkerPool pool;
    private final boolean ownsPool;
    private final ActivationPrecision precision;

    /** A backend over a pool the caller owns (and closes). */
    public CpuBackend(WorkerPool pool, ActivationPrecision precision) {
        this(pool, false, precision);
    }

    private CpuBackend(WorkerPool pool, boolean ownsPool, ActivationPrecision precision) {
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.precision = precision;
    }

    /** A backend with its own pool of {@code threads} kernel threads, stopped by {@link #close()}. */
    public static CpuBackend withThreads(int threads, ActivationPrecision precision) {
        return new CpuBackend(new WorkerPool(threads), true, precision);
    }

    /** The cores this JVM may use: the default thread count. */
    public static int defaultThreads() {
        return WorkerPool.defaultThreads();
    }

    /** The kernel threads (for benchmarks and tests that drive kernels beside the model). */
    public WorkerPool pool() { return pool; }

    // ---- Weights

    @Override
    public WeightMatrix matrix(Checkpoint checkpoint, String name, int rows, int cols) {
        return checkpoint.matrix(name, rows, cols);
    }

    @Override
    public WeightMatrix matrix(String name, TensorData tensor, int rows, int cols) {
        return WeightMatrix.of(name, tensor.type(), tensor.data(), rows, cols);
    }

    @Override
    public WeightMatrix[] experts(String name, TensorData tensor, int experts, int rows, int cols) {
        return ExpertMatrices.of(name, tensor.type(), tensor.data(), experts, rows, cols);
    }

    @Override
    public void readRow(WeightMatrix w, int row, float[] dst, int off) {
        w.dequantizeRow(row, dst, off);
    }

    @Override
    public ActivationPrecision precision() { return precision; }

    @Override
    public Q8Activations.Format activationFormat(WeightMatrix w) { return precision.formatFor(w); }

    // ---- Multiply

    @Override
    public void matmul(WeightMatrix w, Q8Activations a, float[] out) {
        w.matmul(pool, a, precision.formatFor(w), out);
    }

    @Override
    public void matmulF32(WeightMatrix w, float[] x, int rows, float[] out) {
        w.matmul(pool, x, rows, out);
    }

    @Override
    public void matmul(MatmulGroup group) {
        group.run(pool);
    }

    @Override
    public void logits(WeightMatrix output, Q8Activations xl, float[] logits, int vocab, float softcap) {
        matmul(output, xl, logits);
        if (softcap > 0) {
            for (int j = 0; j < xl.tokens(); j++) GemmaKernels.softcap(logits, j * vocab, vocab, softcap);
        }
    }

    // ---- Normalise, rotate, element-wise

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int rows, int width, float eps) {
        for (int r = 0; r < rows; r++) Kernels.rmsnorm(out, outOff + r * width, x, xOff + r * width, w, width, eps);
    }

    @Override
    public void add(float[] x, float[] y, int rows, int width) {
        for (int r = 0; r < rows; r++) Kernels.add(x, r * width, y, r * width, width);
    }

    @Override
    public void addBias(float[] x, float[] bias, int rows, int width) {
        for (int r = 0; r < rows; r++) Kernels.add(x, r * width, bias, 0, width);
    }

    @Override
    public void rope(float[] x, int rows, int heads, int headDim, int rotDim, float[] cos, float[] sin, boolean neox) {
        int half = rotDim / 2, stride = heads * headDim;
        for (int r = 0; r < rows; r++) Kernels.rope(x, r * stride, heads, headDim, rotDim, cos, sin, r * half, neox);
    }

    @Override
    public void swiglu(float[] out, float[] g, float[] u, int n) {
        Kernels.swiglu(out, 0, g, 0, u, 0, n);
    }

    @Override
    public void swigluFused(float[] out, float[] gateUp, int rows, int width) {
        for (int r = 0; r < rows; r++) Kernels.swiglu(out, r * width, gateUp, r * 2 * width, gateUp, r * 2 * width + width, width);
    }

    @Override
    public void geglu(float[] out, float[] g, float[] u, int rows, int width) {
        for (int r = 0; r < rows; r++) GemmaKernels.geglu(out, r * width, g, r * width, u, r * width, width);
    }

    @Override
    public void scatterAdd(float[] src, int cols, int[] index, float[] weight, int from, int to, float[] dst) {
        GatheredRows.scatterAdd(src, cols, index, weight, from, to, dst);
    }

    // ---- KV cache and attention

    /** The CPU's cache: the paged arena and the attention (with its per-worker score scratch) that reads it. */
    private record Cache(PagedKvCache arena, PagedAttention attention, int qStride, int kvDim) implements KvCache {
        @Override public int numBlocks() { return arena.numBlocks(); }
        @Override public int blockSize() { return arena.blockSize(); }
        @Override public boolean reserved() { return arena.reserved(); }
        @Override public void close() { arena.close(); }
    }

    @Override
    public long kvBytesPerBlock(ModelConfig c, int blockSize, KvCacheDtype dtype) {
        return PagedKvCache.bytesPerBlock(c.layers(), blockSize, c.kvDim(), dtype);
    }

    @Override
    public KvCache allocateKvCache(ModelConfig c, int numBlocks, int blockSize, KvCacheDtype dtype, int maxContext) {
        PagedKvCache arena = new PagedKvCache(c.layers(), numBlocks, blockSize, c.kvDim(), dtype);
        PagedAttention attention = new PagedAttention(c.heads(), c.kvHeads(), c.headDim(), c.queryScale(), c.attnSoftcap(),
                maxContext, pool.threads());
        return new Cache(arena, attention, c.qDim(), c.kvDim());
    }

    @Override
    public void writeKv(KvCache cache, int layer, int rows, int[] slots, float[] k, float[] v) {
        Cache c = (Cache) cache;
        for (int t = 0; t < rows; t++) c.arena.write(layer, slots[t], k, t * c.kvDim, v, t * c.kvDim);
    }

    @Override
    public void attend(KvCache cache, int layer, int rows, int[] positions, int[][] tables, float[] q, float[] out, int window) {
        Cache c = (Cache) cache;
        c.attention.run(pool, c.arena, layer, rows, positions, tables, q, c.qStride, 0, out, window);
    }

    @Override
    public void copyBlocks(KvCache cache, int[] src, int[] dst, int count) {
        PagedKvCache arena = ((Cache) cache).arena;
        for (int i = 0; i < count; i++) arena.copyBlock(src[i], dst[i]);
    }

    // ---- Memory and identity

    /** Memory this process may use: physical memory, or the cgroup v2 limit when lower (weights are mapped into it too). */
    @Override
    public long memoryBytes() {
        long physical = Runtime.getRuntime().maxMemory();
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        try {
            String limit = Files.readString(Path.of("/sys/fs/cgroup/memory.max")).trim();
            if (!limit.equals("max")) physical = Math.min(physical, Long.parseLong(limit));
        } catch (IOException | NumberFormatException | SecurityException e) {
            // no cgroup v2 limit readable: the physical figure stands
        }
        return physical;
    }

    @Override
    public int threads() { return pool.threads(); }

    @Override
    public String description() { return NativeKernels.description(); }

    @Override
    public void close() {
        if (ownsPool) pool.close();
    }
}
