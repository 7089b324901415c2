package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.model.SyntheticModel;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose every layer attends within a sliding window (the tiny phi3, window 11) releases the
 * blocks no later query sees: three sequences of 20 + 40 tokens (15 blocks of 4 each) run to the end
 * in a cache of 12 blocks, and their greedy ids equal those of a cache large enough to keep every
 * block, with prefill chunks of 5 tokens and with prefix caching on.
 */
class WindowedEngineTest {
    private static final int BLOCK = 4;
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    @Test
    void longSequencesRunInACacheSmallerThanOneOfThem(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("w.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-phi3-window"), SyntheticModel.Mix.F32, 3, gguf);
        List<EngineRequest> requests = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            int[] prompt = new int[20];
            for (int i = 0; i < prompt.length; i++) prompt[i] = (37 * i + 11 * r + 5) % 500;
            requests.add(new EngineRequest("r" + r, prompt, SamplingParams.greedy(40).withIgnoreEos(true)));
        }
        try (Model model = Model.load(gguf, pool, ActivationPrecision.F32)) {
            assertThat(model.attentionWindow()).isEqualTo(11);
            Map<String, int[]> roomy = run(model, 64, requests);
            Map<String, int[]> tight = run(model, 12, requests);
            for (EngineRequest r : requests) {
                assertThat(roomy.get(r.requestId())).hasSize(40);
                assertThat(tight.get(r.requestId())).as(r.requestId()).isEqualTo(roomy.get(r.requestId()));
            }
        }
    }

    private static Map<String, int[]> run(Model model, int blocks, List<EngineRequest> requests) {
        model.allocateKvCache(blocks, BLOCK, KvCacheDtype.F32, 64);
        EngineConfig cfg = new EngineConfig(3, 5, 64, true, SchedulingPolicy.FCFS, List.of());
        EngineLoop loop = Engine.create(cfg, model, new TemperatureSampler());
        if (blocks < 15) { // one whole sequence needs 15 blocks: only the window makes it admissible
            loop.scheduler().checkAdmissible(20, 40, 1);
        }
        return EngineRuns.runToCompletion(loop, requests, false);
    }
}
