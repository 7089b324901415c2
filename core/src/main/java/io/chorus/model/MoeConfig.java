package io.chorus.model;

import io.chorus.model.gguf.GgufFile;

/**
 * The mixture-of-experts feed-forward of a model, read from GGUF metadata: each token's FFN is the
 * weighted sum of {@code expertsUsed} of {@code experts} small FFNs, chosen per token and layer by a
 * router (softmax over {@code ffn_gate_inp · x}, then top-k), plus, for qwen2moe, a shared expert
 * every token runs, scaled by its own sigmoid gate.
 *
 * @param expertFfnDim       hidden size of one routed expert
 * @param sharedFfnDim       hidden size of the shared expert, 0 when there is none
 * @param normalizeTopK      whether the chosen experts' probabilities are rescaled to sum 1 (llama.cpp's
 *                           {@code norm_w}: Mixtral and Qwen3-MoE yes, Qwen2-MoE no)
 */
public record MoeConfig(int experts, int expertsUsed, int expertFfnDim, int sharedFfnDim, boolean normalizeTopK) {

    public MoeConfig {
        if (experts <= 0 || expertsUsed <= 0 || expertsUsed > experts) {
            throw new IllegalArgumentException(expertsUsed + " of " + experts + " experts per token");
        }
        if (expertFfnDim <= 0 || sharedFfnDim < 0) {
            throw new IllegalArgumentException("expert FFN size " + expertFfnDim + ", shared expert FFN size " + sharedFfnDim);
        }
    }

    public boolean hasSharedExpert() { return sharedFfnDim > 0; }

    /** Parameters of one layer's routed experts that one token reads (gate, up and down of each expert used). */
    public long activeExpertParamsPerLayer(int dim) {
        return 3L * dim * expertFfnDim * expertsUsed;
    }

    /**
     * The MoE part of a GGUF model, or null when it is dense. The keys and their defaults are those
     * llama.cpp uses for the architecture: {@code ARCH.expert_count} and {@code expert_used_count};
     * the expert size is {@code feed_forward_length} for llama (Mixtral) and
     * {@code expert_feed_forward_length} for the Qwen MoE models (default: feed_forward_length /
     * experts used); qwen2moe's shared expert is {@code expert_shared_feed_forward_length} (default
     * feed_forward_length).
     */
    static MoeConfig fromGguf(GgufFile f, Architecture arch) {
        String file = f.path().toString();
        String p = arch.ggufName + ".";
        int experts = f.getInt(p + "expert_count", 0);
        boolean moeArch = arch == Architecture.QWEN2MOE || arch == Architecture.QWEN3MOE;
        if (experts == 0) {
            if (moeArch) throw new UnsupportedModelException(file + ": architecture " + arch.ggufName + " needs " + p + "expert_count > 0");
            return null;
        }
        if (arch != Architecture.LLAMA && !moeArch) {
            throw new UnsupportedModelException(file + ": experts are not supported for architecture " + arch.ggufName);
        }
        int used = f.getInt(p + "expert_used_count", 0);
        int ffn = f.getInt(p + "feed_forward_length", 0);
        int expertFfn = arch == Architecture.LLAMA ? ffn : f.getInt(p + "expert_feed_forward_length", used > 0 ? ffn / used : 0);
        int shared = arch == Architecture.QWEN2MOE ? f.getInt(p + "expert_shared_feed_forward_length", ffn) : 0;
        try {
            return new MoeConfig(experts, used, expertFfn, shared, arch != Architecture.QWEN2MOE);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(file + ": " + e.getMessage());
        }
    }
}
