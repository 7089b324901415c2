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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Phi-3's long-context rope: the rotation of q and k against a float64 reference at positions around
 * the original context, for the long and the short factors; a whole tiny phi3 model with longrope
 * against a float64 forward pass; and the same weights as GGUF and as a Hugging Face folder.
 */
class LongRopeTest {
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Phi-3.5-mini's rope (theta 10000, original context 4096, context 131072) with seeded factors. */
    private static ModelConfig config(int headDim, int rotDim, LongRope lr) {
        return new ModelConfig(Architecture.PHI3, "t", 4 * headDim, 1, 4, 2, headDim, 64, 64, 131072, 1e-5f, 1e4f, rotDim,
                false, 0, 0f, 0f, 1f, null, lr, null);
    }

    private static LongRope phi35Like(int half) {
        float[][] f = SyntheticModel.longRopeFactors(half, 7);
        return new LongRope(f[0], f[1], 4096, LongRope.derivedAttnFactor(131072, 4096));
    }

    @Test
    void attentionFactorIsDerivedAsTheConverterDoes() {
        // sqrt(1 + ln 32 / ln 4096) = sqrt(1 + 5/12)
        assertThat(LongRope.derivedAttnFactor(131072, 4096)).isEqualTo((float) Math.sqrt(17.0 / 12));
        assertThat(LongRope.derivedAttnFactor(4096, 4096)).isEqualTo(1f);
        LongRope lr = phi35Like(48);
        assertThat(lr.describe(131072)).isEqualTo("long factors (context 131072 > original 4096), attention factor 1.19");
        assertThat(lr.describe(4096)).isEqualTo("short factors (context 4096 <= original 4096), attention factor 1.19");
        assertThat(lr.factors(4097)).isSameAs(lr.longFactors());
        assertThat(lr.factors(4096)).isSameAs(lr.shortFactors());
    }

    /**
     * The model's rotation (its angles, then the backend's rope) of one layer's q and k equals a float64
     * rotation with the chosen factors and the attention factor, at positions 0, 1, 4095, 4096 and 5000;
     * and differs visibly from the rotation without the factors, without the attention factor, or with
     * the other set, so a line that drops any of them fails here. Phi-3.5's full rotation (96 of 96) and
     * Phi-4-mini's partial one (96 of 128).
     */
    @ParameterizedTest
    @CsvSource({"96,96,131072", "96,96,4097", "96,96,4096", "96,96,2048", "128,96,131072", "128,96,4096"})
    void rotationMatchesFloat64Reference(int headDim, int rotDim, int context) {
        int half = rotDim / 2;
        LongRope lr = phi35Like(half);
        ModelConfig c = config(headDim, rotDim, lr);
        boolean useLong = context > 4096;
        float[] chosen = useLong ? lr.longFactors() : lr.shortFactors(), other = useLong ? lr.shortFactors() : lr.longFactors();
        RotaryEmbedding rope = new RotaryEmbedding(c, null, context);
        SplittableRandom rnd = new SplittableRandom(11);
        try (CpuBackend backend = new CpuBackend(pool, ActivationPrecision.F32)) {
            for (int pos : new int[] {0, 1, 4095, 4096, 5000}) {
                float[] cos = new float[half], sin = new float[half];
                rope.angles(pos, cos, sin, 0);
                for (int heads : new int[] {c.heads(), c.kvHeads()}) { // q, then k
                    float[] x = new float[heads * headDim];
                    for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
                    double[] in = new double[x.length];
                    for (int i = 0; i < x.length; i++) in[i] = x[i];
                    backend.rope(x, 1, heads, headDim, rotDim, cos, sin, true);
                    double tolerance = 2e-6 + pos * 1.5e-7; // float32 frequencies: the angle's error grows with the position
                    assertThat(maxDiff(x, rotated(in, heads, headDim, half, pos, chosen, lr.attnFactor())))
                            .as("pos %d", pos).isLessThan(tolerance);
                    assertThat(maxDiff(x, rotated(in, heads, headDim, half, pos, chosen, 1.0))).as("without the attention factor").isGreaterThan(0.05);
                    if (pos > 0) {
                        assertThat(maxDiff(x, rotated(in, heads, headDim, half, pos, null, lr.attnFactor()))).as("without factors").isGreaterThan(0.05);
                        assertThat(maxDiff(x, rotated(in, heads, headDim, half, pos, other, lr.attnFactor()))).as("other set").isGreaterThan(0.05);
                    }
                }
            }
        }
    }

