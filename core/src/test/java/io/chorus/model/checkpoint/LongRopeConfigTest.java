package io.chorus.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.LongRope;
import io.chorus.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** config.json's longrope ("su") entry, as Phi-3.5-mini and Phi-4-mini write it, and what a malformed one says. */
class LongRopeConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Phi-3.5-mini-instruct's shape (head dim 96), with factors 1.0.. and 2.0.. of the right count. */
    private static ObjectNode phi35(int pairs) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("Phi3ForCausalLM");
        c.put("hidden_size", 3072).put("num_attention_heads", 32).put("num_key_value_heads", 32).put("num_hidden_layers", 32)
                .put("intermediate_size", 8192).put("max_position_embeddings", 131072).put("original_max_position_embeddings", 4096)
                .put("rope_theta", 10000.0).put("rms_norm_eps", 1e-5).put("sliding_window", 262144).put("hidden_act", "silu");
        ObjectNode rs = c.putObject("rope_scaling").put("type", "longrope");
        ArrayNode l = rs.putArray("long_factor"), s = rs.putArray("short_factor");
        for (int i = 0; i < pairs; i++) {
            l.add(2.0 + i);
            s.add(1.0 + i / 100.0);
        }
        return c;
    }

    private static LongRope parse(ObjectNode c) {
        return HfConfig.parse(c, "/m/config.json", "m", 32064, false).model().longRope();
    }

    @Test
    void phi35EntryGivesBothSetsAndTheDerivedAttentionFactor() {
        ObjectNode c = phi35(48);
        LongRope lr = parse(c);
        assertThat(lr.originalContext()).isEqualTo(4096);
        assertThat(lr.attnFactor()).isEqualTo((float) Math.sqrt(17.0 / 12)); // 1 + ln(131072 / 4096) / ln 4096
        assertThat(lr.longFactors()).hasSize(48).startsWith(2f, 3f);
        assertThat(lr.shortFactors()).hasSize(48).startsWith(1f, 1.01f);
        ModelConfig m = HfConfig.parse(c, "/m/config.json", "m", 32064, false).model();
        assertThat(m.contextLength()).isEqualTo(131072); // the sliding window (262144) does not cap it
        assertThat(HfConfig.parse(c, "/m/config.json", "m", 32064, false).ropeFactors()).isNull(); // no rope_freqs
        // the older name, rope_type, an explicit attention factor, the original context inside rope_scaling
        ((ObjectNode) c.get("rope_scaling")).put("type", "su");
        assertThat(parse(c)).isEqualTo(lr);
        ((ObjectNode) c.get("rope_scaling")).remove("type");
        ((ObjectNode) c.get("rope_scaling")).put("rope_type", "longrope").put("attention_factor", 1.5);
        assertThat(parse(c).attnFactor()).isEqualTo(1.5f);
        c.remove("original_max_position_embeddings");
        ((ObjectNode) c.get("rope_scaling")).put("original_max_position_embeddings", 8192);
        assertThat(parse(c).originalContext()).isEqualTo(8192);
    }

    /** Phi-4-mini rotates 96 of its 128 head dimensions: 48 factors per set. */
    @Test
    void partialRotationTakesFactorsForTheRotatedPairsOnly() {
        ObjectNode c = phi35(48);
        c.put("hidden_size", 3072).put("num_attention_heads", 24).put("num_key_value_heads", 8).put("partial_rotary_factor", 0.75);
        assertThat(parse(c).longFactors()).hasSize(48);
        assertThatThrownBy(() -> parse(phi35(64).put("num_attention_heads", 24).put("num_key_value_heads", 8).put("partial_rotary_factor", 0.75)))
                .hasMessage("/m/config.json: rope_scaling.long_factor has 64 values, expected 48 (rotated dimensions / 2)");
    }

    @Test
    void malformedEntriesNameTheFileAndTheKey() {
        assertThatThrownBy(() -> parse(phi35(47))).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: rope_scaling.long_factor has 47 values, expected 48 (rotated dimensions / 2)");
        ObjectNode c = phi35(48);
        ((ArrayNode) c.get("rope_scaling").get("short_factor")).set(5, JSON.getNodeFactory().numberNode(-1.0));
        assertThatThrownBy(() -> parse(c)).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: rope_scaling.short_factor value 5 is -1.0; every factor must be positive");
        ObjectNode noOrig = phi35(48);
        noOrig.remove("original_max_position_embeddings");
        assertThatThrownBy(() -> parse(noOrig)).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: original_max_position_embeddings is missing (rope_scaling longrope needs the original context)");
        ObjectNode noShort = phi35(48);
        ((ObjectNode) noShort.get("rope_scaling")).remove("short_factor");
        assertThatThrownBy(() -> parse(noShort)).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: rope_scaling.short_factor is missing or not a list (longrope needs it)");
        ObjectNode badAttn = phi35(48);
        ((ObjectNode) badAttn.get("rope_scaling")).put("attention_factor", 0.0);
        assertThatThrownBy(() -> parse(badAttn)).isInstanceOf(CheckpointException.class)
                .hasMessage("/m/config.json: rope_scaling.attention_factor = 0.0 must be a positive number");
    }
}
