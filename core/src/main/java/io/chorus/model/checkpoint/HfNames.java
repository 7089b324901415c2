package io.chorus.model.checkpoint;

import io.chorus.model.Architecture;

/**
 * Role names (GGUF's tensor names, which the model asks for) to the tensor names of Hugging Face
 * checkpoints (transformers' module paths) for the architectures Chorus runs.
 */
final class HfNames {
    private HfNames() {}

    /** The Hugging Face name of a role, or null when the role has no counterpart there. */
    static String of(String role, Architecture arch) {
        switch (role) {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output.weight": return "lm_head.weight";
            case "output_norm.weight": return "model.norm.weight";
            default: break;
        }
        if (!role.startsWith("blk.")) return null;
        int dot = role.indexOf('.', 4);
        int suffixAt = role.lastIndexOf('.');
        if (dot < 0 || suffixAt <= dot) return null;
        String layer = role.substring(4, dot), base = role.substring(dot + 1, suffixAt), suffix = role.substring(suffixAt);
        String module = switch (base) {
            case "attn_norm" -> "input_layernorm";
            case "attn_q" -> "self_attn.q_proj";
            case "attn_k" -> "self_attn.k_proj";
            case "attn_v" -> "self_attn.v_proj";
            case "attn_qkv" -> "self_attn.qkv_proj";
            case "attn_output" -> "self_attn.o_proj";
            case "attn_q_norm" -> "self_attn.q_norm";
            case "attn_k_norm" -> "self_attn.k_norm";
            case "ffn_norm" -> "post_attention_layernorm";
            case "ffn_gate" -> "mlp.gate_proj";
            // Phi-3 stores gate and up as one [2 ffn][dim] matrix, gate first, as GGUF's fused ffn_up
            case "ffn_up" -> arch.fusedProjections ? "mlp.gate_up_proj" : "mlp.up_proj";
            case "ffn_down" -> "mlp.down_proj";
            default -> null;
        };
        return module == null ? null : "model.layers." + layer + "." + module + suffix;
    }
}
