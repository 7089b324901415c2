package io.chorus.model;

import io.chorus.model.gguf.GgufException;
import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.ExpertMatrices;
import io.chorus.tensor.GatheredRows;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.Kernels;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The mixture-of-experts feed-forward of every layer of an MoE model (Mixtral, Qwen2-MoE,
 * Qwen3-MoE). For a step of T tokens: router logits {@code ffn_gate_inp · x} for all tokens at once
 * (float activations, so the choice between two close experts is made as precisely as the float
 * reference makes it), routing and grouping by {@link ExpertRouter}, then for each expert that at
 * least one token chose, one pass over its weights for all of them: its tokens' rows gathered,
 * {@code down(silu(gate · x) * up · x)}, the rows added back scaled by their routing weights. Each
 * expert's weights are read at most once per step, whatever the batch. A token's contributions are
 * added in ascending expert order and each gathered row is multiplied as in any other batch, so a
 * token's result does not depend on the other tokens of the step (batch invariance).
 *
 * <p>Qwen2-MoE's shared expert runs for every token as a dense FFN over the whole batch, scaled per
 * token by {@code sigmoid(ffn_gate_inp_shexp · x)}.
 *
 * <p>Implementation notes: one instance per model, used by the engine thread only. Scratch buffers
 * ([tokens][width], noted at each field) grow to the largest step and are reused.
 */
final class MoeFeedForward {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One layer's experts; the shared-expert fields are null without a shared expert. */
    private record Layer(
            WeightMatrix router,        // [experts][dim]
            WeightMatrix[] gate,        // [experts] of [expertFfn][dim]
            WeightMatrix[] up,          // [experts] of [expertFfn][dim]
            WeightMatrix[] down,        // [experts] of [dim][expertFfn]
            float[] sharedGateInp,      // [dim]
            WeightMatrix sharedGate,    // [sharedFfn][dim]
            WeightMatrix sharedUp,      // [sharedFfn][dim]
            WeightMatrix sharedDown) {} // [dim][sharedFfn]

    private final MoeConfig moe;
    private final int dim;
    private final Layer[] layers;
    private final WorkerPool pool;
    private final ActivationPrecision precision;
    private final ExpertRouter router;
    private final GatheredRows gathered = new GatheredRows();
    private final Q8Activations hidden = new Q8Activations(), sharedHidden = new Q8Activations();
    private long expertPasses, expertBytes;

    private int capacity;
    private float[] logits;                   // [tokens][experts]
    private float[] g, u;                     // [tokens][expertFfn] one expert's gate and up (then its hidden)
    private float[] o;                        // [tokens][dim] one expert's output rows
    private float[] sg, su, so;               // [tokens][sharedFfn] x2, [tokens][dim] the shared expert

    private MoeFeedForward(ModelConfig c, Layer[] layers, WorkerPool pool, ActivationPrecision precision) {
        this.moe = c.moe();
        this.dim = c.dim();
        this.layers = layers;
        this.pool = pool;
        this.precision = precision;
        this.router = new ExpertRouter(moe.experts(), moe.expertsUsed(), moe.normalizeTopK());
    }

