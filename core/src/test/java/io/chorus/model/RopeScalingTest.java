package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.backend.CpuBackend;
import io.chorus.model.checkpoint.GgufCheckpoint;
import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.checkpoint.HfFolderWriter;
import io.chorus.model.gguf.GgufException;
import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Linear and YaRN rope scaling from GGUF's {@code rope.scaling.*} keys: the rotation of q and k against
 * a float64 transcription of llama.cpp's rope_yarn, a tiny phi3 with yarn against the float64 forward
 * pass, GGUF against Hugging Face folder, and what a malformed or unknown entry says.
 */
class RopeScalingTest {
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /**
     * llama.cpp's rope_yarn in float64, written from its definition: pair i's angle pos * base^(-2i/n)
     * (divided by a frequency factor) extrapolates below the corr dims and interpolates (divided by the
     * factor) above, ramping between; the corr dims are the pairs turning 32 and 1 times over the original
     * context, floored and ceiled. Returns the divisor of each pair's frequency.
     */
    static double[] yarnDivisors(int rotDim, double base, double factor, int orig, boolean yarn) {
        int half = rotDim / 2;
        double[] d = new double[half];
        double low = Math.max(0, Math.floor(rotDim * Math.log(orig / (32 * 2 * Math.PI)) / (2 * Math.log(base))));
        double high = Math.min(rotDim - 1, Math.ceil(rotDim * Math.log(orig / (1 * 2 * Math.PI)) / (2 * Math.log(base))));
        for (int i = 0; i < half; i++) {
            double extrap = 1, interp = 1 / factor; // multipliers of the unscaled angle
            double mix = yarn ? 1 - Math.min(1, Math.max(0, (i - low) / Math.max(0.001, high - low))) : 0;
            d[i] = 1 / (interp * (1 - mix) + extrap * mix);
        }
        return d;
    }

    static double yarnMscale(double factor) {
        return 1 + 0.1 * Math.log(factor);
    }

    private static ModelConfig config(int headDim, int rotDim, float theta, RopeScaling rs) {
        return new ModelConfig(Architecture.QWEN2, "t", 4 * headDim, 1, 4, 2, headDim, 64, 64, 4096, 1e-6f, theta, rotDim,
                false, 0, 0f, 0f, 1f, null, null, rs);
    }

    /**
     * The model's rotation (its angles, then the backend's rope) equals the float64 rope_yarn at positions
     * 0, 1, 255, 256, 1000 and 4000; and differs visibly without the mscale, with linear scaling in place of
     * yarn's blend, or unscaled. Qwen2.5's theta 1e6 and Llama 2's 1e4, whole and partial rotation.
     */
    @ParameterizedTest
    @CsvSource({"64,64,1e6,4,256", "64,64,1e4,4,256", "128,128,1e6,4,32768", "128,96,1e4,8,2048", "64,64,1e6,2.5,500"})
    void yarnRotationMatchesFloat64Reference(int headDim, int rotDim, float theta, float factor, int orig) {
        RopeScaling rs = new RopeScaling(true, factor, orig, 32f, 1f, RopeScaling.yarnMscale(factor));
        double[] div = yarnDivisors(rotDim, theta, factor, orig, true);
        double mscale = yarnMscale(factor);
        ModelConfig c = config(headDim, rotDim, theta, rs);
        RotaryEmbedding rope = new RotaryEmbedding(c, null, 4096);
        assertThat(rope.describe()).startsWith("yarn factor ");
        int half = rotDim / 2;
        SplittableRandom rnd = new SplittableRandom(5);
        try (CpuBackend backend = new CpuBackend(pool, ActivationPrecision.F32)) {
            for (int pos : new int[] {0, 1, 255, 256, 1000, 4000}) {
                float[] cos = new float[half], sin = new float[half];
                rope.angles(pos, cos, sin, 0);
                float[] x = new float[4 * headDim];
                for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
                double[] in = new double[x.length];
                for (int i = 0; i < x.length; i++) in[i] = x[i];
                backend.rope(x, 1, 4, headDim, rotDim, cos, sin, true);
                double tolerance = 2e-6 + pos * 1.5e-7; // float32 frequencies: the angle's error grows with the position
                assertThat(maxDiff(x, rotated(in, headDim, half, pos, theta, div, mscale))).as("pos %d", pos).isLessThan(tolerance);
                assertThat(maxDiff(x, rotated(in, headDim, half, pos, theta, div, 1))).as("without mscale").isGreaterThan(0.02);
                if (pos >= 255) { // at small positions only the slow, interpolated pairs would tell them apart
                    double[] linear = yarnDivisors(rotDim, theta, factor, orig, false);
                    assertThat(maxDiff(x, rotated(in, headDim, half, pos, theta, linear, mscale))).as("linear instead of yarn").isGreaterThan(0.05);
                    assertThat(maxDiff(x, rotated(in, headDim, half, pos, theta, null, mscale))).as("unscaled").isGreaterThan(0.05);
                }
            }
        }
    }

