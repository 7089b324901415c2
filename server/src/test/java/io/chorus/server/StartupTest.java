package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.Warmup;
import io.chorus.engine.api.EngineStats;
import org.junit.jupiter.api.Test;

/** A server warms its engine up before it reports healthy, and the warm-up is invisible in /metrics. */
class StartupTest {
    private static final String LABEL = "{model_name=\"tiny\"}";

    @Test
    void warmUpRunsBeforeHealthyAndCountsNothing() {
        try (ChorusServer server = TestServers.start(o -> o, true)) {
            Warmup.Result warm = server.model().warmup();
            assertThat(warm).isNotNull();
            assertThat(warm.widestStep()).as("a step with max-num-seqs sequences").isEqualTo(64);
            assertThat(warm.generatedTokens()).isEqualTo(48 + 48 + 64 * 4);
            assertThat(TestServers.get(server, "/health").statusCode()).isEqualTo(200);

            assertThat(server.model().engine().stats()).isEqualTo(EngineStats.EMPTY);
            String m = TestServers.get(server, "/metrics").body();
            for (String counter : new String[] {"vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                    "vllm:prefix_cache_queries_total", "vllm:num_preemptions_total", "chorus:engine_steps_total"}) {
                assertThat(TestServers.metric(m, counter + LABEL)).as(counter).isZero();
            }
            assertThat(TestServers.metric(m, "vllm:kv_cache_usage_perc" + LABEL)).isZero();
            assertThat(m).as("no request latency recorded").doesNotContain("vllm:e2e_request_latency_seconds_count{");
        }
    }

    @Test
    void warmUpCanBeSkipped() {
        try (ChorusServer server = TestServers.start(o -> o, false)) {
            assertThat(server.model().warmup()).isNull();
            assertThat(TestServers.get(server, "/health").statusCode()).isEqualTo(200);
        }
    }
}
