package io.chorus.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The transformer families Chorus runs, named as in GGUF's {@code general.architecture}. They share
 * one decoder block and differ in a few switches.
 */
public enum Architecture {
    /** Llama 2/3.x, Mistral, SmolLM, TinyLlama: interleaved rope (the converter permutes q/k). */
    LLAMA("llama", false, false, false, false),
    /** Qwen2/2.5: q/k/v biases, NEOX rope. */
    QWEN2("qwen2", true, true, false, false),
    /** Qwen3: per-head RMSNorm of q and k before rope, NEOX rope, no biases. */
    QWEN3("qwen3", true, false, true, false),
    /** Phi-3/3.5/4-mini: fused QKV and fused gate/up projections, NEOX rope, every layer within the sliding window when there is one. */
    PHI3("phi3", true, false, false, true),
    /**
     * Gemma 2: embeddings scaled by sqrt(dim), GeGLU, RMSNorms after attention and after the FFN,
     * soft-capped attention scores and logits, sliding-window attention on the even layers.
     */
    GEMMA2("gemma2", true, false, false, false),
    /** Qwen2-MoE / Qwen1.5-MoE: qwen2 attention, routed experts plus a shared expert behind a sigmoid gate. */
    QWEN2MOE("qwen2moe", true, true, false, false),
    /** Qwen3-MoE: qwen3 attention, routed experts only, weights renormalised over the chosen experts. */
    QWEN3MOE("qwen3moe", true, false, true, false);

    public final String ggufName;
    public final boolean neoxRope;
    public final boolean qkvBias;
    public final boolean qkNorm;
    public final boolean fusedProjections;

    Architecture(String ggufName, boolean neoxRope, boolean qkvBias, boolean qkNorm, boolean fusedProjections) {
        this.ggufName = ggufName;
        this.neoxRope = neoxRope;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
        this.fusedProjections = fusedProjections;
    }

    /** Whether the token embeddings are multiplied by sqrt(dim) before the first layer (Gemma). */
    public boolean scalesEmbeddings() { return this == GEMMA2; }

    /** Whether the FFN is GeGLU, gelu (tanh approximation) of the gate times up, instead of SwiGLU. */
    public boolean geglu() { return this == GEMMA2; }

    /** Whether each block normalizes the attention and FFN outputs again before adding them to the residual. */
    public boolean postNorms() { return this == GEMMA2; }

    /**
     * Whether layer {@code layer} attends only within the sliding window, given that the model has one:
     * Gemma 2 alternates windowed (even) and global (odd) layers, Phi-3 windows every layer, as llama.cpp does;
     * so does Mistral (the llama layout), whose window only a Hugging Face config carries: its GGUFs have none.
     */
    public boolean slidingWindowLayer(int layer) { return this == PHI3 || this == LLAMA || this == GEMMA2 && layer % 2 == 0; }

    public static Architecture fromGguf(String name, String file) {
        for (Architecture a : values()) if (a.ggufName.equals(name)) return a;
        throw new UnsupportedModelException(file + ": architecture '" + name + "' is not supported; supported: "
                + Arrays.stream(values()).map(a -> a.ggufName).collect(Collectors.joining(", ")));
    }
}