    @Test
    void linearRotationDividesEveryFrequency() {
        RopeScaling rs = new RopeScaling(false, 4f, 4096, 32f, 1f, 1f);
        ModelConfig c = config(64, 64, 1e4f, rs);
        RotaryEmbedding rope = new RotaryEmbedding(c, null, 4096);
        assertThat(rope.describe()).isEqualTo("linear factor 4, attention factor 1.00");
        float[] cos = new float[32], sin = new float[32];
        rope.angles(1000, cos, sin, 0);
        for (int i = 0; i < 32; i++) {
            double angle = 1000 * Math.pow(1e4, -2.0 * i / 64) / 4;
            assertThat((double) cos[i]).as("pair %d", i).isCloseTo(Math.cos(angle), org.assertj.core.data.Offset.offset(1e-4));
            assertThat((double) sin[i]).as("pair %d", i).isCloseTo(Math.sin(angle), org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void corrDimsAreLlamaCppsForQwen25() {
        // Qwen2.5 with YaRN: theta 1e6, head dim 128, original context 32768: pairs up to 23 keep their
        // frequency, pairs from 40 are divided by 4, those between blend
        RopeScaling rs = new RopeScaling(true, 4f, 32768, 32f, 1f, RopeScaling.yarnMscale(4f));
        // 128 ln(32768 / (32 * 2 pi)) / (2 ln 1e6) = 23.6, 128 ln(32768 / (2 pi)) / (2 ln 1e6) = 39.65
        double lo = Math.floor(128 * Math.log(32768 / (32 * 2 * Math.PI)) / (2 * Math.log(1e6)));
        double hi = Math.ceil(128 * Math.log(32768 / (2 * Math.PI)) / (2 * Math.log(1e6)));
        assertThat(rs.corrDims(128, 1e6f)).containsExactly((float) lo, (float) hi);
        assertThat(rs.corrDims(128, 1e6f)).containsExactly(23f, 40f);
        assertThat(RopeScaling.yarnMscale(4f)).isEqualTo(1f + 0.1f * (float) Math.log(4));
        assertThat(rs.scaledContext(32768)).isEqualTo(131072);
        assertThat(rs.describe()).isEqualTo("yarn factor 4 from original context 32768, attention factor 1.14");
    }

    private static double[] rotated(double[] in, int headDim, int half, int pos, double theta, double[] div, double scale) {
        double[] x = in.clone();
        Phi3Float64.rotate(x, 4, headDim, half, pos, theta, div, scale);
        return x;
    }

    private static double maxDiff(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static int[] prompt(int n) {
        SplittableRandom rnd = new SplittableRandom(8);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = rnd.nextInt(512);
        return p;
    }

    /**
     * A tiny phi3 with yarn (factor 4 over an original context of 64: pair 0 keeps its frequency, pairs
     * from 9 are divided by 4, those between blend) against the float64 forward pass with llama.cpp's rope_yarn; without the
     * mscale or with linear scaling instead, the reference is far away.
     */
    @Test
    void tinyModelWithYarnMatchesFloat64Forward(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("y.gguf");
        RopeScaling rs = new RopeScaling(true, 4f, 64, 32f, 1f, RopeScaling.yarnMscale(4f));
        SyntheticModel.Shape s = SyntheticModel.shape("tiny-phi3").withRopeScaling("y", rs);
        SyntheticModel.write(s, SyntheticModel.Mix.F32, 6, gguf);
        int[] p = prompt(64);
        try (Model m = Model.load(gguf, pool, ActivationPrecision.F32)) {
            assertThat(m.config().ropeScaling()).isEqualTo(rs);
            assertThat(m.config().contextLength()).isEqualTo(1024); // the file's, larger than 64 x 4
            assertThat(rs.corrDims(64, 1e4f)).containsExactly(0f, 9f);
            float[] got = logits(m, p);
            double[] div = yarnDivisors(64, 1e4, 4, 64, true);
            double ok = maxDiff(got, Phi3Float64.logitsWithDivisors(gguf, p, div, yarnMscale(4), 0));
            double noMscale = maxDiff(got, Phi3Float64.logitsWithDivisors(gguf, p, div, 1, 0));
            double linear = maxDiff(got, Phi3Float64.logitsWithDivisors(gguf, p, yarnDivisors(64, 1e4, 4, 64, false), yarnMscale(4), 0));
            assertThat(ok).isLessThan(1e-5);
            assertThat(noMscale).isGreaterThan(1e-3);
            assertThat(linear).isGreaterThan(1e-3);
        }
    }

    private static float[] logits(Model m, int[] prompt) {
        m.allocateKvCache(4, 16, KvCacheDtype.F32, 64);
        Batch batch = new Batch();
        batch.addSequence(new int[] {2, 0, 3, 1}, 16, prompt, 0, prompt.length, 0);
        for (int i = 0; i < prompt.length; i++) batch.addLogitsRow(i);
        float[] out = new float[prompt.length * m.vocabSize()];
        m.forward(batch, out);
        return out;
    }

    private static double maxDiff(float[] a, double[][] b) {
        double m = 0;
        int vocab = b[0].length;
        for (int t = 0; t < b.length; t++) for (int v = 0; v < vocab; v++) m = Math.max(m, Math.abs(a[t * vocab + v] - b[t][v]));
        return m;
    }

    /** The same weights as GGUF and as a Hugging Face folder (rope_scaling yarn / linear in config.json) give the same logits. */
    @ParameterizedTest
    @CsvSource({"tiny-qwen2-yarn", "tiny-llama-linear"})
    void ggufAndHfFolderGiveTheSameLogits(String shape, @TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("m.gguf"), dir = tmp.resolve("m");
        SyntheticModel.write(SyntheticModel.shape(shape), SyntheticModel.Mix.BF16, 4, gguf);
        HfFolderWriter.write(gguf, dir, HfFolderWriter.Format.BF16, 64, Long.MAX_VALUE);
        int[] p = prompt(64);
        try (Model a = Model.load(gguf, pool, ActivationPrecision.F32); Model b = Model.load(dir, pool, ActivationPrecision.F32)) {
            assertThat(b.checkpoint()).isInstanceOf(HfCheckpoint.class);
            assertThat(a.config().ropeScaling()).isNotNull();
            if (a.config().ropeScaling().yarn()) {
                assertThat(b.config().ropeScaling()).isEqualTo(a.config().ropeScaling());
                assertThat(a.config().contextLength()).isEqualTo(1024); // 256 x 4
                assertThat(b.config().contextLength()).isEqualTo(1024);
            }
            float[] x = logits(a, p), y = logits(b, p);
            double max = 0;
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
            assertThat(max).as("GGUF vs folder").isLessThan(1e-4);
        }
    }

    /** A llama header with the given rope scaling keys. */
    private static Path header(Path dir, String name, Consumer<GgufWriter> keys) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
                .putUInt32("llama.embedding_length", 64).putUInt32("llama.block_count", 1).putUInt32("llama.attention.head_count", 2)
                .putUInt32("llama.feed_forward_length", 64).putUInt32("llama.context_length", 4096)
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {64, 8}, seg -> {});
        keys.accept(w);
        Path p = dir.resolve(name + ".gguf");
        w.write(p);
        return p;
    }

    private static RopeScaling scaling(Path p) {
        try (GgufCheckpoint ck = GgufCheckpoint.open(p)) {
            return ck.config().ropeScaling();
        }
    }

    @Test
    void ggufKeysAreReadAsLlamaCppReadsThem(@TempDir Path tmp) throws IOException {
        assertThat(scaling(header(tmp, "plain", w -> {}))).isNull();
        assertThat(scaling(header(tmp, "one", w -> w.putString("llama.rope.scaling.type", "linear").putFloat32("llama.rope.scaling.factor", 1f)))).isNull();
        assertThat(scaling(header(tmp, "zero", w -> w.putFloat32("llama.rope.scaling.factor", 0f)))).isNull();
        assertThat(scaling(header(tmp, "none", w -> w.putString("llama.rope.scaling.type", "none").putFloat32("llama.rope.scaling.factor", 4f)))).isNull();
        assertThat(scaling(header(tmp, "lin", w -> w.putString("llama.rope.scaling.type", "linear").putFloat32("llama.rope.scaling.factor", 4f))))
                .isEqualTo(new RopeScaling(false, 4f, 4096, 32f, 1f, 1f));
        // no type: linear, as llama.cpp defaults it; the older key name
        assertThat(scaling(header(tmp, "old", w -> w.putFloat32("llama.rope.scale_linear", 2f)))).isEqualTo(new RopeScaling(false, 2f, 4096, 32f, 1f, 1f));
        Path yarn = header(tmp, "yarn", w -> w.putString("llama.rope.scaling.type", "yarn").putFloat32("llama.rope.scaling.factor", 4f)
                .putUInt32("llama.rope.scaling.original_context_length", 2048).putFloat32("llama.rope.scaling.attn_factor", 1.5f));
        assertThat(scaling(yarn)).isEqualTo(new RopeScaling(true, 4f, 2048, 32f, 1f, 1.5f * RopeScaling.yarnMscale(4f)));
        try (GgufCheckpoint ck = GgufCheckpoint.open(yarn)) {
            assertThat(ck.config().contextLength()).isEqualTo(8192); // 2048 x 4 > 4096
        }
        // yarn without the original context: the file's context
        assertThat(scaling(header(tmp, "yarn2", w -> w.putString("llama.rope.scaling.type", "yarn").putFloat32("llama.rope.scaling.factor", 2f))).originalContext())
                .isEqualTo(4096);
    }

    @Test
    void unknownTypesAndMalformedValuesAreNamed(@TempDir Path tmp) throws IOException {
        Path p = header(tmp, "dyn", w -> w.putString("llama.rope.scaling.type", "dynamic").putFloat32("llama.rope.scaling.factor", 2f));
        assertThatThrownBy(() -> scaling(p)).isInstanceOf(UnsupportedModelException.class)
                .hasMessage(p + ": metadata llama.rope.scaling.type = 'dynamic' is not supported (supported: none, linear, yarn, longrope)");
        Path p2 = header(tmp, "neg", w -> w.putString("llama.rope.scaling.type", "linear").putFloat32("llama.rope.scaling.factor", -2f));
        assertThatThrownBy(() -> scaling(p2)).isInstanceOf(GgufException.class)
                .hasMessage(p2 + ": metadata llama.rope.scaling.factor = -2.0 must be positive");
        Path p3 = header(tmp, "small", w -> w.putString("llama.rope.scaling.type", "yarn").putFloat32("llama.rope.scaling.factor", 0.5f));
        assertThatThrownBy(() -> scaling(p3)).isInstanceOf(GgufException.class)
                .hasMessage(p3 + ": metadata llama.rope.scaling.factor = 0.5 must be at least 1 for yarn");
        Path p4 = header(tmp, "lr", w -> w.putString("llama.rope.scaling.type", "longrope"));
        assertThatThrownBy(() -> scaling(p4)).isInstanceOf(GgufException.class)
                .hasMessage(p4 + ": metadata llama.rope.scaling.type = 'longrope' without tensors rope_factors_long.weight and rope_factors_short.weight");
        Path p5 = header(tmp, "attn", w -> w.putFloat32("llama.rope.scaling.attn_factor", 0f));
        assertThatThrownBy(() -> scaling(p5)).isInstanceOf(GgufException.class)
                .hasMessage(p5 + ": metadata llama.rope.scaling.attn_factor = 0.0 must be positive");
    }
}
