package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineStats;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Metric values, not just names: read while requests are held queued behind a running one, and after. */
class MetricsValuesTest {
    private static double value(String scrape, String name) {
        double v = TestServers.metric(scrape, name + "{");
        assertThat(v).as(name).isNotNaN();
        return v;
    }

    @Test
    void runningWaitingAndCacheUsageWhileTwoRequestsWaitBehindOne() throws Exception {
        Gate[] gate = new Gate[1];
        try (ChorusServer s = TestServers.start(o -> o.withMaxNumSeqs(1), Gate.seams(gate))) {
            int numBlocks = s.model().sizing().numBlocks();
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            all.add(CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/completions",
                    "{\"prompt\":[11,12,13,14,15],\"max_tokens\":40,\"ignore_eos\":true}")));
            gate[0].awaitArrivals(1); // the first request's prefill is held
            for (int i = 0; i < 2; i++) {
                int k = i;
                all.add(CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/completions",
                        "{\"prompt\":[21,22,23,24,25,26,27,28,29," + (30 + k) + "],\"max_tokens\":2,\"ignore_eos\":true}")));
            }
            // Step on, one step at a time, until the engine has taken both in; it then holds inside the next step.
            int steps = 1;
            while (s.model().engine().stats().waiting() < 2) {
                if (steps > 100) throw new AssertionError("the two requests never reached the engine");
                gate[0].allow(1);
                gate[0].awaitArrivals(++steps);
            }
            EngineStats st = s.model().engine().stats();
            String scrape = TestServers.get(s, "/metrics").body();
            assertThat(value(scrape, "vllm:num_requests_running")).isEqualTo(1.0);
            assertThat(value(scrape, "vllm:num_requests_waiting")).isEqualTo(2.0);
            assertThat(value(scrape, "vllm:kv_cache_usage_perc")).isEqualTo(1.0 / numBlocks); // 5 + a few tokens: one block
            assertThat(value(scrape, "vllm:prompt_tokens_total")).isEqualTo(25.0);
            assertThat(value(scrape, "vllm:generation_tokens_total")).isEqualTo((double) st.generationTokens());
            assertThat(st.generationTokens()).isEqualTo(steps - 1);
            assertThat(value(scrape, "vllm:num_preemptions_total")).isZero();

            gate[0].open();
            for (CompletableFuture<HttpResponse<String>> f : all) assertThat(f.get().statusCode()).isEqualTo(200);
            TestServers.await("the engine to go idle", () -> s.model().engine().stats().running() == 0);
            scrape = TestServers.get(s, "/metrics").body();
            assertThat(value(scrape, "vllm:num_requests_running")).isZero();
            assertThat(value(scrape, "vllm:num_requests_waiting")).isZero();
            assertThat(value(scrape, "vllm:kv_cache_usage_perc")).isZero();
            assertThat(value(scrape, "vllm:generation_tokens_total")).isEqualTo(44.0);
            assertThat(TestServers.metric(scrape, "vllm:request_success_total{finished_reason=\"length\"")).isEqualTo(3.0);
        }
    }
}
