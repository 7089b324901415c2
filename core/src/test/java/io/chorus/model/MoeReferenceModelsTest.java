package io.chorus.model;

import static io.chorus.model.ReferenceModelsTest.argmax;
import static io.chorus.model.ReferenceModelsTest.ints;
import static io.chorus.model.ReferenceModelsTest.readF32;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.model.ReferenceModelsTest.SequenceRunner;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mixture-of-experts reference models of shared/fixtures/models (Mixtral-style llama, qwen2moe
 * with its shared expert, qwen3moe) against their float64 references and llama.cpp's logits, within
 * the bounds of the fixtures' README section "gemma2 and the MoE models": 0.05 max abs with float
 * activations; llama.cpp's quantized files 1.0 max abs (1.5 for mixtral-q4_k_m, whose router gap on
 * the quantized weights is 0.007, so llama.cpp's 8-bit activations may pick other experts) and 0.25
 * rms. Argmax and greedy ids are checked only where the reference's margin allows.
 */
class MoeReferenceModelsTest {
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

    @ParameterizedTest
    @ValueSource(strings = {"qwen2moe-f32", "qwen2moe-q8_0", "mixtral-f32", "mixtral-q4_k_m", "qwen3moe-f16", "qwen3moe-q8_0"})
    void matchesFloat64Reference(String name) throws IOException {
        Path gguf = Fixtures.require("models/" + name + ".gguf");
        JsonNode ref = JSON.readTree(gguf.resolveSibling(name + ".ref.json").toFile());
        int[] prompt = ints(ref.get("prompt_ids"));
        try (Model model = Model.load(gguf, pool, ActivationPrecision.F32); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            assertThat(model.config().moe()).as("%s is a mixture of experts", name).isNotNull();
            int vocab = model.vocabSize();
            float[] expected = readF32(gguf.resolveSibling(name + ".ref64.f32"));
            float[] logits = run.prefillAllLogits(prompt);
            assertThat(logits).hasSameSizeAs(expected);
            JsonNode margins = ref.get("numpy_ref").get("top1_top2_margin");
            int argmaxChecked = 0;
            for (int row = 0; row < prompt.length; row++) {
                double maxDiff = 0;
                for (int v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[row * vocab + v] - expected[row * vocab + v]));
                assertThat(maxDiff).as("%s row %d max abs diff", name, row).isLessThan(0.05);
                if (margins.get(row).asDouble() > 0.1) {
                    assertThat(argmax(logits, row * vocab, vocab)).as("%s argmax row %d", name, row).isEqualTo(argmax(expected, row * vocab, vocab));
                    argmaxChecked++;
                }
            }
            assertThat(argmaxChecked).as("rows with a clear argmax").isGreaterThan(prompt.length / 2);
            // Greedy ids decoded one token at a time, up to the first step whose float64 margin is below 0.1.
            int[] greedy = ints(ref.get("numpy_ref").get("greedy_ids"));
            JsonNode greedyMargins = ref.get("numpy_ref").get("greedy_margins");
            List<Integer> got = run.forcedDecode(prompt, greedy);
            int checked = 0;
            for (int i = 0; i < greedy.length && greedyMargins.get(i).asDouble() >= 0.1; i++, checked++) {
                assertThat(got.get(i)).as("%s greedy step %d", name, i).isEqualTo(greedy[i]);
            }
            assertThat(checked).as("%s greedy steps before the first close margin", name).isGreaterThan(0);
        }
    }

    /** The F32 sources against llama.cpp's own logits: 0.05, the argmax at every row, all 32 greedy ids. */
    @ParameterizedTest
    @ValueSource(strings = {"qwen2moe-f32", "mixtral-f32"})
    void floatModelsMatchLlamaCpp(String name) throws IOException {
        compareWithLlamaCpp(name, ActivationPrecision.F32, 0.05, 0.05, 0.0);
    }

    @ParameterizedTest
    @CsvSource({"qwen2moe-q8_0,F32,1.0", "qwen2moe-q8_0,INT8,1.0", "mixtral-q4_k_m,F32,1.5", "mixtral-q4_k_m,INT8,1.5"})
    void quantizedModelsMatchLlamaCpp(String name, ActivationPrecision precision, double maxBound) throws IOException {
        compareWithLlamaCpp(name, precision, maxBound, 0.25, 1.0);
    }

    private void compareWithLlamaCpp(String name, ActivationPrecision precision, double maxBound, double rmsBound, double minMargin) throws IOException {
        Path gguf = Fixtures.require("models/" + name + ".gguf");
        JsonNode ref = JSON.readTree(gguf.resolveSibling(name + ".ref.json").toFile());
        int[] prompt = ints(ref.get("prompt_ids"));
        try (Model model = Model.load(gguf, pool, precision); SequenceRunner run = new SequenceRunner(model, KvCacheDtype.F32)) {
            int vocab = model.vocabSize();
            float[] expected = readF32(gguf.resolveSibling(name + ".logits.f32"));
            float[] logits = run.prefillAllLogits(prompt);
            assertThat(expected).hasSameSizeAs(logits);
            double max = 0, sq = 0;
            for (int i = 0; i < expected.length; i++) {
                double d = Math.abs(logits[i] - expected[i]);
                max = Math.max(max, d);
                sq += d * d;
            }
            assertThat(max).as("%s %s max abs diff vs llama.cpp", name, precision).isLessThan(maxBound);
            assertThat(Math.sqrt(sq / expected.length)).as("%s %s rms diff vs llama.cpp", name, precision).isLessThan(rmsBound);
            JsonNode margins = ref.get("llama_cpp").get("top1_top2_margin");
            for (int row = 0; row < prompt.length; row++) {
                if (margins.get(row).asDouble() > minMargin) {
                    assertThat(argmax(logits, row * vocab, vocab)).as("%s argmax row %d", name, row).isEqualTo(argmax(expected, row * vocab, vocab));
                }
            }
            int[] greedy = ints(ref.get("llama_cpp").get("greedy_ids"));
            JsonNode greedyMargins = ref.get("llama_cpp").get("greedy_margins");
            List<Integer> got = run.forcedDecode(prompt, greedy);
            for (int i = 0; i < greedy.length; i++) {
                if (greedyMargins.get(i).asDouble() > minMargin) {
                    assertThat(got.get(i)).as("%s %s greedy step %d", name, precision, i).isEqualTo(greedy[i]);
                }
            }
        }
    }

    /**
     * The fixture prompt's logits computed inside a batch with other sequences (prefill chunks and
     * decodes whose tokens route to other experts, so each expert's gathered rows differ) equal its
     * logits computed alone, bit for bit, with either activation precision.
     */
    @ParameterizedTest
    @CsvSource({"qwen2moe-q8_0,F32", "qwen2moe-q8_0,INT8", "mixtral-q4_k_m,F32", "mixtral-q4_k_m,INT8", "qwen3moe-f16,F32", "qwen3moe-q8_0,INT8"})
    void batchedWithOtherSequencesEqualsAlone(String name, ActivationPrecision precision) throws IOException {
        Path gguf = Fixtures.require("models/" + name + ".gguf");
        int[] prompt = ints(JSON.readTree(gguf.resolveSibling(name + ".ref.json").toFile()).get("prompt_ids"));
        int n = 5, blockSize = 4, blocksPerSeq = 8;
        SplittableRandom rnd = new SplittableRandom(5);
        int[][] prompts = new int[n][];
        prompts[0] = prompt;
        for (int s = 1; s < n; s++) {
            prompts[s] = new int[2 + rnd.nextInt(20)];
            for (int i = 0; i < prompts[s].length; i++) prompts[s][i] = 3 + rnd.nextInt(509);
        }
        try (Model model = Model.load(gguf, pool, precision)) {
            int vocab = model.vocabSize();
            model.allocateKvCache(n * blocksPerSeq, blockSize, KvCacheDtype.F32, blocksPerSeq * blockSize);
            int[][] tables = new int[n][blocksPerSeq];
            for (int s = 0; s < n; s++) for (int b = 0; b < blocksPerSeq; b++) tables[s][b] = b * n + (n - 1 - s);
            Batch batch = new Batch();
            float[][] alone = new float[n][prompt.length * vocab];
            for (int s = 0; s < n; s++) {
                batch.clear();
                batch.addSequence(tables[s], blockSize, prompts[s], 0, prompts[s].length, 0);
                for (int i = 0; i < prompts[s].length; i++) batch.addLogitsRow(i);
                model.forward(batch, alone[s]);
            }
            // Again in one batch: the fixture prompt prefilled whole, the others as a last-token decode over their cache.
            long passesBefore = model.expertPasses();
            batch.clear();
            batch.addSequence(tables[0], blockSize, prompt, 0, prompt.length, 0);
            for (int i = 0; i < prompt.length; i++) batch.addLogitsRow(i);
            for (int s = 1; s < n; s++) {
                int len = prompts[s].length;
                batch.addSequence(tables[s], blockSize, prompts[s], len - 1, 1, len - 1);
                batch.addLogitsForLastToken();
            }
            float[] together = new float[(prompt.length + n - 1) * vocab];
            model.forward(batch, together);
            MoeConfig moe = model.config().moe();
            assertThat(model.expertPasses() - passesBefore).as("each expert read at most once per layer in the step")
                    .isLessThanOrEqualTo((long) moe.experts() * model.config().layers());
            for (int i = 0; i < prompt.length * vocab; i++) {
                assertThat(together[i]).as("%s prompt logit %d", name, i).isEqualTo(alone[0][i]);
            }
            for (int s = 1; s < n; s++) {
                int last = prompts[s].length - 1;
                for (int v = 0; v < vocab; v++) {
                    assertThat(together[(prompt.length + s - 1) * vocab + v]).as("%s seq %d logit %d", name, s, v)
                            .isEqualTo(alone[s][last * vocab + v]);
                }
            }
        }
    }
}
