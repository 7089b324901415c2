package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The whole HTTP path against a fake server: every reported figure must match what it served. */
class BenchRunnerHttpTest {

    @Test
    void completionsWithUsageAndFailures() throws Exception {
        try (FakeOpenAiServer fake = new FakeOpenAiServer(true, 2, List.of(3, 9), List.of(6), List.of(), 0)) {
            BenchConfig c = BenchConfig.builder(fake.baseUrl(), "fake-model").numPrompts(20).inputLen(16).outputLen(8)
                    .rangeRatio(0.5).maxConcurrency(4).ignoreEos(true).apiKey("k").seed(11).build();
            List<LevelResult> seen = new ArrayList<>();
            BenchResult res = BenchRunner.run(c, seen::add, m -> {});
            assertThat(res.levels()).hasSize(1).isEqualTo(seen);
            LevelResult r = res.levels().get(0);

            assertThat(fake.requests.get()).isEqualTo(20);
            assertThat(r.completed()).isEqualTo(fake.succeeded.get()).isEqualTo(17);
            assertThat(r.failed()).isEqualTo(3);
            assertThat(r.errors()).hasSize(2);
            assertThat(r.errors().keySet()).anyMatch(e -> e.startsWith("HTTP 500") && e.contains("fake failure"));
            assertThat(r.errors()).containsEntry("stream ended without [DONE]", 1);
            assertThat(r.totalOutputTokens()).isEqualTo(fake.completionTokensServed.get());
            assertThat(r.totalInputTokens()).isEqualTo(fake.promptTokensServed.get());
            assertThat(r.usageReported()).isTrue();
            assertThat(r.peakConcurrency()).isBetween(2, 4);
            assertThat(fake.maxInFlight.get()).isLessThanOrEqualTo(4);
            assertThat(r.requestThroughput()).isCloseTo(r.completed() / r.durationS(), within(1e-9));
            assertThat(r.outputThroughput()).isCloseTo(r.totalOutputTokens() / r.durationS(), within(1e-9));
            assertThat(r.totalTokenThroughput()).isCloseTo((r.totalInputTokens() + r.totalOutputTokens()) / r.durationS(), within(1e-9));
            // One token a chunk: one TTFT per success, tokens-1 gaps per success.
            assertThat(r.ttftMs().count()).isEqualTo(17);
            assertThat(r.itlMs().count()).isEqualTo((int) (fake.completionTokensServed.get() - 17));
            // The fake sleeps 2 ms before each of at least 4 tokens, so every request takes 8 ms or more
            // whatever the machine's load (gaps between chunks are not bounded that way: a busy client
            // may read two chunks at once).
            assertThat(r.e2eMs().min()).isGreaterThanOrEqualTo(8.0);
            assertThat(r.tpotMs().count()).isEqualTo(17);
            assertThat(r.e2eMs().min()).isGreaterThanOrEqualTo(r.ttftMs().min());

            JsonNode body = fake.bodies.get(0);
            assertThat(body.path("model").asText()).isEqualTo("fake-model");
            assertThat(body.path("stream").asBoolean()).isTrue();
            assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
            assertThat(body.path("ignore_eos").asBoolean()).isTrue();
            assertThat(body.path("temperature").asDouble()).isZero();
            assertThat(body.path("max_tokens").asInt()).isBetween(4, 12);
            assertThat(res.settings().apiKey()).isEqualTo("<redacted>");
        }
    }

    @Test
    void chatWithoutUsageCountsChunks() throws Exception {
        try (FakeOpenAiServer fake = new FakeOpenAiServer(false, 1, List.of(), List.of(), List.of(), 0)) {
            BenchConfig c = BenchConfig.builder(fake.baseUrl(), "m").endpoint(Endpoint.CHAT).numPrompts(6).inputLen(10)
                    .outputLen(5).maxConcurrency(2).build();
            LevelResult r = BenchRunner.run(c).levels().get(0);
            assertThat(r.completed()).isEqualTo(6);
            assertThat(r.failed()).isZero();
            assertThat(r.usageReported()).isFalse();
            assertThat(r.totalOutputTokens()).isEqualTo(30);
            assertThat(r.totalInputTokens()).isEqualTo(60); // our estimate: 10 words a prompt, 1 token a word
            assertThat(fake.promptTokensServed.get()).isEqualTo(60);
            assertThat(fake.bodies.get(0).path("messages").get(0).path("role").asText()).isEqualTo("user");
            assertThat(fake.bodies.get(0).has("ignore_eos")).isFalse();
        }
    }

