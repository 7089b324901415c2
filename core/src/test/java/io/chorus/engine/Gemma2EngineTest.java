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
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Gemma 2 fixture models through the engine: the prompt's greedy continuation equals llama.cpp's,
 * alone and in a batch with sequences of other lengths, with prefill chunks of 3 tokens (so the
 * windowed layers read a window that starts mid-block, over 4-token blocks, from a cache written
 * across steps). The float model must give all 32 ids; the 8-bit one every id up to the first step
 * whose llama.cpp margin is under 0.25, the fixtures' rule for quantized files.
 */
class Gemma2EngineTest {
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

    @ParameterizedTest
    @CsvSource({"gemma2-f32,F32", "gemma2-q8_0,F32", "gemma2-q8_0,INT8"})
    void greedyContinuationMatchesLlamaCpp(String name, ActivationPrecision precision) throws IOException {
        Path gguf = Fixtures.require("models/" + name + ".gguf");
        JsonNode ref = JSON.readTree(gguf.resolveSibling(name + ".ref.json").toFile());
        int[] prompt = ints(ref.get("prompt_ids"));
        int[] expected = ints(ref.get("llama_cpp").get("greedy_ids"));
        JsonNode margins = ref.get("llama_cpp").get("greedy_margins");
        int checked = expected.length;
        if (!name.endsWith("f32")) {
            for (int i = 0; i < expected.length; i++) if (margins.get(i).asDouble() < 0.25) { checked = i; break; }
        }
        List<EngineRequest> alone = List.of(greedy("me", prompt, expected.length));
        List<EngineRequest> crowd = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            // other prompts: prefixes and shifted copies of the fixture prompt, 5 to 23 tokens
            int len = 5 + 3 * i;
            int[] other = new int[len];
            for (int j = 0; j < len; j++) other[j] = prompt[(j + i) % prompt.length];
            crowd.add(greedy("o" + i, other, 10 + i));
        }
        crowd.add(3, greedy("me", prompt, expected.length));

        int[] soloIds = run(gguf, precision, alone, 64).get("me");
        int[] crowdIds = run(gguf, precision, crowd, 64).get("me");
        int[] chunkedIds = run(gguf, precision, crowd, 3).get("me");
        for (int i = 0; i < checked; i++) assertThat(soloIds[i]).as("%s %s step %d", name, precision, i).isEqualTo(expected[i]);
        assertThat(checked).as("steps checked").isGreaterThanOrEqualTo(name.endsWith("f32") ? 32 : 1);
        assertThat(crowdIds).as("among 7 other sequences").isEqualTo(soloIds);
        assertThat(chunkedIds).as("3-token prefill chunks").isEqualTo(soloIds);
    }

    private static EngineRequest greedy(String id, int[] prompt, int tokens) {
        return new EngineRequest(id, prompt, SamplingParams.greedy(tokens).withIgnoreEos(true));
    }

    private static Map<String, int[]> run(Path file, ActivationPrecision precision, List<EngineRequest> requests, int maxBatched) {
        try (Model model = Model.load(file, pool, precision)) {
            model.allocateKvCache(256, BLOCK, KvCacheDtype.F32, 128);
            EngineConfig cfg = new EngineConfig(16, maxBatched, 128, true, SchedulingPolicy.FCFS, List.of());
            EngineLoop loop = Engine.create(cfg, model, new TemperatureSampler());
            return EngineRuns.runToCompletion(loop, requests, false);
        }
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }
}
