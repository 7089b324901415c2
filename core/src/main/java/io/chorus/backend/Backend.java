package io.chorus.backend;

import io.chorus.model.ModelConfig;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.MatmulGroup;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;

/**
 * The seam under {@code Model.forward}: everything the model asks of the machine it runs on. The
 * model says what to compute, layer by layer; the backend multiplies, normalises, rotates and
 * attends, owns weight memory (it turns a checkpoint tensor into its weight object) and the KV
 * arena (it allocates the cache, writes it, attends over it and copies its blocks), reports the
 * bytes one KV block takes and the memory weights and cache share, so the server can size the
 * cache without knowing where it lives. {@link CpuBackend} is the first; a GPU backend implements
 * the same calls, and nothing above the model (engine, scheduler, block pool, runner, server)
 * changes.
 *
 * <p>Activations are float rows {@code [rows][width]} in the model's scratch arrays, plus their
 * integer rounding ({@link Q8Activations}) where {@link #activationFormat} says a weight takes the integer
 * path. Calls that work on rows take all the step's rows at once, so a step costs one call per
 * operation and layer, not one per token. Logits land in the caller's host array
 * ({@link #logits}), where the sampler reads them; a device backend copies them back there.
 *
 * <p>A backend is used by the engine thread only (its kernels may fan out to its own threads).
 */
public interface Backend extends AutoCloseable {

    // ---- Weights

    /** A checkpoint's weight matrix {@code name} of [rows][cols] as this backend's weight object (any stored format). */
    WeightMatrix matrix(Checkpoint checkpoint, String name, int rows, int cols);

    /** One stored tensor as a weight matrix of [rows][cols]; IllegalArgumentException when its type is not supported. */
    WeightMatrix matrix(String name, TensorData tensor, int rows, int cols);

    /** A stored [experts][rows][cols] tensor as one weight matrix per expert. */
    WeightMatrix[] experts(String name, TensorData tensor, int experts, int rows, int cols);

    /** dst[off..off+cols) = row {@code row} of w as floats (an embedding lookup, or a vector read at load). */
    void readRow(WeightMatrix w, int row, float[] dst, int off);

    /** The activation precision this backend multiplies with. */
    ActivationPrecision precision();

    /** The integer activation layout a matmul with w takes, or null for floats (the input's rows in it are built once, on demand). */
    Q8Activations.Format activationFormat(WeightMatrix w);

    // ---- Multiply

    /** out[t] = w a[t] for every row of a: through a's integer rows where {@link #activationFormat} says so, else its floats. */
    void matmul(WeightMatrix w, Q8Activations a, float[] out);

    /** out[t] = w x[t] for t < rows, always in float32 (where a choice must be made as precisely as the float reference). */
    void matmulF32(WeightMatrix w, float[] x, int rows, float[] out);

    /** Runs every product of the group, in one hand-off where the backend can. */
    void matmul(MatmulGroup group);

    /**
     * The language-model head: logits[j] = output xl[j] for each of xl's rows, then {@code c tanh(l / c)}
     * when {@code softcap} c > 0. The logits land in the caller's array, rows of {@code vocab}.
     */
    void logits(WeightMatrix output, Q8Activations xl, float[] logits, int vocab, float softcap);

    // ---- Normalise, rotate, element-wise (rows of width values, contiguous)

    /** out[r] = rmsnorm(x[r]) * w for r < rows: x's rows start at xOff, out's at outOff. out may alias x. */
    void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int rows, int width, float eps);

    /** x[r] += y[r] for r < rows. */
    void add(float[] x, float[] y, int rows, int width);

    /** x[r] += bias for r < rows. */
    void addBias(float[] x, float[] bias, int rows, int width);

    /**
     * Rotary embedding of each row's {@code heads} heads (rows of heads x headDim): the first rotDim
     * values of a head, by row r's angles cos/sin[r][rotDim / 2]; {@code neox} rotates halves, else pairs.
     */
    void rope(float[] x, int rows, int heads, int headDim, int rotDim, float[] cos, float[] sin, boolean neox);

    /** out[i] = silu(g[i]) * u[i] for i < n. out may alias g or u. */
    void swiglu(float[] out, float[] g, float[] u, int n);

    /** out[r] = silu(gu[r][0, width)) * gu[r][width, 2 width) for r < rows (a fused gate/up product). */
    void swigluFused(float[] out, float[] gateUp, int rows, int width);

    /** out[r] = gelu(g[r]) * u[r] for r < rows. out may alias g or u. */
    void geglu(float[] out, float[] g, float[] u, int rows, int width);

    /** dst[index[from + i]] += weight[from + i] * src[i] for i &lt; to - from: rows of cols values (gathered rows back where they came from). */
    void scatterAdd(float[] src, int cols, int[] index, float[] weight, int from, int to, float[] dst);

    // ---- KV cache and attention

    /** Bytes one KV block of {@code blockSize} tokens takes for a model of this shape, all layers, K and V. */
    long kvBytesPerBlock(ModelConfig config, int blockSize, KvCacheDtype dtype);

    /**
     * Allocates a paged KV cache for the model, with attention scratch for contexts up to
     * {@code maxContext} tokens. The caller closes it.
     */
    KvCache allocateKvCache(ModelConfig config, int numBlocks, int blockSize, KvCacheDtype dtype, int maxContext);

    /** Writes rows k[t], v[t] of layer {@code layer} at cache slot slots[t], for t < rows. */
    void writeKv(KvCache cache, int layer, int rows, int[] slots, float[] k, float[] v);

    /**
     * out[t] = attention of q[t]'s heads over its sequence's positions 0..positions[t], read through
     * block table tables[t], for t < rows; {@code window} > 0 keeps only the last window positions.
     */
    void attend(KvCache cache, int layer, int rows, int[] positions, int[][] tables, float[] q, float[] out, int window);

    /** For i < count: every layer's K and V of block src[i] copied over block dst[i], in that order. */
    void copyBlocks(KvCache cache, int[] src, int[] dst, int count);

    // ---- Memory and identity

    /** Bytes of memory weights and the KV cache share on this backend; the cache's budget is a share of it less the weights. */
    long memoryBytes();

    /** Host threads the backend runs its kernels on. */
    int threads();

    /** What runs the kernels, for logs and {@code chorus info}. */
    String description();

    /** Releases what the backend owns (its threads, when it started them). */
    @Override
    void close();
}