    @Test
    void sweepRunsEveryLevelWithinItsLimit() throws Exception {
        try (FakeOpenAiServer fake = new FakeOpenAiServer(true, 3, List.of(), List.of(), List.of(), 0)) {
            BenchConfig c = BenchConfig.builder(fake.baseUrl(), "m").numPrompts(8).inputLen(8).outputLen(6)
                    .concurrencyLevels(List.of(1, 2, 4)).build();
            BenchResult res = BenchRunner.run(c);
            assertThat(res.levels()).extracting(LevelResult::maxConcurrency).containsExactly(1, 2, 4);
            assertThat(res.levels().get(0).peakConcurrency()).isEqualTo(1);
            for (LevelResult r : res.levels()) {
                assertThat(r.completed()).isEqualTo(8);
                assertThat(r.peakConcurrency()).isLessThanOrEqualTo(r.maxConcurrency());
                assertThat(r.totalOutputTokens()).isEqualTo(48);
            }
            assertThat(fake.completionTokensServed.get()).isEqualTo(3 * 48);
            // More users at once: more total throughput from a server that does not slow down per user.
            assertThat(res.levels().get(2).outputThroughput()).isGreaterThan(res.levels().get(0).outputThroughput());
        }
    }

    @Test
    void requestRateSpreadsArrivalsAndTimeoutFails() throws Exception {
        try (FakeOpenAiServer fake = new FakeOpenAiServer(true, 1, List.of(), List.of(), List.of(2), 0)) {
            BenchConfig c = BenchConfig.builder(fake.baseUrl(), "m").numPrompts(10).inputLen(4).outputLen(3)
                    .requestRate(20).burstiness(1.0).seed(3).timeoutSeconds(1.5).build();
            LevelResult r = BenchRunner.run(c).levels().get(0);
            double lastArrival = ArrivalSchedule.offsetsSeconds(10, 20, 1.0, 3)[9];
            assertThat(r.durationS()).isGreaterThanOrEqualTo(lastArrival);
            assertThat(r.completed()).isEqualTo(9);
            assertThat(r.failed()).isEqualTo(1);
            assertThat(r.errors().keySet()).singleElement().asString().contains("timed out");
        }
    }

    @Test
    void calibrationUsesTokenize() throws Exception {
        try (FakeOpenAiServer fake = new FakeOpenAiServer(true, 0, List.of(), List.of(), List.of(), 2)) {
            BenchConfig c = BenchConfig.builder(fake.baseUrl(), "m").numPrompts(2).inputLen(16).outputLen(2).calibrate(true).build();
            BenchResult res = BenchRunner.run(c);
            assertThat(res.tokensPerWord()).isEqualTo(2.0);
            assertThat(FakeOpenAiServer.words(fake.bodies.get(0).path("prompt").asText())).isEqualTo(8);
        }
        try (FakeOpenAiServer fake = new FakeOpenAiServer(true, 0, List.of(), List.of(), List.of(), 0)) {
            BenchResult res = BenchRunner.run(BenchConfig.builder(fake.baseUrl(), "m").numPrompts(1).inputLen(5).outputLen(2)
                    .calibrate(true).build());
            assertThat(res.tokensPerWord()).isEqualTo(1.0); // no /tokenize: the 1 token a word estimate stays
            assertThat(res.calibrationNote()).contains("1 token a word");
        }
    }

    @Test
    void unreachableServerIsAllFailures() {
        BenchConfig c = BenchConfig.builder("http://127.0.0.1:1", "m").numPrompts(3).inputLen(4).outputLen(2).build();
        LevelResult r = BenchRunner.run(c).levels().get(0);
        assertThat(r.completed()).isZero();
        assertThat(r.failed()).isEqualTo(3);
    }
}
