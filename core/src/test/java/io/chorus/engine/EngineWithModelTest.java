package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.model.SyntheticModel;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine over the real transformer (a small synthetic model): a greedy request generates the
 * same tokens alone, among 31 others, with prefix caching off, with tiny prefill chunks, when
 * preempted for lack of blocks, and as both samples of an n = 2 request (block copy-on-write in the
 * model's own cache). Every block is free afterwards.
 */
class EngineWithModelTest {
    @TempDir static Path dir;
    private static WorkerPool pool;
    private static Path file;
    private static final int BLOCK = 4;
    private static long lastPreemptions, lastPrefixHits;

    @BeforeAll
    static void writeModel() throws IOException {
        pool = new WorkerPool(2);
        file = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 11, file);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    private static int[] prompt(int seed, int len) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[len];
        for (int i = 0; i < len; i++) p[i] = 5 + r.nextInt(500);
        return p;
    }

    /** Runs the requests to completion on this thread; returns completion tokens by "id/index". */
    private static Map<String, int[]> run(List<EngineRequest> requests, int numBlocks, int maxSeqs, int maxBatched, boolean prefix) throws IOException {
        try (Model model = Model.load(file, pool)) {
            model.allocateKvCache(numBlocks, BLOCK, KvCacheDtype.F32, 256);
            EngineConfig cfg = new EngineConfig(maxSeqs, maxBatched, 256, prefix, SchedulingPolicy.FCFS, List.of());
            EngineLoop loop = Engine.create(cfg, model, new TemperatureSampler());
            Map<String, int[]> out = EngineRuns.runToCompletion(loop, requests, true);
            lastPreemptions = loop.stats().preemptions();
            lastPrefixHits = loop.stats().prefixCacheHits();
            return out;
        }
    }

    private static EngineRequest greedy(String id, int[] prompt, int n) {
        return new EngineRequest(id, prompt, SamplingParams.greedy(12).withIgnoreEos(true).withN(n));
    }

    @Test
    void greedyOutputDoesNotDependOnBatchingCachingChunkingOrPreemption() throws IOException {
        int[] mine = prompt(1, 21);
        int[] alone = run(List.of(greedy("me", mine, 1)), 64, 8, 64, true).get("me/0");
        assertThat(alone).hasSize(12);

        List<EngineRequest> crowd = new ArrayList<>();
        for (int i = 0; i < 31; i++) crowd.add(greedy("r" + i, i % 3 == 0 ? mine : prompt(100 + i, 3 + i % 17), 1));
        crowd.add(15, greedy("me", mine, 1));
        assertThat(run(crowd, 512, 32, 256, true).get("me/0")).as("among 31 others, prefix cache on").isEqualTo(alone);
        assertThat(lastPrefixHits).as("the repeated prompt hits the prefix cache").isPositive();
        assertThat(run(crowd, 512, 32, 256, false).get("me/0")).as("prefix cache off").isEqualTo(alone);
        assertThat(run(List.of(greedy("me", mine, 1)), 64, 8, 3, true).get("me/0")).as("3-token prefill chunks").isEqualTo(alone);

        // 24 blocks of 4 tokens cannot hold 8 sequences of ~33 tokens: requests are preempted and recomputed.
        List<EngineRequest> tight = new ArrayList<>();
        for (int i = 0; i < 8; i++) tight.add(greedy(i == 5 ? "me" : "t" + i, i == 5 ? mine : prompt(200 + i, 21), 1));
        assertThat(run(tight, 24, 8, 64, true).get("me/0")).as("with preemption").isEqualTo(alone);
        assertThat(lastPreemptions).as("the tight pool forced preemptions").isPositive();

        // n = 2 greedy: both samples share the prompt's blocks and must both equal the solo output.
        Map<String, int[]> forked = run(List.of(greedy("me", mine, 2)), 64, 8, 64, true);
        assertThat(forked.get("me/0")).isEqualTo(alone);
        assertThat(forked.get("me/1")).isEqualTo(alone);
    }
}
