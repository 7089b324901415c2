package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.kv.BlockPool;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.model.SyntheticModel;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warm-up runs every hot path (a prefill chunk, single-sequence decode, max-num-seqs decode) and
 * leaves the served engine as if it had never run: every block free, nothing in the prefix cache,
 * every counter zero, and the same output as from a cold model.
 */
class WarmupTest {
    @TempDir static Path dir;
    private static WorkerPool pool;
    private static Path file;
    private static final int BLOCK = 4, BLOCKS = 64, SEQS = 8, BATCHED = 64, LEN = 256;
    private static final EngineConfig CONFIG = new EngineConfig(SEQS, BATCHED, LEN, true, SchedulingPolicy.FCFS, List.of());

    @BeforeAll
    static void writeModel() throws IOException {
        pool = new WorkerPool(2);
        file = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 3, file);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    @Test
    void warmsEveryPathAndLeavesTheServedEngineUntouched() throws IOException {
        int[] cold;
        try (Model model = Model.load(file, pool)) {
            model.allocateKvCache(BLOCKS, BLOCK, KvCacheDtype.F32, LEN);
            cold = generate(Engine.create(CONFIG, model, new TemperatureSampler()), model.vocabSize());
        }
        try (Model model = Model.load(file, pool)) {
            model.allocateKvCache(BLOCKS, BLOCK, KvCacheDtype.F32, LEN);
            EngineLoop served = Engine.create(CONFIG, model, new TemperatureSampler());

            Warmup.Result r = Warmup.run(CONFIG, model);

            // Prefill chunk of max-num-batched-tokens (64), 48 sampled + 48 greedy decode tokens, then 8
            // sequences of 2 prompt tokens decoding 4 tokens each, all 8 in one step.
            assertThat(r.promptTokens()).isEqualTo(64 + 8 + SEQS * 2);
            assertThat(r.generatedTokens()).isEqualTo(48 + 48 + SEQS * 4);
            assertThat(r.widestStep()).isEqualTo(SEQS);
            assertThat(r.sampleTokens()).hasSize(48);
            assertThat(r.steps()).isEqualTo(48 + 48 + 4);

            assertThat(served.step()).as("nothing to run").isFalse();
            assertThat(served.stats()).isEqualTo(EngineStats.EMPTY);
            BlockPool blocks = served.scheduler().kv().pool();
            assertThat(blocks.numFreeBlocks()).isEqualTo(BLOCKS);
            assertThat(blocks.numCachedBlocks()).isZero();

            // The warm-up's own prompt finds nothing cached, and the output equals the cold model's.
            assertThat(generate(served, model.vocabSize())).isEqualTo(cold);
            assertThat(served.stats().prefixCacheHits()).isZero();
            assertThat(served.stats().promptTokens()).isEqualTo(64);
            assertThat(served.stats().generationTokens()).isEqualTo(12);
        }
    }

    /** Greedy output for the warm-up's own first prompt, run to completion on this thread. */
    private static int[] generate(EngineLoop loop, int vocab) {
        RequestHandle h = loop.submit(new EngineRequest("user", Warmup.tokens(64, vocab, 1), SamplingParams.greedy(12).withIgnoreEos(true)));
        List<Integer> out = new ArrayList<>();
        for (int guard = 0; loop.step() || loop.hasLiveRequests(); guard++) {
            if (guard > 10_000) throw new AssertionError("engine did not finish");
        }
        try {
            for (RequestOutput o; (o = h.next(Duration.ZERO)) != null; ) for (int t : o.newTokenIds()) out.add(t);
        } catch (TimeoutException | InterruptedException e) {
            throw new AssertionError(e);
        }
        assertThat(out).hasSize(12);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
