package io.chorus.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.Architecture;
import io.chorus.model.ModelConfig;
import io.chorus.model.UnsupportedModelException;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Safetensors headers, config.json and the folder layouts (single file, sharded) of Hugging Face checkpoints. */
class HfCheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"llama-f32", "llama-bf16", "qwen2-bf16", "llama-fp8", "llama-awq", "llama-gptq"})
    void fixtureHeadersTileTheDataAndMatchTheReference(String name) throws IOException {
        Path dir = Fixtures.require("hf/" + name);
        JsonNode ref = JSON.readTree(dir.resolve("ref.json").toFile());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.dataStart() % 8).isZero();
            List<SafetensorsFile.Entry> byOffset = new ArrayList<>(f.entries().values());
            byOffset.sort(Comparator.comparingLong(SafetensorsFile.Entry::begin));
            long at = 0;
            for (SafetensorsFile.Entry e : byOffset) {
                assertThat(e.begin()).as(e.name()).isEqualTo(at);
                assertThat(e.end() - e.begin()).isEqualTo(e.elements() * SafetensorsFile.dtypeBytes(e.dtype()));
                at = e.end();
            }
            assertThat(at).isEqualTo(Files.size(dir.resolve("model.safetensors")) - f.dataStart());
            JsonNode dtypes = ref.get("tensor_dtypes");
            assertThat(f.entries()).hasSize(dtypes.size());
            dtypes.fields().forEachRemaining(d -> {
                SafetensorsFile.Entry e = f.entry(d.getKey());
                assertThat(e).as(d.getKey()).isNotNull();
                assertThat(e.dtype()).isEqualTo(d.getValue().get(0).asText());
                long[] shape = new long[d.getValue().get(1).size()];
                for (int i = 0; i < shape.length; i++) shape[i] = d.getValue().get(1).get(i).asLong();
                assertThat(e.shape()).as(d.getKey()).containsExactly(shape);
            });
        }
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            ModelConfig m = c.config();
            assertThat(m.arch()).isEqualTo(name.startsWith("qwen2") ? Architecture.QWEN2 : Architecture.LLAMA);
            assertThat(new int[] {m.dim(), m.layers(), m.heads(), m.kvHeads(), m.headDim(), m.ffnDim(), m.vocabSize(), m.contextLength()})
                    .containsExactly(256, 2, 4, 2, 64, 768, 512, 512);
            assertThat(m.tiedOutput()).isTrue();
            assertThat(m.ropeTheta()).isEqualTo(name.startsWith("qwen2") ? 1e6f : 1e4f);
            assertThat(m.rmsEps()).isEqualTo(name.startsWith("qwen2") ? 1e-6f : 1e-5f);
            assertThat(c.rotateHalfRope()).isTrue();
            assertThat(c.tensor("output.weight")).isNull();
            assertThat(c.tensor("blk.1.attn_q.weight") == null).isEqualTo(name.endsWith("awq") || name.endsWith("gptq"));
            assertThat(c.tensor("blk.1.ffn_down.weight") == null ? c.raw("model.layers.1.mlp.down_proj.qweight").name()
                    : c.tensor("blk.1.ffn_down.weight").name()).startsWith("model.layers.1.mlp.down_proj.");
            assertThat(c.quantization()).isEqualTo(switch (name) {
                case "llama-fp8" -> new HfQuantization.Fp8();
                case "llama-awq" -> new HfQuantization.Awq(64);
                case "llama-gptq" -> new HfQuantization.Gptq(64, true, false, 1);
                default -> null;
            });
            assertThat(c.chatTemplate()).startsWith("{%- for message in messages %}");
            assertThat(c.generationDefaults()).isEqualTo(name.startsWith("qwen2")
                    ? new GenerationDefaults(0.7, 0.8, 20, null, 1.05) : new GenerationDefaults(0.6, 0.9, null, null, null));
        }
    }

    /** The same tensors split over three shards with an index give the same tensors as one file. */
    @Test
    void shardedFolderReadsEveryShard(@TempDir Path tmp) throws IOException {
        Path src = Fixtures.require("hf/llama-bf16");
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) Files.copy(src.resolve(f), tmp.resolve(f));
        ObjectNode index = JSON.createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        try (SafetensorsFile one = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            List<SafetensorsFile.Entry> all = new ArrayList<>(one.entries().values());
            for (int s = 0; s < 3; s++) {
                SafetensorsWriter w = new SafetensorsWriter();
                String file = "model-0000" + (s + 1) + "-of-00003.safetensors";
                for (int i = s; i < all.size(); i += 3) {
                    SafetensorsFile.Entry e = all.get(i);
                    w.add(e.name(), e.dtype(), e.shape(), dst -> MemorySegment.copy(e.data(), 0, dst, 0, e.data().byteSize()));
                    map.put(e.name(), file);
                }
                w.write(tmp.resolve(file));
            }
            JSON.writeValue(tmp.resolve("model.safetensors.index.json").toFile(), index);
            try (HfCheckpoint sharded = HfCheckpoint.open(tmp)) {
                assertThat(sharded.shards()).hasSize(3);
                assertThat(sharded.weightBytes()).isEqualTo(all.stream().mapToLong(e -> e.end() - e.begin()).sum());
                for (SafetensorsFile.Entry e : all) {
                    TensorData t = sharded.raw(e.name());
                    assertThat(t.data().mismatch(e.data())).as(e.name()).isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void badHeadersNameTheFileAndTheProblem(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("a", "F32", new long[] {2, 2}, dst -> {});
        w.write(f);
        byte[] bytes = Files.readAllBytes(f);
        String header = new String(bytes, 8, bytes.length - 8 - 16, java.nio.charset.StandardCharsets.UTF_8);
        Files.write(f, patch(bytes, header, header.replace("[0,16]", "[0,32]")));
        assertThatThrownBy(() -> SafetensorsFile.open(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("data_offsets [0,32] outside the 16 data bytes");
        Files.write(f, patch(bytes, header, header.replace("[0,16]", "[0,12]")));
        assertThatThrownBy(() -> SafetensorsFile.open(f)).hasMessageContaining("needs 16 bytes, data_offsets give 12");
        Files.write(f, new byte[] {(byte) 0xFF, (byte) 0xFF, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertThatThrownBy(() -> SafetensorsFile.open(f)).hasMessageContaining("header length 65535 is impossible");
    }

    private static byte[] patch(byte[] file, String header, String replaced) {
        byte[] out = file.clone();
        byte[] h = replaced.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(h.length).isEqualTo(header.length());
        System.arraycopy(h, 0, out, 8, h.length);
        return out;
    }

    @Test
    void unsupportedArchitectureAndQuantizationAreNamed(@TempDir Path tmp) throws IOException {
        Path src = Fixtures.require("hf/llama-bf16");
        Files.copy(src.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        config.putArray("architectures").add("GPTNeoXForCausalLM");
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);
        assertThatThrownBy(() -> HfCheckpoint.open(tmp)).isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining(tmp.resolve("config.json").toString())
                .hasMessageContaining("architecture 'GPTNeoXForCausalLM' is not supported")
                .hasMessageContaining("LlamaForCausalLM, MistralForCausalLM, Phi3ForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM");
        config.putArray("architectures").add("LlamaForCausalLM");
        config.putObject("quantization_config").put("quant_method", "bitsandbytes");
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);
        assertThatThrownBy(() -> HfCheckpoint.open(tmp)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("quantization_config quant_method 'bitsandbytes' (supported: fp8, awq, gptq) is not supported");
        config.putObject("quantization_config").put("quant_method", "gptq").put("bits", 8).put("group_size", 128);
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);
        assertThatThrownBy(() -> HfCheckpoint.open(tmp)).hasMessageContaining("gptq with bits 8 (supported: 4)");
        config.remove("quantization_config");
        config.putObject("rope_scaling").put("rope_type", "ntk-by-parts").put("factor", 4.0);
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);
        assertThatThrownBy(() -> HfCheckpoint.open(tmp)).hasMessageContaining("rope_scaling type 'ntk-by-parts' is not supported");
        Files.delete(tmp.resolve("config.json"));
        assertThatThrownBy(() -> HfCheckpoint.open(tmp)).hasMessageContaining("config.json: no such file");
    }

    @Test
    void ropeScalingBecomesFrequencyDivisors(@TempDir Path tmp) throws IOException {
        Path src = Fixtures.require("hf/llama-bf16");
        Files.copy(src.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        config.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);
        try (HfCheckpoint c = HfCheckpoint.open(tmp)) {
            assertThat(c.config().contextLength()).isEqualTo(1024);
            float[] f = new float[32];
            MemorySegment.copy(c.tensor("rope_freqs.weight").data(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, f, 0, 32);
            for (float v : f) assertThat(v).isEqualTo(2f);
        }
        // Llama 3.1's own settings (theta 500000, head dim 128): pair 0 keeps its frequency, the last is divided by 8,
        // and pair 32 (wavelength ~ 4440, inside the ramp between 2048 and 8192) by 1 / ((1 - s) / 8 + s)
        ObjectNode rs = JSON.createObjectNode().put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        float[] f = HfConfig.llama3Factors(rs, 500000, 128, "config.json");
        assertThat(f).hasSize(64);
        assertThat(f[0]).isEqualTo(1f);
        assertThat(f[63]).isEqualTo(8f);
        double wavelen = 2 * Math.PI * Math.pow(500000, 64.0 / 128), s = (8192 / wavelen - 1) / 3;
        assertThat(wavelen).isBetween(2048.0, 8192.0);
        assertThat(f[32]).isEqualTo((float) (1 / ((1 - s) / 8 + s)));
    }
}
