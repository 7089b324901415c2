package io.chorus.model;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;

/**
 * Hyper-parameters of a decoder-only transformer, read from GGUF metadata ({@code ARCH.*} keys).
 *
 * @param headDim   per-head size of q and k ({@code attention.key_length}, default dim / heads)
 * @param rotDim    dimensions of a head that rope rotates ({@code rope.dimension_count}, default headDim)
 * @param slidingWindow positions a query sees on the architecture's windowed layers, itself included
 *                  ({@code attention.sliding_window}; llama.cpp's n_swa, which masks key position k for a
 *                  query at p when p - k >= n_swa); 0 when every layer is global
 * @param attnSoftcap   c in {@code score = c * tanh(score / c)} before the softmax ({@code attn_logit_softcapping}); 0: none
 * @param finalSoftcap  the same cap on the output logits ({@code final_logit_softcapping}); 0: none
 * @param queryScale    the factor of q.k before any cap and the softmax
 * @param moe       the mixture-of-experts feed-forward, or null for a dense model
 * @param longRope  Phi-3's long-context rope factors and attention factor, or null
 * @param ropeScaling linear or yarn rope scaling (and an attention factor without longrope), or null
 */
public record ModelConfig(
        Architecture arch,
        String name,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int vocabSize,
        int contextLength,
        float rmsEps,
        float ropeTheta,
        int rotDim,
        boolean tiedOutput,
        int slidingWindow,
        float attnSoftcap,
        float finalSoftcap,
        float queryScale,
        MoeConfig moe,
        LongRope longRope,
        RopeScaling ropeScaling) {

    public int qDim() { return heads * headDim; }
    public int kvDim() { return kvHeads * headDim; }

    public static ModelConfig fromGguf(GgufFile f) {
        String file = f.path().toString();
        String archName = f.getString("general.architecture", null);
        if (archName == null) throw new UnsupportedModelException(file + ": metadata general.architecture is missing");
        Architecture arch = Architecture.fromGguf(archName, file);
        String p = archName + ".";
        int dim = f.getInt(p + "embedding_length");
        int heads = f.getInt(p + "attention.head_count");
        int kvHeads = f.getInt(p + "attention.head_count_kv", heads);
        int headDim = f.getInt(p + "attention.key_length", dim / heads);
        GgufTensorInfo embd = f.tensor("token_embd.weight");
        if (embd == null) throw new UnsupportedModelException(file + ": tensor token_embd.weight is missing");
        int vocab = (int) embd.dims()[1];
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new UnsupportedModelException(file + ": " + heads + " attention heads cannot share " + kvHeads + " KV heads");
        }
        int rotDim = f.getInt(p + "rope.dimension_count", headDim);
        int layers = f.getInt(p + "block_count");
        int context = f.getInt(p + "context_length", 2048);
        LongRope longRope = LongRope.fromGguf(f, archName, rotDim);
        RopeScaling ropeScaling = RopeScaling.fromGguf(f, archName, context, longRope != null);
        return new ModelConfig(
                arch,
                f.getString("general.name", archName),
                dim,
                layers,
                heads,
                kvHeads,
                headDim,
                f.getInt(p + "feed_forward_length"),
                vocab,
                ropeScaling != null ? ropeScaling.scaledContext(context) : context,
                f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                f.getFloat(p + "rope.freq_base", 10000f),
                rotDim,
                f.tensor("output.weight") == null,
                slidingWindow(f, arch, layers, kvHeads, context),
                arch == Architecture.GEMMA2 ? f.getFloat(p + "attn_logit_softcapping", 50f) : 0f,
                arch == Architecture.GEMMA2 ? f.getFloat(p + "final_logit_softcapping", 30f) : 0f,
                queryScale(arch, dim, heads, headDim, layers),
                MoeConfig.fromGguf(f, arch),
                longRope,
                ropeScaling);
    }

    /** Gemma 2's window when the file does not say (llama.cpp's default, the trained models' value). */
    static final int GEMMA2_WINDOW = 4096;

    /**
     * The window of the windowed layers, as llama.cpp b4748 reads it: Gemma 2's key or 4096; Phi-3's key
     * ({@code phi3.attention.sliding_window}, 0 for Phi-4, which has none), else the value of the published
     * model of that size (Phi-3-mini/medium-4k 2047, Phi-3-mini-128k 262144, Phi-3-medium-128k 131072),
     * which files converted before the key existed rely on. A phi3 file with neither attends globally
     * (llama.cpp refuses it). Other architectures: none.
     */
    static int slidingWindow(GgufFile f, Architecture arch, int layers, int kvHeads, int context) {
        String key = arch.ggufName + ".attention.sliding_window";
        int window = switch (arch) {
            case GEMMA2 -> f.getInt(key, GEMMA2_WINDOW);
            case PHI3 -> f.has(key) ? f.getInt(key) : phi3DefaultWindow(layers, kvHeads, context);
            default -> 0;
        };
        if (window < 0) throw new UnsupportedModelException(f.path() + ": metadata " + key + " = " + window + " must not be negative");
        return window;
    }

    /** llama.cpp's window for a phi3 file without the key, by the published models' sizes; 0 when none matches. */
    static int phi3DefaultWindow(int layers, int kvHeads, int context) {
        if ((layers == 32 || layers == 40) && context == 4096) return 2047;
        if (layers == 32 && kvHeads == 32 && context == 131072) return 262144;
        if (layers == 40 && context == 131072) return 131072;
        return 0;
    }

    /**
     * 1/sqrt(head dim), except for Gemma 2 27B (46 layers), which was trained with 1/sqrt(dim / heads)
     * (its query_pre_attn_scalar, 144, while its heads have 128 values); llama.cpp tells the sizes
     * apart by their layer count, and so does this.
     */
    public static float queryScale(Architecture arch, int dim, int heads, int headDim, int layers) {
        int d = arch == Architecture.GEMMA2 && layers == 46 ? dim / heads : headDim;
        return (float) (1.0 / Math.sqrt(d));
    }

    /** The sliding window when every layer attends within it, else 0 (some layer sees the whole context). */
    public int windowOfEveryLayer() {
        if (slidingWindow == 0) return 0;
        for (int l = 0; l < layers; l++) if (!windowed(l)) return 0;
        return slidingWindow;
    }

    /** Whether layer {@code layer} attends only to the last {@link #slidingWindow} positions. */
    public boolean windowed(int layer) {
        return slidingWindow > 0 && arch.slidingWindowLayer(layer);
    }
}
