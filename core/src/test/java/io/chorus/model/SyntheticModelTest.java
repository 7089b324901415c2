package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.model.SyntheticModel.Mix;
import io.chorus.model.SyntheticModel.Shape;
import io.chorus.model.gguf.GgufFile;
import io.chorus.tensor.GgmlType;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The per-tensor types of each {@code chorus synth --type} mix, against what llama-quantize chose. */
class SyntheticModelTest {
    /** The fixture models' shape (fixtures README §3): tied embeddings, GQA 2:1. */
    static final Shape FIXTURE = new Shape("fixture", Architecture.LLAMA, 256, 2, 4, 2, 64, 768, 512, 512, 1e4f, 1e-5f, true, false);

    @ParameterizedTest
    @CsvSource({"llama-q3_k_s, Q3_K_S", "llama-q3_k_m, Q3_K_M", "llama-q4_k_s, Q4_K_S", "llama-q4_k_m, Q4_K_M",
            "llama-q5_k_m, Q5_K_M", "llama-q4_0, Q4_0", "llama-q8_0, Q8_0", "llama-q6_k, Q6_K", "llama-f16, F16"})
    void mixChoosesLlamaQuantizesTypes(String model, Mix mix) throws IOException {
        Path gguf = Fixtures.require("models/" + model + ".gguf");
        JsonNode ref = new ObjectMapper().readTree(gguf.resolveSibling(model + ".ref.json").toFile());
        Map<String, String> expected = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = ref.get("tensor_types").properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().contains("norm")) expected.put(e.getKey(), e.getValue().asText()); // 2-D weights only
        }
        Map<String, String> got = new TreeMap<>();
        SyntheticModel.tensorTypes(FIXTURE, mix).forEach((name, type) -> got.put(name, type.name()));
        assertThat(got).isEqualTo(expected);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertThat(mix.fileType).as("general.file_type").isEqualTo(f.getInt("general.file_type"));
        }
    }

    /**
     * Qwen2.5-0.5B's 896-wide rows do not tile into 256-value blocks: those tensors fall back as
     * llama-quantize's do (its Q4_K_M file holds Q5_0, its Q5_K_M file Q5_1), the output matrix
     * (here the tied embedding) to Q8_0; the 4864-wide ffn_down rows keep the K-quant.
     */
    @Test
    void rowsThatBlocksCannotTileFallBack() {
        Shape qwen = SyntheticModel.shape("qwen2.5-0.5b");
        Map<String, GgmlType> q4km = SyntheticModel.tensorTypes(qwen, Mix.Q4_K_M);
        assertThat(q4km.get("token_embd.weight")).isEqualTo(GgmlType.Q8_0);
        assertThat(q4km.get("blk.0.attn_q.weight")).isEqualTo(GgmlType.Q5_0);
        assertThat(q4km.get("blk.0.attn_v.weight")).isEqualTo(GgmlType.Q8_0);   // Q6_K (more bits) -> Q8_0
        assertThat(q4km.get("blk.4.attn_v.weight")).isEqualTo(GgmlType.Q5_0);   // Q4_K -> Q5_0
        assertThat(q4km.get("blk.4.ffn_down.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(q4km.get("blk.5.ffn_down.weight")).isEqualTo(GgmlType.Q6_K); // (5 - 3) % 3 == 2: more bits
        Map<String, GgmlType> q5km = SyntheticModel.tensorTypes(qwen, Mix.Q5_K_M);
        assertThat(q5km.get("blk.0.ffn_up.weight")).isEqualTo(GgmlType.Q5_1);
        assertThat(q5km.get("blk.4.ffn_down.weight")).isEqualTo(GgmlType.Q5_K);
        Map<String, GgmlType> q2k = SyntheticModel.tensorTypes(qwen, Mix.Q2_K);
        assertThat(q2k.get("blk.0.attn_q.weight")).isEqualTo(GgmlType.IQ4_NL);
        assertThat(q2k.get("blk.0.ffn_down.weight")).isEqualTo(GgmlType.Q3_K);
        assertThat(SyntheticModel.tensorTypes(qwen, Mix.Q3_K_M).get("blk.0.attn_output.weight")).isEqualTo(GgmlType.Q5_0);
        assertThat(SyntheticModel.tensorTypes(qwen, Mix.IQ4_XS).get("blk.3.ffn_gate.weight")).isEqualTo(GgmlType.IQ4_NL);
        assertThat(SyntheticModel.tensorTypes(qwen, Mix.Q6_K).get("blk.3.ffn_gate.weight")).isEqualTo(GgmlType.Q8_0);
        assertThat(Mix.fallback(GgmlType.Q4_K, 96)).isEqualTo(GgmlType.Q5_0);
        assertThat(Mix.fallback(GgmlType.Q4_K, 100)).isEqualTo(GgmlType.F16);  // not even 32-value blocks fit
        assertThat(Mix.fallback(GgmlType.Q4_K, 512)).isEqualTo(GgmlType.Q4_K);
    }

    /** Rules that the fixtures' two layers do not show: Q2_K, Q3_K_L and IQ4_XS on Llama-3.2-1B (GQA 4:1, 16 layers). */
    @Test
    void perTensorRulesOfTheLowBitMixes() {
        Shape llama = SyntheticModel.shape("llama-3.2-1b");
        Map<String, GgmlType> q2k = SyntheticModel.tensorTypes(llama, Mix.Q2_K);
        assertThat(q2k.get("token_embd.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(q2k.get("blk.7.attn_v.weight")).isEqualTo(GgmlType.Q4_K);      // GQA >= 4
        assertThat(q2k.get("blk.7.attn_output.weight")).isEqualTo(GgmlType.Q3_K);
        assertThat(q2k.get("blk.7.ffn_down.weight")).isEqualTo(GgmlType.Q3_K);
        assertThat(q2k.get("blk.7.ffn_up.weight")).isEqualTo(GgmlType.Q2_K);
        Map<String, GgmlType> q3kl = SyntheticModel.tensorTypes(llama, Mix.Q3_K_L);
        assertThat(q3kl.get("blk.9.attn_v.weight")).isEqualTo(GgmlType.Q5_K);
        assertThat(q3kl.get("blk.9.ffn_down.weight")).isEqualTo(GgmlType.Q5_K);
        assertThat(q3kl.get("blk.9.attn_output.weight")).isEqualTo(GgmlType.Q5_K);
        assertThat(q3kl.get("blk.9.attn_q.weight")).isEqualTo(GgmlType.Q3_K);
        Map<String, GgmlType> q3km = SyntheticModel.tensorTypes(llama, Mix.Q3_K_M);
        assertThat(q3km.get("blk.0.ffn_down.weight")).isEqualTo(GgmlType.Q5_K);   // layer < 16 / 16
        assertThat(q3km.get("blk.1.ffn_down.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(q3km.get("blk.2.attn_v.weight")).isEqualTo(GgmlType.Q4_K);
        Map<String, GgmlType> iq4 = SyntheticModel.tensorTypes(llama, Mix.IQ4_XS);
        assertThat(iq4.get("blk.1.ffn_down.weight")).isEqualTo(GgmlType.Q5_K);    // layer < 16 / 8
        assertThat(iq4.get("blk.2.ffn_down.weight")).isEqualTo(GgmlType.IQ4_XS);
        assertThat(iq4.get("blk.2.attn_v.weight")).isEqualTo(GgmlType.Q5_K);     // GQA >= 4
        assertThat(SyntheticModel.tensorTypes(llama, Mix.Q4_K_S).get("blk.4.attn_v.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(SyntheticModel.tensorTypes(llama, Mix.Q4_1).get("token_embd.weight")).isEqualTo(GgmlType.Q6_K);
    }
}
