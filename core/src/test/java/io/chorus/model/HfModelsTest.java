package io.chorus.model;

import static io.chorus.model.ReferenceModelsTest.argmax;
import static io.chorus.model.ReferenceModelsTest.ints;
import static io.chorus.model.ReferenceModelsTest.readF32;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.model.ReferenceModelsTest.SequenceRunner;
import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Hugging Face folders of shared/fixtures/hf (safetensors F32, BF16, FP8, AWQ, GPTQ; Llama and
 * Qwen2) against their float64 reference logits, teacher forced at every position and as a greedy
 * continuation, within the fixtures' README bounds; and the same weights through GGUF.
 */
class HfModelsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Each folder on the float path, and AWQ and GPTQ under auto (16-bit activations where the native kernels are loaded). */
    @ParameterizedTest
    @CsvSource({"llama-f32,F32", "llama-bf16,F32", "qwen2-bf16,F32", "llama-fp8,F32", "llama-awq,F32", "llama-gptq,F32",
            "llama-awq,AUTO", "llama-gptq,AUTO"})
    void folderMatchesFloat64Reference(String name, ActivationPrecision precision) throws IOException {
        Path dir = Fixtures.require("hf/" + name);
        JsonNode ref = JSON.readTree(dir.resolve("ref.json").toFile());
        int[] prompt = ints(ref.get("prompt_ids"));
        try (Model model = Model.load(dir, pool, precision); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            int vocab = model.vocabSize();
            assertThat(vocab).isEqualTo(512);
            float[] expected = readF32(dir.resolve("ref64.f32"));
            float[] logits = run.prefillAllLogits(prompt);
            assertThat(logits).hasSameSizeAs(expected);
            JsonNode margins = ref.get("numpy_ref").get("top1_top2_margin");
            int argmaxChecked = 0;
            for (int row = 0; row < prompt.length; row++) {
                double maxDiff = 0;
                for (int v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[row * vocab + v] - expected[row * vocab + v]));
                assertThat(maxDiff).as("%s row %d max abs diff", name, row).isLessThan(0.05);
                if (margins.get(row).asDouble() > 0.05) {
                    assertThat(argmax(logits, row * vocab, vocab)).as("%s argmax row %d", name, row).isEqualTo(argmax(expected, row * vocab, vocab));
                    argmaxChecked++;
                }
            }
            assertThat(argmaxChecked).isGreaterThanOrEqualTo(prompt.length - 2);
            // Free-running greedy decode: every id up to the first step whose reference margin is below 0.05
            // (all 32 for f32, bf16, qwen2 and fp8; 20 for awq, 15 for gptq).
            int[] greedy = ints(ref.get("numpy_ref").get("greedy_ids"));
            JsonNode gm = ref.get("numpy_ref").get("greedy_margins");
            int clear = 0;
            while (clear < greedy.length && gm.get(clear).asDouble() >= 0.05) clear++;
            assertThat(clear).isGreaterThanOrEqualTo(15);
            List<Integer> got = run.greedy(prompt, clear);
            for (int i = 0; i < clear; i++) assertThat(got.get(i)).as("%s greedy step %d", name, i).isEqualTo(greedy[i]);
        }
    }

    /**
     * AWQ and GPTQ with 8-bit activations (what auto takes where the native integer kernels are
     * loaded; elsewhere INT8 falls back to the float path) against the float path and the float64
     * reference: rounding the activations moves these small random models' logits by up to a few
     * tenths (the bound is the one the GGUF types' 8-bit path is held to against llama.cpp), and every
     * argmax whose reference margin exceeds it stays.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-awq", "llama-gptq"})
    void eightBitActivationsStayCloseToTheReference(String name) throws IOException {
        Path dir = Fixtures.require("hf/" + name);
        JsonNode ref = JSON.readTree(dir.resolve("ref.json").toFile());
        int[] prompt = ints(ref.get("prompt_ids"));
        float[] expected = readF32(dir.resolve("ref64.f32"));
        float[] floats, int8;
        try (Model model = Model.load(dir, pool, ActivationPrecision.F32); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            floats = run.prefillAllLogits(prompt);
        }
        try (Model model = Model.load(dir, pool, ActivationPrecision.INT8); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            int8 = run.prefillAllLogits(prompt);
        }
        int vocab = 512;
        JsonNode margins = ref.get("numpy_ref").get("top1_top2_margin");
        double maxRef = 0, maxFloat = 0;
        for (int row = 0; row < prompt.length; row++) {
            for (int v = 0; v < vocab; v++) {
                int i = row * vocab + v;
                maxRef = Math.max(maxRef, Math.abs(int8[i] - expected[i]));
                maxFloat = Math.max(maxFloat, Math.abs(int8[i] - floats[i]));
            }
            if (margins.get(row).asDouble() > INT8_BOUND) {
                assertThat(argmax(int8, row * vocab, vocab)).as("%s argmax row %d", name, row).isEqualTo(argmax(expected, row * vocab, vocab));
            }
        }
        assertThat(maxRef).as("%s 8-bit vs float64 reference", name).isLessThan(INT8_BOUND);
        assertThat(maxFloat).as("%s 8-bit vs float path", name).isLessThan(INT8_BOUND);
    }

    /** Largest logit change allowed from rounding activations to 8 bits (as ReferenceModelsTest allows the GGUF types). */
    private static final double INT8_BOUND = 1.0;

    /**
     * llama-f32 written as GGUF the way llama.cpp's converter does (q and k rows permuted into
     * interleaved rope pairs) gives the same logits as the folder read with rotate-half rope.
     */
    @Test
    void sameWeightsThroughGgufGiveTheSameLogits(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.require("hf/llama-f32");
        JsonNode ref = JSON.readTree(dir.resolve("ref.json").toFile());
        int[] prompt = ints(ref.get("prompt_ids"));
        Path gguf = tmp.resolve("llama-f32.gguf");
        HfToGguf.convertLlamaF32(dir, gguf);
        float[] fromHf, fromGguf;
        try (Model model = Model.load(dir, pool, ActivationPrecision.F32); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            fromHf = run.prefillAllLogits(prompt);
        }
        try (Model model = Model.load(gguf, pool, ActivationPrecision.F32); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            assertThat(model.checkpoint().rotateHalfRope()).isFalse();
            fromGguf = run.prefillAllLogits(prompt);
        }
        double max = 0;
        for (int i = 0; i < fromHf.length; i++) max = Math.max(max, Math.abs(fromHf[i] - fromGguf[i]));
        assertThat(max).as("max abs diff GGUF vs HF").isLessThan(1e-4);

        // tokenizer.json and the converted GGUF vocabulary (pre-tokenizer llama-bpe) give the same ids
        JsonNode tok = ref.get("tokenizer");
        try (HfCheckpoint hf = HfCheckpoint.open(dir); io.chorus.model.gguf.GgufFile g = io.chorus.model.gguf.GgufFile.open(gguf)) {
            io.chorus.tokenizer.Tokenizer a = io.chorus.tokenizer.Tokenizer.of(hf), b = io.chorus.tokenizer.Tokenizer.fromGguf(g);
            String text = tok.get("prompt_text").asText(), chat = tok.get("chat_example").get("text").asText();
            assertThat(a.encode(text, true, false)).containsExactly(ints(tok.get("full_prompt_ids"))).containsExactly(b.encode(text, true, false));
            assertThat(a.encode(chat, false, true)).containsExactly(ints(tok.get("chat_example").get("ids_add_special_tokens_false")))
                    .containsExactly(b.encode(chat, false, true));
        }
    }

    /** Writes a Hugging Face llama F32 folder as a GGUF file with llama.cpp's q/k permutation and the tokenizer.json vocabulary. */
    static final class HfToGguf {
        static void convertLlamaF32(Path dir, Path out) throws IOException {
            try (HfCheckpoint hf = HfCheckpoint.open(dir)) {
                ModelConfig c = hf.config();
                GgufWriter w = new GgufWriter();
                w.putString("general.architecture", "llama").putString("general.name", "llama-f32-converted");
                w.putUInt32("llama.embedding_length", c.dim()).putUInt32("llama.block_count", c.layers())
                        .putUInt32("llama.attention.head_count", c.heads()).putUInt32("llama.attention.head_count_kv", c.kvHeads())
                        .putUInt32("llama.feed_forward_length", c.ffnDim()).putUInt32("llama.context_length", c.contextLength())
                        .putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsEps()).putFloat32("llama.rope.freq_base", c.ropeTheta());
                io.chorus.tokenizer.Tokenizer tok = io.chorus.tokenizer.Tokenizer.of(hf);
                String[] pieces = new String[tok.vocabSize()];
                int[] types = new int[pieces.length];
                for (int i = 0; i < pieces.length; i++) {
                    pieces[i] = tok.tokenPiece(i);
                    types[i] = tok.isSpecial(i) ? 3 : 1;
                }
                JsonNode merges = JSON.readTree(dir.resolve("tokenizer.json").toFile()).get("model").get("merges");
                String[] m = new String[merges.size()];
                for (int i = 0; i < m.length; i++) m[i] = merges.get(i).isTextual() ? merges.get(i).asText() : merges.get(i).get(0).asText() + " " + merges.get(i).get(1).asText();
                w.putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "llama-bpe")
                        .putStrings("tokenizer.ggml.tokens", pieces).putInts("tokenizer.ggml.token_type", types)
                        .putStrings("tokenizer.ggml.merges", m)
                        .putUInt32("tokenizer.ggml.bos_token_id", 508).putUInt32("tokenizer.ggml.eos_token_id", 511);
                copy(w, hf, "token_embd.weight", -1);
                copy(w, hf, "output_norm.weight", -1);
                for (int l = 0; l < c.layers(); l++) {
                    String p = "blk." + l + ".";
                    for (String role : new String[] {"attn_norm", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"}) copy(w, hf, p + role + ".weight", -1);
                    copy(w, hf, p + "attn_q.weight", c.heads());
                    copy(w, hf, p + "attn_k.weight", c.kvHeads());
                }
                w.write(out);
            }
        }

        /** Copies an F32 tensor; with heads > 0, its rows permuted as llama.cpp's converter permutes q and k. */
        private static void copy(GgufWriter w, HfCheckpoint hf, String role, int heads) {
            TensorData t = hf.tensor(role);
            assertThat(t.type()).isEqualTo(GgmlType.F32);
            w.addTensor(role, GgmlType.F32, t.dims(), dst -> {
                if (heads <= 0) {
                    MemorySegment.copy(t.data(), 0, dst, 0, t.data().byteSize());
                    return;
                }
                long rowBytes = t.dims()[0] * 4;
                int rows = (int) t.dims()[1], headDim = rows / heads, half = headDim / 2;
                // new row h*hd + 2j + s holds old row h*hd + s*half + j (w.reshape(n_head, 2, half, in).swapaxes(1, 2))
                for (int h = 0; h < heads; h++)
                    for (int j = 0; j < half; j++)
                        for (int s = 0; s < 2; s++)
                            MemorySegment.copy(t.data(), (long) (h * headDim + s * half + j) * rowBytes, dst, (long) (h * headDim + 2 * j + s) * rowBytes, rowBytes);
            });
        }
    }
}
