package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** GET /v1/engine/status against a live server whose engine the test holds between steps. */
class EngineStatusTest {

    private static JsonNode status(ChorusServer s) throws Exception {
        HttpResponse<String> r = TestServers.get(s, "/v1/engine/status");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return ChorusServer.JSON.readTree(r.body());
    }

    /** A streamed completion of 50 tokens after a 20-token prompt of its own (no shared prefix). */
    private static String body(int k) {
        String prompt = IntStream.range(0, 20).mapToObj(i -> String.valueOf(10 + k * 20 + i)).collect(Collectors.joining(","));
        return "{\"prompt\":[" + prompt + "],\"max_tokens\":50,\"ignore_eos\":true,\"stream\":true}";
    }

    @Test
    void showsEveryRunningSequenceWithItsPhaseAndBlocksThenAnEmptyEngine() throws Exception {
        Gate[] gate = new Gate[1];
        try (ChorusServer s = TestServers.start(o -> o, Gate.seams(gate)); HttpClient http = HttpClient.newHttpClient()) {
            JsonNode idle = status(s);
            assertThat(idle.get("object").asText()).isEqualTo("engine.status");
            assertThat(idle.get("model").asText()).isEqualTo(TestServers.MODEL);
            assertThat(idle.get("running").asInt()).isZero();
            assertThat(idle.get("max_num_seqs").asInt()).isEqualTo(64);
            int total = s.model().sizing().numBlocks();
            assertThat(idle.get("kv_cache").get("blocks_total").asInt()).isEqualTo(total).isPositive();
            assertThat(idle.get("kv_cache").get("block_size").asInt()).isEqualTo(16);

            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                calls.add(http.sendAsync(TestServers.request(s, "/v1/completions", null)
                        .POST(HttpRequest.BodyPublishers.ofString(body(k))).build(), HttpResponse.BodyHandlers.ofString()));
            }
            // Step the engine one forward pass at a time until all three decode; it then waits inside the next step.
            JsonNode busy = status(s);
            for (int step = 1; !allDecoding(busy, 3); step++) {
                assertThat(step).as("steps before all three requests decode").isLessThan(20);
                gate[0].allow(1);
                gate[0].awaitArrivals(step + 1);
                busy = status(s);
            }
            assertThat(busy.get("running").asInt()).isEqualTo(3);
            assertThat(busy.get("waiting").asInt()).isZero();
            for (JsonNode q : busy.get("sequences")) {
                assertThat(q.get("request_id").asText()).startsWith("cmpl-");
                assertThat(q.get("index").asInt()).isZero();
                assertThat(q.get("prompt_tokens").asInt()).isEqualTo(20);
                int generated = q.get("generated_tokens").asInt();
                assertThat(generated).isBetween(1, 19);
                assertThat(q.get("computed_tokens").asInt()).isEqualTo(20 + generated - 1); // all but the newest token
                assertThat(q.get("age_ms").asLong()).isNotNegative();
            }
            // Each holds 20..38 computed tokens: 2 or 3 blocks; full blocks are cached, one per 16 tokens.
            int used = 0, full = 0;
            for (JsonNode q : busy.get("sequences")) {
                used += (q.get("computed_tokens").asInt() + 15) / 16;
                full += q.get("computed_tokens").asInt() / 16;
            }
            JsonNode kv = busy.get("kv_cache");
            assertThat(kv.get("blocks_used").asInt()).isEqualTo(used);
            assertThat(kv.get("blocks_cached").asInt()).isEqualTo(full);
            assertThat(kv.get("usage").asDouble()).isCloseTo((double) used / total, org.assertj.core.data.Offset.offset(1e-4));
            assertThat(busy.get("last_step").get("seqs").asInt()).isEqualTo(3);
            assertThat(busy.get("prefix_cache").get("queries").asLong()).isEqualTo(60);
            assertThat(busy.get("prefix_cache").get("hits").asLong()).isZero();

            gate[0].open();
            for (var c : calls) assertThat(c.get().body()).contains("[DONE]");
            TestServers.await("the engine to go idle", () -> s.model().engine().stats().running() == 0);
            JsonNode after = status(s);
            assertThat(after.get("running").asInt()).isZero();
            assertThat(after.get("waiting").asInt()).isZero();
            assertThat(after.get("sequences")).isEmpty();
            assertThat(after.get("kv_cache").get("blocks_used").asInt()).isZero();
            assertThat(after.get("kv_cache").get("blocks_cached").asInt()).isEqualTo(3 * (69 / 16)); // 69 computed tokens each
            assertThat(after.get("totals").get("generation_tokens").asLong()).isEqualTo(150);
            assertThat(after.get("totals").get("max_step_seqs").asInt()).isEqualTo(3);
        }
    }

    private static boolean allDecoding(JsonNode status, int n) {
        JsonNode seqs = status.get("sequences");
        if (seqs.size() != n) return false;
        for (JsonNode q : seqs) if (!q.get("phase").asText().equals("decode")) return false;
        return true;
    }

    @Test
    void historyArrivesOnceThroughSinceAndABadSinceIsA400() throws Exception {
        try (ChorusServer s = TestServers.start(o -> o)) {
            JsonNode first = status(s);
            assertThat(first.get("history").get("interval_ms").asInt()).isEqualTo(1000);
            assertThat(first.get("history").get("capacity").asInt()).isEqualTo(300);
            TestServers.await("a history sample", () -> {
                try {
                    return status(s).get("history").get("samples").size() > 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            JsonNode withSamples = status(s);
            JsonNode samples = withSamples.get("history").get("samples");
            long last = samples.get(samples.size() - 1).get("time_ms").asLong();
            assertThat(samples.get(0).has("generation_tokens_per_s")).isTrue();
            JsonNode later = ChorusServer.JSON.readTree(TestServers.get(s, "/v1/engine/status?since=" + last).body());
            for (JsonNode q : later.get("history").get("samples")) assertThat(q.get("time_ms").asLong()).isGreaterThan(last);
            JsonNode error = ErrorsTest.error(TestServers.get(s, "/v1/engine/status?since=yesterday"), 400);
            assertThat(error.get("param").asText()).isEqualTo("since");
        }
    }
}
