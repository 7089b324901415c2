package io.chorus.model;

import io.chorus.backend.Backend;
import io.chorus.model.checkpoint.CheckpointException;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.tensor.GatheredRows;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.MatmulGroup;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;
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
 * <p>The experts of a step run in waves of up to {@link #WAVE_EXPERTS} experts and
 * {@link #WAVE_ROWS} gathered rows: the gate and up products of a wave's experts are one job of the
 * worker pool, their down products another, so a decode step costs two hand-offs per layer rather
 * than three per expert, while the scratch stays bounded whatever the batch.
 *
 * <p>Implementation notes: one instance per model, used by the engine thread only. Scratch buffers
 * ([tokens][width], noted at each field) grow to the largest step and are reused; each slot of a
 * wave has its own (an expert's rows must start at index 0 of the kernels' arrays).
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
    private final Backend backend;
    private final ExpertRouter router;
    private final Q8Activations sharedHidden = new Q8Activations();
    private final MatmulGroup group = new MatmulGroup();
    private final Slot[] slots = new Slot[WAVE_EXPERTS];
    private final int[] slotExpert = new int[WAVE_EXPERTS];
    private long expertPasses, expertBytes;

    private int capacity;
    private float[] logits;                   // [tokens][experts]
    private float[] sg, su, so;               // [tokens][sharedFfn] x2, [tokens][dim] the shared expert

    /** Most experts in one wave. */
    static final int WAVE_EXPERTS = 16;
    /** Most gathered rows in a wave of more than one expert. */
    static final int WAVE_ROWS = 256;

    /** One expert's place in a wave: its gathered input rows, its products and its hidden rows. */
    private static final class Slot {
        final GatheredRows rows = new GatheredRows();
        final Q8Activations hidden = new Q8Activations();
        float[] g = new float[0], u = new float[0]; // [m][expertFfn] gate and up (then the hidden rows)
        float[] o = new float[0];                   // [m][dim] output rows

        void ensure(int m, int ff, int dim) {
            if ((long) m * ff > g.length) {
                g = new float[Math.max(m * ff, 2 * g.length)];
                u = new float[g.length];
            }
            if ((long) m * dim > o.length) o = new float[Math.max(m * dim, 2 * o.length)];
        }
    }

    private MoeFeedForward(ModelConfig c, Layer[] layers, Backend backend) {
        this.moe = c.moe();
        this.dim = c.dim();
        this.layers = layers;
        this.backend = backend;
        this.router = new ExpertRouter(moe.experts(), moe.expertsUsed(), moe.normalizeTopK());
        for (int i = 0; i < slots.length; i++) slots[i] = new Slot();
    }

    /** The experts of every layer of an MoE model, read in place from the file. */
    static MoeFeedForward load(Checkpoint file, ModelConfig c, Backend backend) {
        MoeConfig m = c.moe();
        int dim = c.dim(), ne = m.experts(), ff = m.expertFfnDim(), sf = m.sharedFfnDim();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            boolean shared = m.hasSharedExpert();
            layers[i] = new Layer(
                    matrix(backend, file, p + "ffn_gate_inp.weight", ne, dim),
                    experts(backend, file, p + "ffn_gate_exps.weight", ne, ff, dim),
                    experts(backend, file, p + "ffn_up_exps.weight", ne, ff, dim),
                    experts(backend, file, p + "ffn_down_exps.weight", ne, dim, ff),
                    shared ? vector(backend, file, p + "ffn_gate_inp_shexp.weight", dim) : null,
                    shared ? matrix(backend, file, p + "ffn_gate_shexp.weight", sf, dim) : null,
                    shared ? matrix(backend, file, p + "ffn_up_shexp.weight", sf, dim) : null,
                    shared ? matrix(backend, file, p + "ffn_down_shexp.weight", dim, sf) : null);
        }
        return new MoeFeedForward(c, layers, backend);
    }

    private static TensorData tensor(Checkpoint file, String name, long... dims) {
        TensorData t = file.tensor(name);
        if (t == null) throw new CheckpointException(file.path() + ": tensor " + name + " is missing (mixture-of-experts model)");
        if (!java.util.Arrays.equals(t.dims(), dims)) {
            throw new CheckpointException(file.path() + ": tensor " + name + " has shape " + t.shape() + ", expected " + java.util.Arrays.toString(dims));
        }
        return t;
    }

    private static WeightMatrix matrix(Backend backend, Checkpoint file, String name, int rows, int cols) {
        TensorData t = tensor(file, name, cols, rows);
        try {
            return backend.matrix(name, t, rows, cols);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(file.path() + ": " + e.getMessage());
        }
    }

    private static WeightMatrix[] experts(Backend backend, Checkpoint file, String name, int experts, int rows, int cols) {
        TensorData t = tensor(file, name, cols, rows, experts);
        if (t.type() == null || !t.type().supported) {
            throw new UnsupportedModelException(file.path() + ": tensor " + name + " has type " + t.typeName()
                    + ", which Chorus does not support; supported: " + GgmlType.supportedNames());
        }
        try {
            return backend.experts(name, t, experts, rows, cols);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(file.path() + ": " + e.getMessage());
        }
    }

    private static float[] vector(Backend backend, Checkpoint file, String name, int n) {
        TensorData t = file.tensor(name);
        if (t == null) throw new CheckpointException(file.path() + ": tensor " + name + " is missing (mixture-of-experts model)");
        if (t.elements() != n) throw new CheckpointException(file.path() + ": tensor " + name + " has " + t.elements() + " values, expected " + n);
        float[] out = new float[n];
        if (t.type() == GgmlType.F32) {
            MemorySegment.copy(t.data(), F32, 0, out, 0, n);
            return out;
        }
        try {
            backend.readRow(backend.matrix(name, t, 1, n), 0, out, 0);
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
        backend.matmulF32(L.router, xf, T, logits);
        router.route(logits, T);

        if (L.sharedGate != null) {
            int sf = moe.sharedFfnDim();
            group.clear();
            group.add(L.sharedGate, x, sg, backend.activationFormat(L.sharedGate));
            group.add(L.sharedUp, x, su, backend.activationFormat(L.sharedUp));
            backend.matmul(group);
            backend.swiglu(su, sg, su, T * sf);
            sharedHidden.set(su, T, sf);
            backend.matmul(L.sharedDown, sharedHidden, so);
            for (int t = 0; t < T; t++) {
                float s = 1f / (1f + (float) Math.exp(-dot(L.sharedGateInp, xf, t * dim)));
                for (int i = 0; i < dim; i++) out[t * dim + i] = s * so[t * dim + i];
            }
        } else {
            java.util.Arrays.fill(out, 0, T * dim, 0f);
        }

        int[] tokens = router.tokens();
        float[] weights = router.weights();
        for (int e = 0; e < ne; ) {
            // A wave: the next experts with tokens, up to WAVE_EXPERTS of them and WAVE_ROWS rows (at least one expert).
            group.clear();
            int n = 0, rows = 0;
            for (; e < ne && n < WAVE_EXPERTS; e++) {
                int from = router.start(e), m = router.end(e) - from;
                if (m == 0) continue;
                if (n > 0 && rows + m > WAVE_ROWS) break;
                Slot s = slots[n];
                s.ensure(m, ff, dim);
                Q8Activations gx = s.rows.gather(x, tokens, from, from + m);
                group.add(L.gate[e], gx, s.g, backend.activationFormat(L.gate[e]));
                group.add(L.up[e], gx, s.u, backend.activationFormat(L.up[e]));
                slotExpert[n++] = e;
                rows += m;
            }
            if (n == 0) break;
            backend.matmul(group);
            group.clear();
            for (int i = 0; i < n; i++) {
                Slot s = slots[i];
                int x0 = slotExpert[i], m = router.end(x0) - router.start(x0);
                backend.swiglu(s.u, s.g, s.u, m * ff);
                s.hidden.set(s.u, m, ff);
                group.add(L.down[x0], s.hidden, s.o, backend.activationFormat(L.down[x0]));
            }
            backend.matmul(group);
            for (int i = 0; i < n; i++) {
                int x0 = slotExpert[i];
                backend.scatterAdd(slots[i].o, dim, tokens, weights, router.start(x0), router.end(x0), out);
                expertPasses++;
                expertBytes += L.gate[x0].data().byteSize() + L.up[x0].data().byteSize() + L.down[x0].data().byteSize();
            }
        }
        group.clear();
    }

    /**
     * The shared expert's gate logit, summed in index order: a vector lane reduction may associate
     * differently once compiled than interpreted, and this value must not change with the JIT's state.
     */
    private float dot(float[] w, float[] x, int xo) {
        float s = 0;
        for (int i = 0; i < dim; i++) s += w[i] * x[xo + i];
        return s;
    }

    private void ensureCapacity(int T) {
        if (T <= capacity) return;
        int n = Math.max(T, capacity * 2);
        logits = new float[n * moe.experts()];
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
