package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Mistral folder's sliding_window (Mistral-7B-v0.1 has 4096) applies on every layer, as transformers and
 * vLLM apply it: the llama-f32 fixture saved as MistralForCausalLM with a window of 8 gives the unwindowed
 * logits while a query sees every position, different ones past the window, and the same ones when
 * decoded token by token beside another sequence as in one prefill.
 */
class MistralWindowTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] PROMPT = {508, 380, 456, 258, 361, 44, 259, 265, 294, 115, 258, 354, 347, 492, 338, 46, 32, 72, 101, 488, 266, 357, 309, 259};
    private static final int WINDOW = 8;
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    private static Path folder(Path dir, Integer window) throws IOException {
        Path src = Fixtures.require("hf/llama-f32");
        Files.createDirectories(dir);
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "generation_config.json", "model.safetensors"}) Files.copy(src.resolve(f), dir.resolve(f));
        ObjectNode c = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        c.putArray("architectures").add("MistralForCausalLM");
        c.put("model_type", "mistral");
        if (window != null) c.put("sliding_window", window);
        else c.putNull("sliding_window");
        JSON.writeValue(dir.resolve("config.json").toFile(), c);
        return dir;
    }

    private static float[] prefill(Model m) {
        m.allocateKvCache(8, 4, KvCacheDtype.F32, 32);
        Batch batch = new Batch();
        batch.addSequence(new int[] {7, 5, 3, 1, 0, 2}, 4, PROMPT, 0, PROMPT.length, 0);
        for (int i = 0; i < PROMPT.length; i++) batch.addLogitsRow(i);
        float[] out = new float[PROMPT.length * m.vocabSize()];
        m.forward(batch, out);
        return out;
    }

    private static double maxDiff(float[] a, float[] b, int vocab, int from, int to) {
        double m = 0;
        for (int i = from * vocab; i < to * vocab; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void theWindowAppliesOnEveryLayerInPrefillAndDecode(@TempDir Path tmp) throws IOException {
        try (Model windowed = Model.load(folder(tmp.resolve("w"), WINDOW), pool, ActivationPrecision.F32);
             Model global = Model.load(folder(tmp.resolve("g"), null), pool, ActivationPrecision.F32)) {
            assertThat(windowed.config().slidingWindow()).isEqualTo(WINDOW);
            assertThat(global.config().slidingWindow()).isZero();
            int vocab = windowed.vocabSize();
            float[] w = prefill(windowed), g = prefill(global);
            assertThat(maxDiff(w, g, vocab, 0, WINDOW)).as("rows that see every position").isLessThan(1e-6);
            for (int row = WINDOW; row < PROMPT.length; row++) {
                assertThat(maxDiff(w, g, vocab, row, row + 1)).as("row %d, past the window", row).isGreaterThan(1e-3);
            }

            // 5-token prefill, then one token per step beside a second sequence (the prompt reversed)
            windowed.allocateKvCache(16, 4, KvCacheDtype.F32, 32);
            int[] table = {0, 2, 4, 6, 8, 10}, other = {1, 3, 5, 7, 9, 11};
            int[] reversed = new int[PROMPT.length];
            for (int i = 0; i < reversed.length; i++) reversed[i] = PROMPT[PROMPT.length - 1 - i];
            Batch batch = new Batch();
            batch.addSequence(table, 4, PROMPT, 0, 5, 0);
            batch.addSequence(other, 4, reversed, 0, 5, 0);
            windowed.forward(batch, new float[0]);
            float[] two = new float[2 * vocab];
            double worst = 0;
            for (int pos = 5; pos < PROMPT.length; pos++) {
                batch.clear();
                batch.addSequence(table, 4, PROMPT, pos, 1, pos);
                batch.addLogitsForLastToken();
                batch.addSequence(other, 4, reversed, pos, 1, pos);
                batch.addLogitsForLastToken();
                windowed.forward(batch, two);
                for (int v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(two[v] - w[pos * vocab + v]));
            }
            assertThat(worst).as("decoded past the window, batched").isLessThan(1e-5);
        }
    }
}
