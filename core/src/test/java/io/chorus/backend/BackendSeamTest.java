package io.chorus.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.model.Batch;
import io.chorus.model.Model;
import io.chorus.model.SyntheticModel;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The model runs through the backend it is given: every weight, norm, product, rotation, KV write
 * and attention of a step is a call on the backend, in the order of the layer's computation, and a
 * backend that only passes the calls on gives the same logits, bit for bit, as the CPU backend alone.
 */
class BackendSeamTest {
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

    private static Path write(String shape, String mix) throws IOException {
        Path file = dir.resolve(shape + "-" + mix + ".gguf");
        if (!file.toFile().exists()) SyntheticModel.write(SyntheticModel.shape(shape), SyntheticModel.Mix.parse(mix), 11, file);
        return file;
    }

    /** Prefill of 3 tokens over blocks 3 and 1 (block size 2), logits of the last; then one decode step. */
    private static float[][] prefillThenDecode(Model m) {
        int[] table = {3, 1};
        Batch b = new Batch();
        b.addSequence(table, 2, new int[] {5, 77, 300}, 0, 3, 0);
        b.addLogitsForLastToken();
        float[] prefill = new float[m.vocabSize()];
        m.forward(b, prefill);
        b.clear();
        b.addSequence(table, 2, new int[] {41}, 0, 1, 3);
        b.addLogitsForLastToken();
        float[] decode = new float[m.vocabSize()];
        m.forward(b, decode);
        return new float[][] {prefill, decode};
    }

    private static List<String> layer(int l, int T, String slots) {
        String p = "blk." + l + ".";
        return List.of(
                "rmsnorm rows=" + T + " width=256",
                "matmul " + p + "attn_q.weight rows=" + T,
                "matmul " + p + "attn_k.weight rows=" + T,
                "matmul " + p + "attn_v.weight rows=" + T,
                "addBias rows=" + T + " width=256",
                "addBias rows=" + T + " width=128",
                "addBias rows=" + T + " width=128",
                "rope rows=" + T + " heads=4 neox",
                "rope rows=" + T + " heads=2 neox",
                "writeKv layer=" + l + " slots=" + slots,
                "attend layer=" + l + " rows=" + T + " window=0",
                "matmul " + p + "attn_output.weight rows=" + T,
                "add rows=" + T + " width=256",
                "rmsnorm rows=" + T + " width=256",
                "matmul " + p + "ffn_gate.weight rows=" + T,
                "matmul " + p + "ffn_up.weight rows=" + T,
                "swiglu n=" + T * 512,
                "matmul " + p + "ffn_down.weight rows=" + T,
                "add rows=" + T + " width=256");
    }

    private static List<String> step(int T, String[] ids, String slots) {
        List<String> calls = new ArrayList<>();
        for (String id : ids) calls.add("readRow token_embd.weight " + id);
        for (int l = 0; l < 2; l++) calls.addAll(layer(l, T, slots));
        calls.add("rmsnorm rows=1 width=256");
        calls.add("logits token_embd.weight rows=1 vocab=512 softcap=0.0");
        return calls;
    }

