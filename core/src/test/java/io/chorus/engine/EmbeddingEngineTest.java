package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.Pooling;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.kv.BlockPool;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.model.SyntheticModel;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Embedding requests through the engine: prefill only, pooled final hidden states, blocks freed at once.
 *
 * <p>The reference: for a model with tied embeddings, logits = E h for each position's normed hidden
 * state h, so E applied to a pooled vector must be proportional to the pooled float64 reference
 * logits (mean of every row, the first row, the last row). That checks the pooled hidden state
 * against an independent forward pass, at every vocabulary entry.
 */
class EmbeddingEngineTest {
    @TempDir static Path dir;
    private static WorkerPool pool;
    private static Path tiny;

    @BeforeAll
    static void start() throws IOException {
        pool = new WorkerPool(2);
        tiny = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 11, tiny);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Runs the requests to completion on this thread; returns each request's embedding. */
    private static Map<String, float[]> run(Model model, List<EngineRequest> requests, int maxBatched) {
        model.allocateKvCache(256, 4, KvCacheDtype.F32, 256);
        EngineConfig cfg = new EngineConfig(16, maxBatched, 256, true, SchedulingPolicy.FCFS, List.of());
        EngineLoop loop = Engine.create(cfg, model, new TemperatureSampler());
        Map<String, RequestHandle> handles = new LinkedHashMap<>();
        for (EngineRequest r : requests) handles.put(r.requestId(), loop.submit(r));
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int guard = 0; loop.step() || loop.hasLiveRequests(); guard++) {
            if (guard > 10_000) throw new AssertionError("engine did not finish");
            drain(handles, out);
        }
        drain(handles, out);
        BlockPool blocks = loop.scheduler().kv().pool();
        assertThat(blocks.numFreeBlocks()).as("every block free once no request is alive").isEqualTo(blocks.numBlocks());
        assertThat(loop.stats().generationTokens()).as("nothing is generated").isZero();
        return out;
    }

    private static void drain(Map<String, RequestHandle> handles, Map<String, float[]> out) {
        for (var e : handles.entrySet()) {
            try {
                for (RequestOutput o; (o = e.getValue().next(Duration.ZERO)) != null; ) {
                    assertThat(o.error()).isNull();
                    assertThat(o.newTokenIds()).isEmpty();
                    assertThat(o.finishReason()).isEqualTo(FinishReason.STOP);
                    assertThat(out.put(e.getKey(), o.embedding())).as("one output per request").isNull();
                }
            } catch (TimeoutException empty) {
                // nothing more this step
            } catch (InterruptedException ie) {
                throw new AssertionError(ie);
            }
        }
    }

    private static int[] prompt(int seed, int len) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[len];
        for (int i = 0; i < len; i++) p[i] = 5 + r.nextInt(500);
        return p;
    }

    @ParameterizedTest
    @EnumSource(Pooling.class)
    void pooledVectorMatchesTheFloat64ReferenceForward(Pooling pooling) throws IOException {
        Path gguf = Fixtures.require("models/llama-f32.gguf");
        JsonNode ref = new ObjectMapper().readTree(gguf.resolveSibling("llama-f32.ref.json").toFile());
        int[] prompt = new int[ref.get("prompt_ids").size()];
        for (int i = 0; i < prompt.length; i++) prompt[i] = ref.get("prompt_ids").get(i).asInt();
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(gguf.resolveSibling("llama-f32.ref64.f32"))).order(ByteOrder.LITTLE_ENDIAN);
        try (Model model = Model.load(gguf, pool, ActivationPrecision.F32)) {
            int vocab = model.vocabSize(), dim = model.hiddenSize();
            double[] expected = new double[vocab]; // the pooled reference logits
            int rows = 0;
            for (int row = 0; row < prompt.length; row++) {
                boolean wanted = switch (pooling) {
                    case MEAN -> true;
                    case CLS -> row == 0;
                    case LAST -> row == prompt.length - 1;
                };
                for (int v = 0; v < vocab; v++) {
                    float f = b.getFloat((row * vocab + v) * 4);
                    if (wanted) expected[v] += f;
                }
                if (wanted) rows++;
            }
            for (int v = 0; v < vocab; v++) expected[v] /= rows;
            // in 5-token chunks, so a mean is summed over several steps
            float[] e = run(model, List.of(EngineRequest.embedding("e", prompt, pooling, null)), 5).get("e");
            assertThat(e).hasSize(dim);
            double norm = 0;
            for (float x : e) norm += x * x;
            assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            io.chorus.model.checkpoint.TensorData embd = model.checkpoint().tensor("token_embd.weight");
            double[] z = new double[vocab];
            for (int v = 0; v < vocab; v++) {
                for (int i = 0; i < dim; i++) z[v] += embd.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) v * dim + i) * e[i];
            }
            // z = expected / |pooled h|: find the scale, then compare every entry at the fixtures' logit tolerance
            double zz = 0, ze = 0;
            for (int v = 0; v < vocab; v++) { zz += z[v] * z[v]; ze += z[v] * expected[v]; }
            double scale = ze / zz;
            assertThat(scale).isPositive();
            double maxDiff = 0;
            for (int v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(z[v] * scale - expected[v]));
            assertThat(maxDiff).as("max abs diff of the pooled logits").isLessThan(0.05);
        }
    }

    @Test
    void anInputAloneAndInABatchOfEightGiveIdenticalVectors() throws IOException {
        int[] mine = prompt(1, 21);
        try (Model model = Model.load(tiny, pool)) {
            float[] alone = run(model, List.of(EngineRequest.embedding("me", mine, Pooling.MEAN, null)), 256).get("me");
            List<EngineRequest> crowd = new ArrayList<>();
            for (int i = 0; i < 7; i++) crowd.add(EngineRequest.embedding("r" + i, prompt(100 + i, 3 + 4 * i), Pooling.MEAN, null));
            crowd.add(3, EngineRequest.embedding("me", mine, Pooling.MEAN, null));
            Map<String, float[]> together = run(model, crowd, 256);
            assertThat(together).hasSize(8);
            assertThat(together.get("me")).containsExactly(alone);
            assertThat(together.get("r0")).isNotEqualTo(alone);
            float[] last = run(model, List.of(EngineRequest.embedding("me", mine, Pooling.LAST, null)), 256).get("me");
            assertThat(last).isNotEqualTo(alone);
        }
    }
}
