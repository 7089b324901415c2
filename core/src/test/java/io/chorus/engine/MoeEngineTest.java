package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mixture-of-experts reference models served by the engine: a greedy request for the fixture
 * prompt generates the float64 reference's greedy ids (up to its first step with a margin below
 * 0.1), alone, and the same tokens among seven other requests in steps of at most 16 tokens (so
 * prompts are prefilled in chunks), where each step's tokens from different sequences share the
 * experts they route to.
 */
class MoeEngineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
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

    private static Map<String, int[]> run(Path file, List<EngineRequest> requests, int maxBatched) throws IOException {
        try (Model model = Model.load(file, pool)) {
            model.allocateKvCache(256, BLOCK, KvCacheDtype.F32, 128);
            EngineConfig cfg = new EngineConfig(16, maxBatched, 128, true, SchedulingPolicy.FCFS, List.of());
            EngineLoop loop = Engine.create(cfg, model, new TemperatureSampler());
            return EngineRuns.runToCompletion(loop, requests, false);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2moe-f32", "mixtral-f32", "qwen3moe-f16"})
    void greedyRequestFollowsTheReferenceAloneAndInABatch(String name) throws IOException {
        Path gguf = Fixtures.require("models/" + name + ".gguf");
        JsonNode ref = JSON.readTree(gguf.resolveSibling(name + ".ref.json").toFile());
        int[] prompt = new int[ref.get("prompt_ids").size()];
        for (int i = 0; i < prompt.length; i++) prompt[i] = ref.get("prompt_ids").get(i).asInt();
        JsonNode greedy = ref.get("numpy_ref").get("greedy_ids"), margins = ref.get("numpy_ref").get("greedy_margins");
        int sure = 0;
        while (sure < greedy.size() && margins.get(sure).asDouble() >= 0.1) sure++;
        assertThat(sure).as("%s greedy steps with a clear margin", name).isGreaterThan(2);
        int steps = Math.min(greedy.size(), sure + 4);

        EngineRequest me = new EngineRequest("me", prompt, SamplingParams.greedy(steps).withIgnoreEos(true));
        int[] alone = run(gguf, List.of(me), 64).get("me");
        assertThat(alone).hasSize(steps);
        for (int i = 0; i < sure; i++) assertThat(alone[i]).as("%s greedy id %d", name, i).isEqualTo(greedy.get(i).asInt());

        List<EngineRequest> crowd = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(4);
        for (int r = 0; r < 7; r++) {
            int[] p = new int[3 + rnd.nextInt(20)];
            for (int i = 0; i < p.length; i++) p[i] = 3 + rnd.nextInt(509);
            crowd.add(new EngineRequest("r" + r, p, SamplingParams.greedy(6 + r).withIgnoreEos(true)));
        }
        crowd.add(3, me);
        assertThat(run(gguf, crowd, 16).get("me")).as("%s among seven others, 16-token steps", name).isEqualTo(alone);
    }
}
