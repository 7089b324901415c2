package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.runner.Sampler;
import io.chorus.engine.runner.TemperatureSampler;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A fault while processing one request (injected in the sampler, and in the detokenizer) fails that
 * request alone with an OpenAI-style 500; the engine loop and the other requests go on, and every
 * block is freed.
 */
class FaultIsolationTest {
    private static final long SAMPLER_FAULT = 666, DECODER_FAULT = 777;

    /** Samples as usual but throws on the third token of a request seeded {@link #SAMPLER_FAULT}. */
    private static Sampler faultySampler() {
        TemperatureSampler real = new TemperatureSampler();
        AtomicInteger calls = new AtomicInteger();
        return (logits, offset, vocab, state) -> {
            if (Long.valueOf(SAMPLER_FAULT).equals(state.params().seed()) && calls.incrementAndGet() == 3) {
                throw new IllegalStateException("injected sampler fault");
            }
            return real.sample(logits, offset, vocab, state);
        };
    }

    /** Decodes as usual but throws on the second token of a request seeded {@link #DECODER_FAULT}. */
    private static Detokenizers faultyDecoder(Detokenizers real) {
        return params -> {
            Detokenizers.Stream d = real.open(params);
            if (!Long.valueOf(DECODER_FAULT).equals(params.seed())) return d;
            return new Detokenizers.Stream() {
                int pushed;

                @Override
                public String push(int tokenId) {
                    if (++pushed == 2) throw new IllegalStateException("injected decoder fault");
                    return d.push(tokenId);
                }

                @Override
                public String flush() { return d.flush(); }
            };
        };
    }

    private static String completion(long seed, boolean stream) {
        return "{\"prompt\":\"hello there\",\"max_tokens\":40,\"ignore_eos\":true,\"temperature\":0.8,\"seed\":" + seed
                + (stream ? ",\"stream\":true" : "") + "}";
    }

    @Test
    void aFaultFailsOnlyItsRequest() throws Exception {
        LoadedModel.Seams seams = new LoadedModel.Seams(m -> m, faultySampler(), FaultIsolationTest::faultyDecoder);
        try (ChorusServer s = TestServers.start(o -> o, seams)) {
            JsonNode reference = CompletionsApiTest.json(TestServers.post(s, "/v1/completions", completion(5, false)));

            var good = CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/completions", completion(5, false)));
            var goodStream = CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/completions", completion(5, true)));
            var sampler = CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/completions", completion(SAMPLER_FAULT, false)));
            var decoder = CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":40,\"ignore_eos\":true,\"seed\":" + DECODER_FAULT + "}"));
            var decoderStream = CompletableFuture.supplyAsync(() -> TestServers.post(s, "/v1/completions", completion(DECODER_FAULT, true)));

            for (HttpResponse<String> failed : new HttpResponse[] {sampler.get(), decoder.get()}) {
                JsonNode e = ErrorsTest.error(failed, 500);
                assertThat(e.get("type").asText()).isEqualTo("server_error");
                assertThat(e.get("message").asText()).doesNotContain("injected");
            }
            // A stream that already started says so in an error event, then ends properly.
            String body = decoderStream.get().body();
            assertThat(body).contains("\"finish_reason\":\"error\"").contains("\"type\":\"server_error\"").endsWith("data: [DONE]\n\n");

            assertThat(CompletionsApiTest.json(good.get()).at("/choices/0/text").asText()).isEqualTo(reference.at("/choices/0/text").asText());
            assertThat(CompletionsApiTest.json(good.get()).at("/usage/completion_tokens").asInt()).isEqualTo(40);
            assertThat(goodStream.get().statusCode()).isEqualTo(200);
            assertThat(goodStream.get().body()).contains("\"finish_reason\":\"length\"").doesNotContain("error");

            TestServers.await("the engine to go idle", () -> s.model().engine().stats().running() == 0 && s.admitted() == 0);
            EngineStats st = s.model().engine().stats();
            assertThat(st.kvUsage()).isZero();
            assertThat(st.waiting()).isZero();
            assertThat(st.finishedError()).isEqualTo(1); // the sampler fault; the decoder faults end as aborts in the engine
            assertThat(st.finishedAbort()).isEqualTo(2);
            // The loop goes on.
            assertThat(CompletionsApiTest.json(TestServers.post(s, "/v1/completions", completion(5, false))).at("/choices/0/text").asText())
                    .isEqualTo(reference.at("/choices/0/text").asText());
        }
    }
}
