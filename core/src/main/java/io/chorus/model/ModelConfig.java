package io.chorus.model;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;

/**
 * Hyper-parameters of a decoder-only transformer, read from GGUF metadata ({@code ARCH.*} keys).
 *
 * @param headDim   per-head size of q and k ({@code attention.key_length}, default dim / heads)
 * @param rotDim    dimensions of a head that rope rotates ({@code rope.dimension_count}, default headDim)
 * @param moe       the mixture-of-experts feed-forward, or null for a dense model
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
        MoeConfig moe) {

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
                f.getInt(p + "rope.dimension_count", headDim),
                f.tensor("output.weight") == null,
                MoeConfig.fromGguf(f, arch));
    }
}
