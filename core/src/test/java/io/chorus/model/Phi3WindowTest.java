package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.model.checkpoint.GgufCheckpoint;
import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.checkpoint.HfFolderWriter;
import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Phi-3's sliding window: every layer of a phi3 model lets the query at position p see key positions
 * p - window + 1 .. p, llama.cpp's mask (it drops k when p - k >= n_swa) and transformers' alike. The
 * window as llama.cpp reads it from GGUF, a tiny phi3 against a float64 forward pass at positions past the
 * window (prefill and batched decode), and the same weights as GGUF and as a Hugging Face folder.
 */
class Phi3WindowTest {
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** A phi3 header of the given size, with the window key when {@code window} is not null. */
    private static Path header(Path dir, String name, int layers, int kvHeads, int context, Integer window) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "phi3")
                .putUInt32("phi3.embedding_length", 64).putUInt32("phi3.block_count", layers).putUInt32("phi3.attention.head_count", 32)
                .putUInt32("phi3.attention.head_count_kv", kvHeads).putUInt32("phi3.feed_forward_length", 64)
                .putUInt32("phi3.context_length", context)
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {64, 8}, seg -> {});
        if (window != null) w.putUInt32("phi3.attention.sliding_window", window);
        Path p = dir.resolve(name + ".gguf");
        w.write(p);
        return p;
    }

    private static ModelConfig config(Path p) {
        try (GgufCheckpoint ck = GgufCheckpoint.open(p)) {
            return ck.config();
        }
    }

    /**
     * The key as written (2047 in Phi-3-mini-4k's GGUFs, 0 for Phi-4), else llama.cpp b4748's defaults by
     * the published models' sizes; every layer is windowed when there is a window, none when it is 0.
     */
    @ParameterizedTest
    @CsvSource({
            "32,32,4096,2047,2047", "32,32,4096,,2047", "40,8,4096,,2047", "32,32,131072,,262144", "40,8,131072,,131072",
            "32,8,131072,,0", "24,32,4096,,0", "2,4,1024,,0", "32,32,4096,0,0", "32,32,131072,262144,262144", "2,4,1024,7,7"})
    void ggufWindowIsReadAsLlamaCppReadsIt(int layers, int kvHeads, int context, Integer key, int expected, @TempDir Path tmp) throws IOException {
        ModelConfig c = config(header(tmp, "m", layers, kvHeads, context, key));
        assertThat(c.slidingWindow()).isEqualTo(expected);
        for (int l = 0; l < layers; l++) assertThat(c.windowed(l)).as("layer %d", l).isEqualTo(expected > 0);
    }

    @Test
    void aNegativeWindowIsNamed(@TempDir Path tmp) throws IOException {
        Path p = tmp.resolve("neg.gguf");
        new GgufWriter().putString("general.architecture", "phi3")
                .putUInt32("phi3.embedding_length", 64).putUInt32("phi3.block_count", 1).putUInt32("phi3.attention.head_count", 32)
                .putUInt32("phi3.feed_forward_length", 64).putInt32("phi3.attention.sliding_window", -5)
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {64, 8}, seg -> {}).write(p);
        assertThatThrownBy(() -> config(p)).isInstanceOf(UnsupportedModelException.class)
                .hasMessage(p + ": metadata phi3.attention.sliding_window = -5 must not be negative");
    }

    private static int[] prompt(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = rnd.nextInt(512);
        return p;
    }

    private static final int N = 64;

    /**
     * The tiny phi3 (2 layers) with windows shorter than, as long as and longer than a KV block, against
     * the float64 forward pass with the same window, over 64 positions: first as one prefill, then as a
     * 10-token prefill followed by one decode step per token, each step in a batch with a second sequence
     * that decodes beside it. Measured: within 9e-7 of the reference; the reference with the window one
     * shorter or one longer is 0.047-0.44 away, without a window 0.16-0.89: the boundary is exact.
     */
    @ParameterizedTest
    @CsvSource({"5,4", "5,16", "16,16", "40,4"})
    void tinyModelMatchesFloat64ForwardWithTheWindow(int window, int blockSize, @TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("w.gguf");
        SyntheticModel.Shape s = new SyntheticModel.Shape("w", Architecture.PHI3, 256, 2, 4, 4, 64, 512, 512, 1024, 1e4f, 1e-5f, false, false, window);
        SyntheticModel.write(s, SyntheticModel.Mix.F32, 5, gguf);
        int[] prompt = prompt(N, 9), other = prompt(N, 10);
        double[][] ref = Phi3Float64.logits(gguf, prompt, null, 1, window);
        double[][] otherRef = Phi3Float64.logits(gguf, other, null, 1, window);
        try (Model m = Model.load(gguf, pool, ActivationPrecision.F32)) {
            assertThat(m.config().slidingWindow()).isEqualTo(window);
            int blocks = N / blockSize;
            m.allocateKvCache(2 * blocks, blockSize, KvCacheDtype.F32, N);
            int[] table = new int[blocks], otherTable = new int[blocks];
            for (int i = 0; i < blocks; i++) { // interleaved and reversed, so the window's blocks are scattered
                table[i] = 2 * (blocks - 1 - i);
                otherTable[i] = 2 * i + 1;
            }
            Batch batch = new Batch();
            batch.addSequence(table, blockSize, prompt, 0, N, 0);
            for (int i = 0; i < N; i++) batch.addLogitsRow(i);
            float[] got = new float[N * m.vocabSize()];
            m.forward(batch, got);
            assertThat(maxDiff(got, ref, 0, N)).isLessThan(1e-5);
            assertThat(maxDiff(got, Phi3Float64.logits(gguf, prompt, null, 1, window - 1), 0, N)).as("window - 1").isGreaterThan(1e-3);
            assertThat(maxDiff(got, Phi3Float64.logits(gguf, prompt, null, 1, window + 1), 0, N)).as("window + 1").isGreaterThan(1e-3);
            assertThat(maxDiff(got, Phi3Float64.logits(gguf, prompt, null, 1, 0), 0, N)).as("no window").isGreaterThan(1e-3);

            // prefill 10, then decode one token per step beside another sequence doing the same
            int vocab = m.vocabSize();
            float[] two = new float[2 * vocab];
            batch.clear();
            batch.addSequence(table, blockSize, prompt, 0, 10, 0);
            batch.addSequence(otherTable, blockSize, other, 0, 10, 0);
            m.forward(batch, new float[0]);
            double worst = 0;
            for (int pos = 10; pos < N; pos++) {
                batch.clear();
                batch.addSequence(table, blockSize, prompt, pos, 1, pos);
                batch.addLogitsForLastToken();
                batch.addSequence(otherTable, blockSize, other, pos, 1, pos);
                batch.addLogitsForLastToken();
                m.forward(batch, two);
                for (int v = 0; v < vocab; v++) {
                    worst = Math.max(worst, Math.abs(two[v] - ref[pos][v]));
                    worst = Math.max(worst, Math.abs(two[vocab + v] - otherRef[pos][v]));
                }
            }
            assertThat(worst).as("decoded past the window, batched").isLessThan(1e-5);
        }
    }

    /** The same weights as GGUF and as a Hugging Face folder (sliding_window in config.json) give the same logits past the window. */
    @Test
    void ggufAndHfFolderGiveTheSameLogits(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("m.gguf"), dir = tmp.resolve("m");
        SyntheticModel.write(SyntheticModel.shape("tiny-phi3-window"), SyntheticModel.Mix.BF16, 4, gguf);
        HfFolderWriter.write(gguf, dir, HfFolderWriter.Format.BF16, 64, Long.MAX_VALUE);
        int[] prompt = prompt(40, 3);
        try (Model a = Model.load(gguf, pool, ActivationPrecision.F32); Model b = Model.load(dir, pool, ActivationPrecision.F32)) {
            assertThat(b.checkpoint()).isInstanceOf(HfCheckpoint.class);
            assertThat(a.config().slidingWindow()).isEqualTo(11);
            assertThat(b.config().slidingWindow()).isEqualTo(11);
            assertThat(b.config().contextLength()).isEqualTo(1024); // the window no longer caps the context
            float[] x = allLogits(a, prompt), y = allLogits(b, prompt);
            double max = 0;
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
            assertThat(max).as("GGUF vs folder").isLessThan(1e-4);
            // and both are windowed: the last position differs from the whole-context reference
            double[][] global = Phi3Float64.logits(gguf, prompt, null, 1, 0);
            assertThat(maxDiff(x, global, 30, 40)).isGreaterThan(1e-3);
            assertThat(maxDiff(x, Phi3Float64.logits(gguf, prompt, null, 1, 11), 0, 40)).isLessThan(1e-4);
        }
    }

    private static float[] allLogits(Model m, int[] prompt) {
        m.allocateKvCache(4, 16, KvCacheDtype.F32, 64);
        Batch batch = new Batch();
        batch.addSequence(new int[] {3, 1, 2, 0}, 16, prompt, 0, prompt.length, 0);
        for (int i = 0; i < prompt.length; i++) batch.addLogitsRow(i);
        float[] out = new float[prompt.length * m.vocabSize()];
        m.forward(batch, out);
        return out;
    }

    /** Largest |a - b| over rows from .. to of [rows][vocab] logits. */
    private static double maxDiff(float[] a, double[][] b, int from, int to) {
        double m = 0;
        int vocab = b[0].length;
        for (int t = from; t < to; t++) for (int v = 0; v < vocab; v++) m = Math.max(m, Math.abs(a[t * vocab + v] - b[t][v]));
        return m;
    }
}