    /** The experts of every layer of an MoE model, read in place from the file. */
    static MoeFeedForward load(GgufFile file, ModelConfig c, WorkerPool pool, ActivationPrecision precision) {
        MoeConfig m = c.moe();
        int dim = c.dim(), ne = m.experts(), ff = m.expertFfnDim(), sf = m.sharedFfnDim();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            boolean shared = m.hasSharedExpert();
            layers[i] = new Layer(
                    matrix(file, p + "ffn_gate_inp.weight", ne, dim),
                    experts(file, p + "ffn_gate_exps.weight", ne, ff, dim),
                    experts(file, p + "ffn_up_exps.weight", ne, ff, dim),
                    experts(file, p + "ffn_down_exps.weight", ne, dim, ff),
                    shared ? vector(file, p + "ffn_gate_inp_shexp.weight", dim) : null,
                    shared ? matrix(file, p + "ffn_gate_shexp.weight", sf, dim) : null,
                    shared ? matrix(file, p + "ffn_up_shexp.weight", sf, dim) : null,
                    shared ? matrix(file, p + "ffn_down_shexp.weight", dim, sf) : null);
        }
        return new MoeFeedForward(c, layers, pool, precision);
    }

    private static GgufTensorInfo tensor(GgufFile file, String name, long... dims) {
        GgufTensorInfo t = file.tensor(name);
        if (t == null) throw new GgufException(file.path() + ": tensor " + name + " is missing (mixture-of-experts model)");
        if (!java.util.Arrays.equals(t.dims(), dims)) {
            throw new GgufException(file.path() + ": tensor " + name + " has shape " + t.shape() + ", expected " + java.util.Arrays.toString(dims));
        }
        return t;
    }

    private static WeightMatrix matrix(GgufFile file, String name, int rows, int cols) {
        GgufTensorInfo t = tensor(file, name, cols, rows);
        try {
            return WeightMatrix.of(name, t.type(), t.data(), rows, cols);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(file.path() + ": " + e.getMessage());
        }
    }

    private static WeightMatrix[] experts(GgufFile file, String name, int experts, int rows, int cols) {
        GgufTensorInfo t = tensor(file, name, cols, rows, experts);
        if (t.type() == null || !t.type().supported) {
            throw new UnsupportedModelException(file.path() + ": tensor " + name + " has type " + t.typeName()
                    + ", which Chorus does not support; supported: " + GgmlType.supportedNames());
        }
        try {
            return ExpertMatrices.of(name, t.type(), t.data(), experts, rows, cols);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(file.path() + ": " + e.getMessage());
        }
    }

    private static float[] vector(GgufFile file, String name, int n) {
        GgufTensorInfo t = file.tensor(name);
        if (t == null) throw new GgufException(file.path() + ": tensor " + name + " is missing (mixture-of-experts model)");
        if (t.elements() != n) throw new GgufException(file.path() + ": tensor " + name + " has " + t.elements() + " values, expected " + n);
        float[] out = new float[n];
        if (t.type() == GgmlType.F32) {
            MemorySegment.copy(t.data(), F32, 0, out, 0, n);
            return out;
        }
        try {
            WeightMatrix.of(name, t.type(), t.data(), 1, n).dequantizeRow(0, out, 0);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(file.path() + ": " + e.getMessage());
        }
        return out;
    }

    /**
     * out[t] = the layer's MoE FFN of x[t] for t in [0, T), x being the normalised input rows
     * (floats, and their 8-bit rounding for the shared expert's matmuls).
     */
    void forward(int layer, Q8Activations x, int T, float[] out) {
        Layer L = layers[layer];
        ensureCapacity(T);
        float[] xf = x.floats();
        int ne = moe.experts(), ff = moe.expertFfnDim();
        L.router.matmul(pool, xf, T, logits);
        router.route(logits, T);

        if (L.sharedGate != null) {
            int sf = moe.sharedFfnDim();
            matmul(L.sharedGate, x, sg);
            matmul(L.sharedUp, x, su);
            Kernels.swiglu(su, 0, sg, 0, su, 0, T * sf);
            sharedHidden.set(su, T, sf);
            matmul(L.sharedDown, sharedHidden, so);
            for (int t = 0; t < T; t++) {
                float s = 1f / (1f + (float) Math.exp(-Kernels.dot(L.sharedGateInp, 0, xf, t * dim, dim)));
                for (int i = 0; i < dim; i++) out[t * dim + i] = s * so[t * dim + i];
            }
        } else {
            java.util.Arrays.fill(out, 0, T * dim, 0f);
        }

        int[] tokens = router.tokens();
        float[] weights = router.weights();
        for (int e = 0; e < ne; e++) {
            int from = router.start(e), to = router.end(e), m = to - from;
            if (m == 0) continue;
            Q8Activations gx = gathered.gather(xf, dim, tokens, from, to);
            matmul(L.gate[e], gx, g);
            matmul(L.up[e], gx, u);
            Kernels.swiglu(u, 0, g, 0, u, 0, m * ff);
            hidden.set(u, m, ff);
            matmul(L.down[e], hidden, o);
            GatheredRows.scatterAdd(o, dim, tokens, weights, from, to, out);
            expertPasses++;
            expertBytes += L.gate[e].data().byteSize() + L.up[e].data().byteSize() + L.down[e].data().byteSize();
        }
    }

    /** out = W a: through the 8-bit rows of a (built once, shared) or, for f32 activations, its floats. */
    private void matmul(WeightMatrix w, Q8Activations a, float[] out) {
        if (precision.int8For(w)) w.matmul(pool, a, out);
        else w.matmul(pool, a.floats(), a.tokens(), out);
    }

    private void ensureCapacity(int T) {
        if (T <= capacity) return;
        int n = Math.max(T, capacity * 2);
        logits = new float[n * moe.experts()];
        g = new float[n * moe.expertFfnDim()];
        u = new float[n * moe.expertFfnDim()];
        o = new float[n * dim];
        if (moe.hasSharedExpert()) {
            sg = new float[n * moe.sharedFfnDim()];
            su = new float[n * moe.sharedFfnDim()];
            so = new float[n * dim];
        }
        capacity = n;
    }

    /** The routing of the last layer run (for tests and statistics). */
    ExpertRouter router() { return router; }

    /** Expert passes so far: one per (layer, step, expert chosen by at least one token of the step). */
    long expertPasses() { return expertPasses; }

    /** Bytes of expert weights read so far (each pass reads its expert's gate, up and down once). */
    long expertBytesRead() { return expertBytes; }
}
