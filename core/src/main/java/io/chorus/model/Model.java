package io.chorus.model;

import io.chorus.backend.Backend;
import io.chorus.backend.CpuBackend;
import io.chorus.backend.KvCache;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.Checkpoints;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A decoder-only transformer loaded from a {@link Checkpoint} (GGUF or a Hugging Face folder), run as one batched forward pass per step over the
 * paged KV cache. Every weight matrix is read once per call for all the batch's tokens; logits are
 * computed only for the rows the batch asks for.
 *
 * <p>The model never sees requests: the batch says which tokens, at which positions, write their K/V
 * where, and read through which block tables. Scratch buffers ([tokens][width], noted at each field)
 * grow to the largest batch seen and are then reused, so a step allocates nothing per token.
 *
 * <p>Every multiply, norm, rotation and attention goes through the {@link Backend} the model was
 * loaded with, which also owns the weight objects and the KV cache; the model only says what to
 * compute, layer by layer, over its float scratch rows.
 *
 * <p>Where the backend's {@link ActivationPrecision} says so for a weight type, each matmul input is also rounded
 * to 8 bits once per row, on first use, and shared by the matmuls that read it (q/k/v, gate/up); those
 * weights then multiply with integer dot products. {@link ActivationPrecision#F32} keeps every
 * product in float32.
 */
public final class Model implements ForwardPass, AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One decoder block's weights; fused projections (Phi-3) leave wk, wv, gate null. */
    private record Layer(
            float[] attnNorm,            // [dim]
            WeightMatrix wq,             // [qDim][dim], or fused [qDim + 2 kvDim][dim]
            WeightMatrix wk,             // [kvDim][dim]
            WeightMatrix wv,             // [kvDim][dim]
            float[] bq, float[] bk, float[] bv, // q/k/v biases (Qwen2) or null
            float[] qNorm, float[] kNorm,       // per-head RMSNorm weights [headDim] (Qwen3) or null
            WeightMatrix wo,             // [dim][qDim]
            float[] ffnNorm,             // [dim]
            WeightMatrix gate,           // [ffn][dim], or null when up is fused [2 ffn][dim]
            WeightMatrix up,             // [ffn][dim]
            WeightMatrix down,           // [dim][ffn]
            float[] postAttnNorm,        // [dim] norm of the attention output before the residual add (Gemma 2) or null
            float[] postFfnNorm) {}      // [dim] the same for the FFN output (Gemma 2) or null

    private final Checkpoint checkpoint;
    private final ModelConfig config;
    private final Backend backend;
    private final WeightMatrix tokenEmbd;   // [vocab][dim]
    private final WeightMatrix output;      // [vocab][dim], token_embd when tied
    private final float[] outputNorm;       // [dim]
    private final Layer[] layers;
    private final MoeFeedForward moe;       // the experts of every layer, or null for a dense model
    private final float[] ropeFreqs;        // [rotDim / 2] rope_freqs.weight (Llama 3 factors), or null
    private RotaryEmbedding rope;           // the rope angles for the context per sequence, set again by allocateKvCache
    private final long weightBytes;
    private final float embeddingScale;     // sqrt(dim) where the architecture scales embeddings (float32, as llama.cpp)
    private final boolean neoxRope;         // rotate halves: the architecture's rope, or q/k stored unpermuted

    private KvCache cache;

    // Scratch, [capacity tokens][width]
    private int capacity;
    private float[] x, xb, q, k, v, att, fused, gate, up, ffnOut;
    private float[] cos, sin;               // [tokens][rotDim / 2]
    private int[] positions, slots;
    private int[][] tables;
    private int logitsCapacity;
    private float[] xl;                     // [logits rows][dim]
    // 8-bit views of the matmul inputs (rebuilt on demand after each set): xb, att, up (down's input), xl
    private final Q8Activations xbq = new Q8Activations(), attq = new Q8Activations();
    private final Q8Activations upq = new Q8Activations(), xlq = new Q8Activations();

    private Model(Checkpoint checkpoint, ModelConfig config, Backend backend) {
        this.checkpoint = checkpoint;
        this.config = config;
        this.backend = backend;
        ModelConfig c = config;
        tokenEmbd = matrix("token_embd.weight", c.vocabSize(), c.dim());
        output = c.tiedOutput() ? tokenEmbd : matrix("output.weight", c.vocabSize(), c.dim());
        outputNorm = vector("output_norm.weight", c.dim());
        layers = new Layer[c.layers()];
        Architecture a = c.arch();
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            boolean fused = a.fusedProjections;
            boolean experts = c.moe() != null; // the FFN weights are MoeFeedForward's
            layers[i] = new Layer(
                    vector(p + "attn_norm.weight", c.dim()),
                    fused ? matrix(p + "attn_qkv.weight", c.qDim() + 2 * c.kvDim(), c.dim()) : matrix(p + "attn_q.weight", c.qDim(), c.dim()),
                    fused ? null : matrix(p + "attn_k.weight", c.kvDim(), c.dim()),
                    fused ? null : matrix(p + "attn_v.weight", c.kvDim(), c.dim()),
                    optionalVector(p + "attn_q.bias", c.qDim()),
                    optionalVector(p + "attn_k.bias", c.kvDim()),
                    optionalVector(p + "attn_v.bias", c.kvDim()),
                    a.qkNorm ? vector(p + "attn_q_norm.weight", c.headDim()) : null,
                    a.qkNorm ? vector(p + "attn_k_norm.weight", c.headDim()) : null,
                    matrix(p + "attn_output.weight", c.dim(), c.qDim()),
                    vector(p + "ffn_norm.weight", c.dim()),
                    fused || experts ? null : matrix(p + "ffn_gate.weight", c.ffnDim(), c.dim()),
                    experts ? null : matrix(p + "ffn_up.weight", fused ? 2 * c.ffnDim() : c.ffnDim(), c.dim()),
                    experts ? null : matrix(p + "ffn_down.weight", c.dim(), c.ffnDim()),
                    a.postNorms() ? vector(p + "post_attention_norm.weight", c.dim()) : null,
                    a.postNorms() ? vector(p + "post_ffw_norm.weight", c.dim()) : null);
        }
        embeddingScale = (float) Math.sqrt(c.dim());
        moe = c.moe() != null ? MoeFeedForward.load(checkpoint, c, backend) : null;
        ropeFreqs = optionalVector("rope_freqs.weight", c.rotDim() / 2);
        rope = new RotaryEmbedding(c, ropeFreqs, c.contextLength());
        weightBytes = checkpoint.weightBytes();
        neoxRope = a.neoxRope || checkpoint.rotateHalfRope();
    }

    /** Loads the model on the CPU with the default activation precision ({@link ActivationPrecision#auto}); weights stay in the memory-mapped file. */
    public static Model load(Path path, WorkerPool pool) {
        return load(path, pool, ActivationPrecision.auto());
    }

    /** Loads the model on the CPU, its kernels split over {@code pool} (which the caller owns); weights stay in the memory-mapped files. */
    public static Model load(Path path, WorkerPool pool, ActivationPrecision precision) {
        return load(path, new CpuBackend(pool, precision));
    }

    /** Loads the model from a GGUF file or a Hugging Face folder to run on {@code backend} (which the caller owns and closes after the model). */
    public static Model load(Path path, Backend backend) {
        Checkpoint c = Checkpoints.open(path);
        try {
            return new Model(c, c.config(), backend);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private WeightMatrix matrix(String name, int rows, int cols) {
        return backend.matrix(checkpoint, name, rows, cols);
    }

    private float[] vector(String name, int n) {
        float[] v = optionalVector(name, n);
        if (v == null) throw checkpoint.invalid("tensor " + name + " is missing");
        return v;
    }

    private float[] optionalVector(String name, int n) {
        TensorData t = checkpoint.tensor(name);
        if (t == null) return null;
        if (t.elements() != n) throw checkpoint.invalid("tensor " + t.name() + " has " + t.elements() + " values, expected " + n);
        if (t.type() == null) throw new UnsupportedModelException(checkpoint.path() + ": tensor " + t.name() + " has type " + t.typeName() + ", which Chorus does not support");
        float[] out = new float[n];
        if (t.type() == GgmlType.F32) {
            java.lang.foreign.MemorySegment.copy(t.data(), F32, 0, out, 0, n);
        } else {
            try {
                backend.readRow(backend.matrix(name, t, 1, n), 0, out, 0);
            } catch (IllegalArgumentException e) {
                throw new UnsupportedModelException(checkpoint.path() + ": " + e.getMessage());
            }
        }
        return out;
    }

    public ModelConfig config() { return config; }
    /** Where the weights, tokenizer metadata and chat template come from. */
    public Checkpoint checkpoint() { return checkpoint; }

    /** The GGUF file the model was loaded from (its metadata and tensor list), or null for a Hugging Face folder. */
    public io.chorus.model.gguf.GgufFile ggufFile() {
        return checkpoint instanceof io.chorus.model.checkpoint.GgufCheckpoint g ? g.file() : null;
    }
    public long weightBytes() { return weightBytes; }
    /** What the model runs on. */
    public Backend backend() { return backend; }
    public ActivationPrecision activationPrecision() { return backend.precision(); }

    /** Expert passes so far (one per layer, step and expert that a token of the step chose); 0 for a dense model. */
    public long expertPasses() { return moe == null ? 0 : moe.expertPasses(); }

    /** Bytes of expert weights read so far; 0 for a dense model. */
    public long expertBytesRead() { return moe == null ? 0 : moe.expertBytesRead(); }

    /** Bytes of KV cache one block of {@code blockSize} tokens takes. */
    public long kvBytesPerBlock(int blockSize, KvCacheDtype dtype) {
        return backend.kvBytesPerBlock(config, blockSize, dtype);
    }

    /**
     * Allocates the paged KV cache this model reads and writes (replacing any earlier one).
     * {@code maxContext}, the most tokens one sequence may hold (the server's max-model-len), also picks
     * longrope's long or short factors, as llama.cpp's context per sequence does.
     */
    public void allocateKvCache(int numBlocks, int blockSize, KvCacheDtype dtype, int maxContext) {
        if (cache != null) cache.close();
        cache = null; // a failed allocation must not leave the closed cache behind
        cache = backend.allocateKvCache(config, numBlocks, blockSize, dtype, maxContext);
        rope = new RotaryEmbedding(config, ropeFreqs, maxContext);
    }

    /** The long-context rope scaling in use for the cache's context ("long factors (context ...), attention factor 1.19"), or null. */
    public String ropeScaling() {
        return rope.describe();
    }

    /** The KV cache the backend allocated for this model, or null before {@link #allocateKvCache}. */
    public KvCache kvCache() { return cache; }

    @Override public int vocabSize() { return config.vocabSize(); }
    @Override public int blockSize() { return cache.blockSize(); }
    @Override public int numBlocks() { return cache.numBlocks(); }
    @Override public int attentionWindow() { return config.windowOfEveryLayer(); }

    @Override
    public void copyBlocks(int[] src, int[] dst, int count) {
        backend.copyBlocks(cache, src, dst, count);
    }

    @Override
    public void forward(Batch batch, float[] logits) {
        forward(batch, logits, null);
    }

    @Override
    public int hiddenSize() { return config.dim(); }

    @Override
    public void forward(Batch batch, float[] logits, float[] hidden) {
        if (cache == null) throw new IllegalStateException("allocateKvCache before forward");
        ModelConfig c = config;
        int T = batch.numTokens();
        ensureCapacity(T);
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hd = c.headDim(), half = c.rotDim() / 2;

        for (int t = 0; t < T; t++) {
            int id = batch.token(t);
            if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
            backend.readRow(tokenEmbd, id, x, t * dim);
            if (c.arch().scalesEmbeddings()) {
                for (int i = 0; i < dim; i++) x[t * dim + i] *= embeddingScale;
            }
            int pos = batch.position(t);
            positions[t] = pos;
            slots[t] = batch.slot(t);
            tables[t] = batch.blockTable(batch.seqOfToken(t));
            rope.angles(pos, cos, sin, t * half);
        }

        for (int l = 0; l < layers.length; l++) {
            Layer L = layers[l];
            backend.rmsnorm(xb, 0, x, 0, L.attnNorm, T, dim, c.rmsEps());
            xbq.set(xb, T, dim);
            if (L.wk == null) {
                int w = qDim + 2 * kvDim;
                backend.matmul(L.wq, xbq, fused);
                for (int t = 0; t < T; t++) {
                    System.arraycopy(fused, t * w, q, t * qDim, qDim);
                    System.arraycopy(fused, t * w + qDim, k, t * kvDim, kvDim);
                    System.arraycopy(fused, t * w + qDim + kvDim, v, t * kvDim, kvDim);
                }
            } else {
                backend.matmul(L.wq, xbq, q);
                backend.matmul(L.wk, xbq, k);
                backend.matmul(L.wv, xbq, v);
            }
            if (L.bq != null) {
                backend.addBias(q, L.bq, T, qDim);
                backend.addBias(k, L.bk, T, kvDim);
                backend.addBias(v, L.bv, T, kvDim);
            }
            if (L.qNorm != null) { // per head: rows of headDim
                backend.rmsnorm(q, 0, q, 0, L.qNorm, T * c.heads(), hd, c.rmsEps());
                backend.rmsnorm(k, 0, k, 0, L.kNorm, T * c.kvHeads(), hd, c.rmsEps());
            }
            backend.rope(q, T, c.heads(), hd, c.rotDim(), cos, sin, neoxRope);
            backend.rope(k, T, c.kvHeads(), hd, c.rotDim(), cos, sin, neoxRope);
            backend.writeKv(cache, l, T, slots, k, v);
            backend.attend(cache, l, T, positions, tables, q, att, c.windowed(l) ? c.slidingWindow() : 0);
            attq.set(att, T, qDim);
            backend.matmul(L.wo, attq, xb);
            if (L.postAttnNorm != null) backend.rmsnorm(xb, 0, xb, 0, L.postAttnNorm, T, dim, c.rmsEps());
            backend.add(x, xb, T, dim);

            backend.rmsnorm(xb, 0, x, 0, L.ffnNorm, T, dim, c.rmsEps());
            xbq.set(xb, T, dim);
            if (moe != null) {
                moe.forward(l, xbq, T, ffnOut);
                backend.add(x, ffnOut, T, dim);
                continue;
            }
            int ffn = c.ffnDim();
            if (L.gate == null) {
                backend.matmul(L.up, xbq, fused);
                backend.swigluFused(up, fused, T, ffn);
            } else {
                backend.matmul(L.gate, xbq, gate);
                backend.matmul(L.up, xbq, up);
                if (c.arch().geglu()) backend.geglu(up, gate, up, T, ffn);
                else backend.swiglu(up, gate, up, T * ffn);
            }
            upq.set(up, T, ffn);
            backend.matmul(L.down, upq, ffnOut);
            if (L.postFfnNorm != null) backend.rmsnorm(ffnOut, 0, ffnOut, 0, L.postFfnNorm, T, dim, c.rmsEps());
            backend.add(x, ffnOut, T, dim);
        }

        // Final hidden states for embeddings: the output norm applied, as the logits see them.
        for (int j = 0; j < batch.numHidden(); j++) backend.rmsnorm(hidden, j * dim, x, batch.hiddenRow(j) * dim, outputNorm, 1, dim, c.rmsEps());
        int nl = batch.numLogits();
        if (nl == 0) return;
        if (nl > logitsCapacity) {
            logitsCapacity = Math.max(nl, logitsCapacity * 2);
            xl = new float[logitsCapacity * dim];
        }
        for (int j = 0; j < nl; j++) backend.rmsnorm(xl, j * dim, x, batch.logitsRow(j) * dim, outputNorm, 1, dim, c.rmsEps());
        xlq.set(xl, nl, dim);
        backend.logits(output, xlq, logits, c.vocabSize(), c.finalSoftcap());
    }

    private void ensureCapacity(int T) {
        if (T <= capacity) return;
        int n = Math.max(T, capacity * 2);
        ModelConfig c = config;
        x = new float[n * c.dim()];
        xb = new float[n * c.dim()];
        q = new float[n * c.qDim()];
        k = new float[n * c.kvDim()];
        v = new float[n * c.kvDim()];
        att = new float[n * c.qDim()];
        fused = new float[n * Math.max(c.qDim() + 2 * c.kvDim(), c.arch().fusedProjections ? 2 * c.ffnDim() : 0)];
        gate = new float[n * c.ffnDim()];
        up = new float[n * c.ffnDim()];
        ffnOut = new float[n * c.dim()];
        cos = new float[n * (c.rotDim() / 2)];
        sin = new float[n * (c.rotDim() / 2)];
        positions = new int[n];
        slots = new int[n];
        tables = new int[n][];
        capacity = n;
    }

    @Override
    public void close() {
        if (cache != null) cache.close();
        checkpoint.close();
    }

    @Override
    public String toString() {
        return config.arch().ggufName + " " + config.name() + " " + Arrays.toString(new int[] {config.dim(), config.layers()});
    }
}
