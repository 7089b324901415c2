package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The logits of a sequence computed inside a batch of many sequences (mixed prefill chunks and
 * decodes, scattered blocks) equal its logits computed alone: this is what makes batching safe.
 */
class BatchInvarianceTest {
    @TempDir static Path dir;
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
    @CsvSource({"tiny-llama,F32,F32", "tiny-qwen2,Q8_0,F32", "tiny-qwen3,Q4_K_M,F32", "tiny-phi3,F16,F32", "tiny-llama,Q4_0,F32", "tiny-qwen2,Q6_K,F32",
            "tiny-qwen2,BF16,F32", "tiny-llama,Q5_K_M,F32", "tiny-llama,Q2_K,F32", "tiny-qwen2,Q3_K_M,F32", "tiny-qwen3,IQ4_XS,F32",
            // 8-bit activations: each row is rounded on its own, so batching changes nothing either
            "tiny-qwen2,Q8_0,INT8", "tiny-qwen3,Q4_K_M,INT8", "tiny-llama,Q4_0,INT8", "tiny-qwen2,Q6_K,INT8", "tiny-llama,Q5_K_M,INT8",
            "tiny-phi3,Q8_0,INT8", "tiny-llama,Q2_K,INT8", "tiny-qwen2,Q3_K_M,INT8", "tiny-qwen3,IQ4_XS,INT8",
            // Gemma 2: windowed layers (window 6 over 4-token blocks), soft-caps, GeGLU, post-norms
            "tiny-gemma2,F32,F32", "tiny-gemma2,Q4_K_M,F32", "tiny-gemma2,Q8_0,INT8",
            // Phi-3: every layer windowed (window 11 over 4-token blocks)
            "tiny-phi3-window,F32,F32", "tiny-phi3-window,Q8_0,INT8"})
    void logitsInsideABatchEqualLogitsAlone(String shape, String mix, ActivationPrecision precision) throws IOException {
        Path file = dir.resolve(shape + "-" + mix + ".gguf");
        SyntheticModel.write(SyntheticModel.shape(shape), SyntheticModel.Mix.parse(mix), 7, file);
        check(file, shape + " " + mix, precision);
    }

    /** The Hugging Face AWQ and GPTQ folders: auto takes 16-bit activations where the native kernels are loaded. */
    @ParameterizedTest
    @CsvSource({"llama-awq,AUTO", "llama-gptq,AUTO", "llama-awq,INT8", "llama-gptq,F32"})
    void hfFolderLogitsInsideABatchEqualLogitsAlone(String folder, ActivationPrecision precision) throws IOException {
        check(Fixtures.require("hf/" + folder), folder + " " + precision, precision);
    }

    private static void check(Path file, String what, ActivationPrecision precision) throws IOException {
        int n = 9, blockSize = 4;
        SplittableRandom rnd = new SplittableRandom(3);
        int[][] prompts = new int[n][];
        for (int s = 0; s < n; s++) {
            prompts[s] = new int[1 + rnd.nextInt(30)];
            for (int i = 0; i < prompts[s].length; i++) prompts[s][i] = rnd.nextInt(512);
        }
        try (Model model = Model.load(file, pool, precision)) {
            int vocab = model.vocabSize();
            model.allocateKvCache(n * 8 + 8, blockSize, KvCacheDtype.F32, 64);
            // Each sequence owns 8 blocks, interleaved with the others' so tables are scattered.
            int[][] tables = new int[n][8];
            for (int s = 0; s < n; s++) for (int b = 0; b < 8; b++) tables[s][b] = b * n + s;

            float[][] alone = new float[n][vocab];
            Batch batch = new Batch();
            for (int s = 0; s < n; s++) {
                batch.clear();
                batch.addSequence(tables[s], blockSize, prompts[s], 0, prompts[s].length, 0);
                batch.addLogitsForLastToken();
                model.forward(batch, alone[s]);
            }
            // Recompute in one mixed batch: even sequences prefill their whole prompt again,
            // odd ones re-run only their last token as a decode over the cache written above.
            batch.clear();
            for (int s = 0; s < n; s++) {
                int len = prompts[s].length;
                int from = s % 2 == 0 ? 0 : len - 1;
                batch.addSequence(tables[s], blockSize, prompts[s], from, len - from, from);
                batch.addLogitsForLastToken();
            }
            float[] together = new float[n * vocab];
            model.forward(batch, together);
            for (int s = 0; s < n; s++) {
                for (float f : alone[s]) assertThat(Float.isFinite(f)).isTrue();
                for (int v = 0; v < vocab; v++) {
                    assertThat((double) together[s * vocab + v]).as("%s seq %d logit %d", what, s, v)
                            .isCloseTo(alone[s][v], org.assertj.core.data.Offset.offset(1e-4 + 1e-4 * Math.abs(alone[s][v])));
                }
            }
        }
    }
}