    private static double[] rotated(double[] in, int heads, int headDim, int half, int pos, float[] factors, double scale) {
        double[] x = in.clone();
        Phi3Float64.rope(x, heads, headDim, half, pos, 1e4, factors, scale);
        return x;
    }

    private static double maxDiff(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static final int[] PROMPT = {1, 343, 403, 511, 458, 453, 337, 261, 365, 501, 262, 268, 296, 456, 261, 359, 352, 346, 323, 271, 338, 511, 471, 442};

    /**
     * The tiny phi3 with longrope (original context 512, context 2048) against the float64 forward pass:
     * a cache for sequences of 1024 tokens takes the long factors, one of 512 the short ones, as llama.cpp
     * picks them from its context per sequence. Measured: within 1e-6 of the reference with the chosen
     * factors; 0.012-0.029 away without the factors, 0.015 without the attention factor, 0.023 with the
     * other set (random weights of std 0.02 make attention soft, so rope moves these logits little).
     */
    @Test
    void tinyModelMatchesFloat64ForwardWithTheChosenFactors(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("tiny-phi3-longrope.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-phi3-longrope"), SyntheticModel.Mix.F32, 3, gguf);
        try (Model m = Model.load(gguf, pool, ActivationPrecision.F32)) {
            LongRope lr = m.config().longRope();
            assertThat(lr.originalContext()).isEqualTo(512);
            assertThat(lr.attnFactor()).isEqualTo((float) Math.sqrt(1 + 2.0 / 9)); // ln 4 / ln 512
            for (int context : new int[] {1024, 512}) {
                float[] chosen = context > 512 ? lr.longFactors() : lr.shortFactors();
                float[] other = context > 512 ? lr.shortFactors() : lr.longFactors();
                float[] got = logits(m, context);
                assertThat(m.ropeScaling()).isEqualTo(lr.describe(context));
                double ok = maxDiff(got, Phi3Float64.logits(gguf, PROMPT, chosen, lr.attnFactor()));
                double noFactors = maxDiff(got, Phi3Float64.logits(gguf, PROMPT, null, lr.attnFactor()));
                double noScale = maxDiff(got, Phi3Float64.logits(gguf, PROMPT, chosen, 1));
                double otherSet = maxDiff(got, Phi3Float64.logits(gguf, PROMPT, other, lr.attnFactor()));
                assertThat(ok).isLessThan(1e-4);
                assertThat(noFactors).isGreaterThan(100 * 1e-4);
                assertThat(noScale).isGreaterThan(100 * 1e-4);
                assertThat(otherSet).isGreaterThan(100 * 1e-4);
            }
        }
    }

    /** The same weights as GGUF and as a Hugging Face folder (longrope in config.json) give the same logits, with either set. */
    @Test
    void ggufAndHfFolderGiveTheSameLogits(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("m.gguf"), dir = tmp.resolve("m");
        SyntheticModel.write(SyntheticModel.shape("tiny-phi3-longrope"), SyntheticModel.Mix.BF16, 4, gguf);
        HfFolderWriter.write(gguf, dir, HfFolderWriter.Format.BF16, 64, Long.MAX_VALUE);
        try (Model a = Model.load(gguf, pool, ActivationPrecision.F32); Model b = Model.load(dir, pool, ActivationPrecision.F32)) {
            assertThat(b.checkpoint()).isInstanceOf(HfCheckpoint.class);
            assertThat(b.config().longRope()).isEqualTo(a.config().longRope());
            for (int context : new int[] {1024, 512}) {
                float[] x = logits(a, context), y = logits(b, context);
                assertThat(b.ropeScaling()).isEqualTo(a.ropeScaling());
                double max = 0;
                for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
                assertThat(max).as("context %d: GGUF vs folder", context).isLessThan(1e-4);
            }
        }
    }

    private static float[] logits(Model m, int context) {
        m.allocateKvCache(context / 16, 16, KvCacheDtype.F32, context);
        Batch batch = new Batch();
        int[] table = new int[context / 16];
        for (int i = 0; i < table.length; i++) table[i] = table.length - 1 - i;
        batch.addSequence(table, 16, PROMPT, 0, PROMPT.length, 0);
        for (int i = 0; i < PROMPT.length; i++) batch.addLogitsRow(i);
        float[] out = new float[PROMPT.length * m.vocabSize()];
        m.forward(batch, out);
        return out;
    }

    private static double maxDiff(float[] a, double[][] b) {
        double m = 0;
        int vocab = b[0].length;
        for (int t = 0; t < b.length; t++) for (int v = 0; v < vocab; v++) m = Math.max(m, Math.abs(a[t * vocab + v] - b[t][v]));
        return m;
    }

