package io.chorus.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.ModelConfig;
import io.chorus.model.RopeScaling;
import io.chorus.model.UnsupportedModelException;
import org.junit.jupiter.api.Test;

/** config.json's {@code rope_scaling} of type yarn, as Qwen2.5's model cards ask to add it, read as llama.cpp's converter and rope_yarn take it. */
class YarnConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Qwen2.5-7B-Instruct's shape with the model card's rope_scaling. */
    private static ObjectNode qwen25() {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("Qwen2ForCausalLM");
        c.put("hidden_size", 3584).put("num_attention_heads", 28).put("num_key_value_heads", 4).put("num_hidden_layers", 28)
                .put("intermediate_size", 18944).put("max_position_embeddings", 32768).put("rope_theta", 1000000.0)
                .put("rms_norm_eps", 1e-6).put("hidden_act", "silu");
        c.putObject("rope_scaling").put("type", "yarn").put("factor", 4.0).put("original_max_position_embeddings", 32768);
        return c;
    }

    private static ModelConfig parse(ObjectNode c) {
        return HfConfig.parse(c, "/m/config.json", "m", 152064, false).model();
    }

    @Test
    void qwen25YarnEntry() {
        ObjectNode c = qwen25();
        ModelConfig m = parse(c);
        assertThat(m.ropeScaling()).isEqualTo(new RopeScaling(true, 4f, 32768, 32f, 1f, RopeScaling.yarnMscale(4f)));
        assertThat(m.contextLength()).isEqualTo(131072);
        // rope_type, explicit betas and attention factor, the original context from max_position_embeddings
        ObjectNode rs = (ObjectNode) c.get("rope_scaling");
        rs.remove("type");
        rs.remove("original_max_position_embeddings");
        rs.put("rope_type", "yarn").put("beta_fast", 16.0).put("beta_slow", 2.0).put("attention_factor", 1.25);
        assertThat(parse(c).ropeScaling()).isEqualTo(new RopeScaling(true, 4f, 32768, 16f, 2f, 1.25f));
    }

    @Test
    void malformedEntriesAreNamed() {
        ObjectNode c = qwen25();
        ((ObjectNode) c.get("rope_scaling")).remove("factor");
        assertThatThrownBy(() -> parse(c)).isInstanceOf(CheckpointException.class).hasMessage("/m/config.json: rope_scaling.factor is missing");
        ((ObjectNode) c.get("rope_scaling")).put("factor", 0.5);
        assertThatThrownBy(() -> parse(c)).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: rope_scaling.factor = 0.5 must be at least 1 for yarn");
        ((ObjectNode) c.get("rope_scaling")).put("factor", 4.0).put("beta_fast", -1);
        assertThatThrownBy(() -> parse(c)).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: rope_scaling.beta_fast = -1 must be a positive number");
        ((ObjectNode) c.get("rope_scaling")).remove("beta_fast");
        ((ObjectNode) c.get("rope_scaling")).put("mscale_all_dim", 1.0);
        assertThatThrownBy(() -> parse(c)).isInstanceOf(UnsupportedModelException.class)
                .hasMessage("/m/config.json: rope_scaling.mscale_all_dim (DeepSeek's yarn variant) is not supported");
    }
}