    @Test
    void aQwen2StepIsThisSequenceOfBackendCallsAndItsLogitsAreTheCpuBackendsBitForBit() throws IOException {
        Path file = write("tiny-qwen2", "Q8_0");
        RecordingBackend rec = new RecordingBackend(new CpuBackend(pool, ActivationPrecision.INT8));
        float[][] direct;
        try (Model m = Model.load(file, pool, ActivationPrecision.INT8)) {
            m.allocateKvCache(4, 2, KvCacheDtype.F16, 8);
            direct = prefillThenDecode(m);
        }
        try (Model m = Model.load(file, rec)) {
            List<String> load = new ArrayList<>(List.of("matrix token_embd.weight 512x256"));
            for (int l = 0; l < 2; l++) {
                String p = "blk." + l + ".";
                load.addAll(List.of("matrix " + p + "attn_q.weight 256x256", "matrix " + p + "attn_k.weight 128x256",
                        "matrix " + p + "attn_v.weight 128x256", "matrix " + p + "attn_output.weight 256x256",
                        "matrix " + p + "ffn_gate.weight 512x256", "matrix " + p + "ffn_up.weight 512x256",
                        "matrix " + p + "ffn_down.weight 256x512"));
            }
            assertThat(rec.calls).as("weights the backend made at load").isEqualTo(load);
            rec.calls.clear();

            assertThat(m.kvBytesPerBlock(16, KvCacheDtype.F16)).isEqualTo(2L * 2 * 16 * 128 * 2);
            m.allocateKvCache(4, 2, KvCacheDtype.F16, 8);
            assertThat(rec.calls).containsExactly("kvBytesPerBlock 16 F16", "allocateKvCache blocks=4 blockSize=2 F16 maxContext=8");
            assertThat(m.numBlocks()).isEqualTo(4);
            assertThat(m.blockSize()).isEqualTo(2);
            rec.calls.clear();

            float[][] seam = prefillThenDecode(m);
            List<String> expected = new ArrayList<>(step(3, new String[] {"5", "77", "300"}, "6,7,2"));
            expected.addAll(step(1, new String[] {"41"}, "3"));
            assertThat(rec.calls).isEqualTo(expected);
            assertBits(seam[0], direct[0]);
            assertBits(seam[1], direct[1]);

            rec.calls.clear();
            m.copyBlocks(new int[] {3, 1}, new int[] {0, 2}, 2);
            assertThat(rec.calls).containsExactly("copyBlocks count=2");
        }
    }

    /** The other layer shapes (fused q/k/v and gate/up, per-head norms, GeGLU and caps, windows, experts) also go through the backend only. */
    @ParameterizedTest
    @CsvSource({"tiny-phi3,F16,swigluFused rows=3 width=512,2",
            "tiny-qwen3,Q4_K_M,rmsnorm rows=12 width=128,2",   // q's 4 heads x 3 tokens, normed per head
            "tiny-gemma2,Q8_0,geglu rows=3 width=512,3",
            "tiny-qwen2moe,Q8_0,matmulF32 blk.1.ffn_gate_inp.weight rows=3,2",
            "tiny-mixtral,F32,scatterAdd rows=2,2"})
    void everyArchitecturePathRunsThroughTheBackendWithTheSameLogits(String shape, String mix, String call, int layers) throws IOException {
        Path file = write(shape, mix);
        RecordingBackend rec = new RecordingBackend(new CpuBackend(pool, ActivationPrecision.AUTO));
        float[][] direct;
        try (Model m = Model.load(file, pool, ActivationPrecision.AUTO)) {
            m.allocateKvCache(4, 2, KvCacheDtype.F32, 8);
            direct = prefillThenDecode(m);
        }
        try (Model m = Model.load(file, rec)) {
            m.allocateKvCache(4, 2, KvCacheDtype.F32, 8);
            rec.calls.clear();
            float[][] seam = prefillThenDecode(m);
            assertThat(rec.calls).contains(call);
            assertThat(rec.calls.stream().filter(c -> c.startsWith("attend ")).count()).isEqualTo(2L * layers);
            assertThat(rec.calls.stream().filter(c -> c.startsWith("logits ")).count()).isEqualTo(2);
            assertBits(seam[0], direct[0]);
            assertBits(seam[1], direct[1]);
        }
    }

    private static void assertBits(float[] got, float[] expected) {
        int[] g = new int[got.length], e = new int[expected.length];
        for (int i = 0; i < got.length; i++) g[i] = Float.floatToRawIntBits(got[i]);
        for (int i = 0; i < expected.length; i++) e[i] = Float.floatToRawIntBits(expected[i]);
        assertThat(g).isEqualTo(e);
    }
}