    /** A minimal phi3 header (dim 32, 2 heads: 8 rotated pairs) with the given longrope tensors and keys. */
    private static Path header(Path dir, String name, float[] longF, float[] shortF, boolean orig, Float attn, GgmlType type) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "phi3")
                .putUInt32("phi3.embedding_length", 32).putUInt32("phi3.block_count", 1).putUInt32("phi3.attention.head_count", 2)
                .putUInt32("phi3.feed_forward_length", 64).putUInt32("phi3.context_length", 4096)
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {32, 8}, seg -> {});
        if (orig) w.putUInt32("phi3.rope.scaling.original_context_length", 1024);
        if (attn != null) w.putFloat32("phi3.rope.scaling.attn_factor", attn);
        for (Object[] t : new Object[][] {{LongRope.LONG_TENSOR, longF}, {LongRope.SHORT_TENSOR, shortF}}) {
            float[] f = (float[]) t[1];
            if (f == null) continue;
            if (type == GgmlType.F32) {
                w.addTensor((String) t[0], GgmlType.F32, new long[] {f.length}, seg -> MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, f.length));
            } else {
                w.addTensor((String) t[0], type, new long[] {f.length}, seg -> {});
            }
        }
        Path p = dir.resolve(name + ".gguf");
        w.write(p);
        return p;
    }

    private static float[] ones(int n) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, 1.5f);
        return f;
    }

    @Test
    void ggufEntryIsReadAndMalformedOnesAreNamed(@TempDir Path tmp) throws IOException {
        float[] shortF = ones(8);
        shortF[7] = 2.5f;
        try (GgufCheckpoint ck = GgufCheckpoint.open(header(tmp, "ok", ones(8), shortF, true, 1.25f, GgmlType.F32))) {
            assertThat(ck.config().longRope()).isEqualTo(new LongRope(ones(8), shortF, 1024, 1.25f));
        }
        // without the key, llama.cpp's attention factor of 1
        try (GgufCheckpoint ck = GgufCheckpoint.open(header(tmp, "noattn", ones(8), ones(8), true, null, GgmlType.F32))) {
            assertThat(ck.config().longRope().attnFactor()).isEqualTo(1f);
        }
        Path p = header(tmp, "len", ones(7), ones(8), true, 1.19f, GgmlType.F32);
        assertThatThrownBy(() -> GgufCheckpoint.open(p)).isInstanceOf(GgufException.class)
                .hasMessage(p + ": tensor rope_factors_long.weight has 7 values, expected 8 (rotated dimensions / 2)");
        float[] zero = ones(8);
        zero[3] = 0;
        Path p2 = header(tmp, "zero", ones(8), zero, true, 1.19f, GgmlType.F32);
        assertThatThrownBy(() -> GgufCheckpoint.open(p2)).isInstanceOf(GgufException.class)
                .hasMessage(p2 + ": tensor rope_factors_short.weight value 3 is 0.0; every factor must be positive");
        Path p3 = header(tmp, "orig", ones(8), ones(8), false, 1.19f, GgmlType.F32);
        assertThatThrownBy(() -> GgufCheckpoint.open(p3)).isInstanceOf(GgufException.class)
                .hasMessage(p3 + ": metadata phi3.rope.scaling.original_context_length is missing (longrope needs the original context)");
        Path p4 = header(tmp, "one", ones(8), null, true, 1.19f, GgmlType.F32);
        assertThatThrownBy(() -> GgufCheckpoint.open(p4)).isInstanceOf(GgufException.class)
                .hasMessageStartingWith(p4 + ": tensor rope_factors_short.weight is missing");
        Path p5 = header(tmp, "f16", ones(8), ones(8), true, 1.19f, GgmlType.F16);
        assertThatThrownBy(() -> GgufCheckpoint.open(p5)).isInstanceOf(GgufException.class)
                .hasMessage(p5 + ": tensor rope_factors_long.weight has type F16, expected F32");
        Path p6 = header(tmp, "attn", null, null, true, 1.19f, GgmlType.F32);
        try (GgufCheckpoint ck = GgufCheckpoint.open(p6)) { // an attention factor alone scales cos and sin, as in llama.cpp
            assertThat(ck.config().longRope()).isNull();
            assertThat(ck.config().ropeScaling()).isEqualTo(new RopeScaling(false, 1f, 1024, 32f, 1f, 1.19f));
        }
        try (GgufCheckpoint ck = GgufCheckpoint.open(header(tmp, "none", null, null, false, null, GgmlType.F32))) {
            assertThat(ck.config().longRope()).isNull();
        }
    }
}
