package io.chorus.model;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;

/**
 * Hyper-parameters of a decoder-only transformer, read from GGUF metadata ({@code ARCH.*} keys).
 *
 * @param headDim   per-head size of q and k ({@code attention.key_length}, default dim / heads)
 * @param rotDim    dimensions of a head that rope rotates ({@code rope.dimension_count}, default headDim)
 * @param slidingWindow positions a query sees on the architecture's windowed layers, itself included
 *                  ({@code attention.sliding_window}); 0 when every layer is global
 * @param attnSoftcap   c in {@code score = c * tanh(score / c)} before the softmax ({@code attn_logit_softcapping}); 0: none
 * @param finalSoftcap  the same cap on the output logits ({@code final_logit_softcapping}); 0: none
 * @param queryScale    the factor of q.k before any cap and the softmax
 * @param moe       the mixture-of-experts feed-forward, or null for a dense model
 * @param longRope  Phi-3's long-context rope factors and attention factor, or null
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
        LongRope longRope) {

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
        return new ModelConfig(
                arch,
                f.getString("general.name", archName),
                dim,
                f.getInt(p + "block_count"),
                heads,
                kvHeads,
                headDim,
                f.getInt(p + "feed_forward_length"),
                vocab,
                f.getInt(p + "context_length", 2048),
                f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                f.getFloat(p + "rope.freq_base", 10000f),
                rotDim,
                f.tensor("output.weight") == null,
                arch == Architecture.GEMMA2 ? f.getInt(p + "attention.sliding_window", GEMMA2_WINDOW) : 0,
                arch == Architecture.GEMMA2 ? f.getFloat(p + "attn_logit_softcapping", 50f) : 0f,
                arch == Architecture.GEMMA2 ? f.getFloat(p + "final_logit_softcapping", 30f) : 0f,
                queryScale(arch, dim, heads, headDim, f.getInt(p + "block_count")),
                MoeConfig.fromGguf(f, arch),
                LongRope.fromGguf(f, archName, rotDim));
    }

    /** Gemma 2's window when the file does not say (llama.cpp's default, the trained models' value). */
    static final int GEMMA2_WINDOW = 4096;

    /**
     * 1/sqrt(head dim), except for Gemma 2 27B (46 layers), which was trained with 1/sqrt(dim / heads)
     * (its query_pre_attn_scalar, 144, while its heads have 128 values); llama.cpp tells the sizes
     * apart by their layer count, and so does this.
     */
    public static float queryScale(Architecture arch, int dim, int heads, int headDim, int layers) {
        int d = arch == Architecture.GEMMA2 && layers == 46 ? dim / heads : headDim;
        return (float) (1.0 / Math.sqrt(d));
    }

    /** Whether layer {@code layer} attends only to the last {@link #slidingWindow} positions. */
    public boolean windowed(int layer) {
        return slidingWindow > 0 && arch.slidingWindowLayer(layer);
    }
}
