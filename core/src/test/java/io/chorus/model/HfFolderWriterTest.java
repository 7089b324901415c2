package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.model.ReferenceModelsTest.SequenceRunner;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.GgufCheckpoint;
import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.checkpoint.HfFolderWriter;
import io.chorus.model.checkpoint.HfFolderWriter.Format;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GGUF models written as Hugging Face folders (BF16 and the FP8, AWQ and GPTQ quantizations vLLM
 * users keep): a BF16 folder gives the logits of the BF16 GGUF of the same weights (llama q/k rows
 * put back in Hugging Face's order, qwen2 biases), and each quantized matrix reads back within its
 * format's rounding error of the original.
 */
class HfFolderWriterTest {
    private static final SyntheticModel.Shape LLAMA = new SyntheticModel.Shape("tiny-llama-plain", Architecture.LLAMA,
            256, 2, 4, 2, 64, 512, 512, 1024, 1e4f, 1e-5f, false, false);
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    private static SyntheticModel.Shape shape(String name) {
        return name.equals(LLAMA.name()) ? LLAMA : SyntheticModel.shape(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-plain", "tiny-qwen2", "tiny-qwen3", "tiny-phi3"})
    void bf16FolderGivesTheLogitsOfTheBf16Gguf(String name, @TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve(name + ".gguf"), dir = tmp.resolve(name);
        SyntheticModel.write(shape(name), SyntheticModel.Mix.BF16, 3, gguf);
        HfFolderWriter.write(gguf, dir, Format.BF16, 64, 300_000); // small shards: an index and several files
        assertThat(Files.exists(dir.resolve("model.safetensors.index.json"))).isTrue();
        int[] prompt = {1, 70, 300, 5, 9, 400, 33, 2, 150, 260, 17, 88};
        float[] a, b;
        try (Model m = Model.load(gguf, pool, ActivationPrecision.F32); SequenceRunner r = new SequenceRunner(m, KvCacheDtype.F32)) {
            a = r.prefillAllLogits(prompt);
        }
        try (Model m = Model.load(dir, pool, ActivationPrecision.F32); SequenceRunner r = new SequenceRunner(m, KvCacheDtype.F32)) {
            assertThat(m.checkpoint()).isInstanceOf(HfCheckpoint.class);
            b = r.prefillAllLogits(prompt);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        assertThat(max).as("%s max abs diff GGUF BF16 vs folder BF16", name).isLessThan(1e-4);
    }

    /**
     * Each quantized linear matrix, read back, is within its format's rounding of the F32 original:
     * FP8 e4m3 keeps 3 mantissa bits (relative error 2^-4, plus half the subnormal step); AWQ and
     * GPTQ round to half a step of their group's scale (GPTQ's clipped top value too).
     */
    @ParameterizedTest
    @ValueSource(strings = {"FP8", "AWQ", "GPTQ"})
    void quantizedMatricesReadBackWithinTheirRounding(String f, @TempDir Path tmp) throws IOException {
        Format format = Format.valueOf(f);
        Path gguf = tmp.resolve("m.gguf"), dir = tmp.resolve("m-" + f);
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.F32, 5, gguf);
        HfFolderWriter.write(gguf, dir, format, 64, Long.MAX_VALUE);
        try (GgufCheckpoint src = GgufCheckpoint.open(gguf); HfCheckpoint hf = HfCheckpoint.open(dir)) {
            ModelConfig c = src.config();
            for (String role : new String[] {"blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.0.ffn_down.weight", "blk.1.ffn_up.weight"}) {
                int rows = (int) src.tensor(role).dims()[1], cols = (int) src.tensor(role).dims()[0];
                WeightMatrix want = src.matrix(role, rows, cols), got = hf.matrix(role, rows, cols);
                assertThat(got.type().name()).isEqualTo(switch (format) { case FP8 -> "F8_E4M3"; case AWQ -> "AWQ_4"; default -> "GPTQ_4"; });
                float[] w = new float[cols], q = new float[cols];
                float tensorMax = 0;
                for (int r = 0; r < rows; r++) {
                    want.dequantizeRow(r, w, 0);
                    for (float v : w) tensorMax = Math.max(tensorMax, Math.abs(v));
                }
                double worst = 0;
                for (int r = 0; r < rows; r++) {
                    want.dequantizeRow(r, w, 0);
                    got.dequantizeRow(r, q, 0);
                    for (int g = 0; g < cols; g += 64) {
                        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
                        for (int i = g; i < g + 64; i++) { min = Math.min(min, w[i]); max = Math.max(max, w[i]); }
                        for (int i = g; i < g + 64; i++) {
                            double err = Math.abs(q[i] - w[i]), bound = switch (format) {
                                case FP8 -> Math.abs(w[i]) / 16 + tensorMax / 448 * 0x1p-10;
                                case AWQ -> 0.5 * (max - min) / 15 * 1.01 + 1e-7;
                                default -> Math.max(-min, max) / 15 * 1.01 + 1e-7;
                            };
                            assertThat(err).as("%s %s [%d][%d]", f, role, r, i).isLessThanOrEqualTo(bound);
                            worst = Math.max(worst, err / bound);
                        }
                    }
                }
                assertThat(worst).as("some weights round by a visible part of the bound").isGreaterThan(0.3);
            }
            assertThat(c.arch()).isEqualTo(hf.config().arch());
        }
        try (Model m = Model.load(dir, pool, ActivationPrecision.F32); SequenceRunner r = new SequenceRunner(m, KvCacheDtype.F32)) {
            for (float v : r.prefillAllLogits(new int[] {1, 2, 3})) assertThat(v).isFinite();
        }
    }

    @Test
    void ropeFrequencyFactorsAreRefused(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("l3.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-llama"), SyntheticModel.Mix.F32, 1, gguf);
        assertThatThrownBy(() -> HfFolderWriter.write(gguf, tmp.resolve("out"), Format.BF16, 64, Long.MAX_VALUE))
                .hasMessageContaining("rope_freqs.weight");
    }
}
