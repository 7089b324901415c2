package io.chorus.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * config.json's {@code sliding_window}: Phi-3 and Mistral attend within it on every layer, Qwen2 still
 * serves only the context its window leaves exact.
 */
class SlidingWindowConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode config(String arch, int context) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(arch);
        c.put("hidden_size", 3072).put("num_attention_heads", 32).put("num_key_value_heads", 32).put("num_hidden_layers", 32)
                .put("intermediate_size", 8192).put("max_position_embeddings", context).put("rope_theta", 10000.0)
                .put("rms_norm_eps", 1e-5).put("hidden_act", "silu");
        return c;
    }

    private static ModelConfig parse(ObjectNode c) {
        return HfConfig.parse(c, "/m/config.json", "m", 32064, false).model();
    }

    @Test
    void phi3MiniWindowsEveryLayerAndKeepsItsContext() {
        ModelConfig m = parse(config("Phi3ForCausalLM", 4096).put("sliding_window", 2047)); // Phi-3-mini-4k-instruct
        assertThat(m.slidingWindow()).isEqualTo(2047);
        assertThat(m.contextLength()).isEqualTo(4096);
        for (int l = 0; l < 32; l++) assertThat(m.windowed(l)).isTrue();
        ObjectNode phi4 = config("Phi3ForCausalLM", 16384);
        phi4.putNull("sliding_window"); // Phi-4: none
        assertThat(parse(phi4).slidingWindow()).isZero();
        assertThat(parse(phi4).windowed(0)).isFalse();
        assertThat(parse(config("Phi3ForCausalLM", 4096).put("sliding_window", 0)).slidingWindow()).isZero();
    }

    @Test
    void mistralWindowsEveryLayerAndKeepsItsContext() {
        ModelConfig mistral = parse(config("MistralForCausalLM", 32768).put("sliding_window", 4096)); // Mistral-7B-v0.1
        assertThat(mistral.slidingWindow()).isEqualTo(4096);
        assertThat(mistral.contextLength()).isEqualTo(32768);
        for (int l = 0; l < 32; l++) assertThat(mistral.windowed(l)).isTrue();
        ObjectNode v3 = config("MistralForCausalLM", 32768);
        v3.putNull("sliding_window"); // Mistral-7B-v0.2 and later: none
        assertThat(parse(v3).windowed(0)).isFalse();
        assertThat(parse(config("LlamaForCausalLM", 8192)).windowed(0)).isFalse();
    }

    @Test
    void qwenWindowStillCapsTheContext() {
        ObjectNode windowed = config("Qwen2ForCausalLM", 32768).put("sliding_window", 4096).put("use_sliding_window", true);
        assertThat(parse(windowed).contextLength()).isEqualTo(4096);
        assertThat(parse(windowed).slidingWindow()).isZero();
        ObjectNode qwen = config("Qwen2ForCausalLM", 32768).put("sliding_window", 4096).put("use_sliding_window", false);
        assertThat(parse(qwen).contextLength()).isEqualTo(32768);
    }

    @Test
    void aMalformedWindowIsNamed() {
        assertThatThrownBy(() -> parse(config("Phi3ForCausalLM", 4096).put("sliding_window", -1)))
                .isInstanceOf(CheckpointException.class).hasMessage("/m/config.json: sliding_window = -1 must be a non-negative integer");
        assertThatThrownBy(() -> parse(config("Phi3ForCausalLM", 4096).put("sliding_window", "big")))
                .isInstanceOf(CheckpointException.class).hasMessage("/m/config.json: sliding_window = \"big\" must be a non-negative integer");
    }
}
