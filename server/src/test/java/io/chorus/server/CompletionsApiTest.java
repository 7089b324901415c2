package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Text completions, tokenize, models, health and metrics against a live server. */
class CompletionsApiTest {
    static ChorusServer server;
    static OpenAIClient client;

    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o);
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    static CompletionCreateParams.Builder params(String prompt, int maxTokens) {
        return CompletionCreateParams.builder().model(TestServers.MODEL).prompt(prompt).maxTokens(maxTokens).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    @Test
    void completionStreamingMatchesNonStreaming() {
        Completion whole = client.completions().create(params("Once upon a time", 10).build());
        assertThat(whole.choices()).hasSize(1);
        assertThat(whole.choices().get(0).finishReason().asString()).isEqualTo("length");
        assertThat(whole.usage().get().completionTokens()).isEqualTo(10);
        StringBuilder text = new StringBuilder();
        String[] finish = new String[1];
        try (StreamResponse<Completion> s = client.completions().createStreaming(params("Once upon a time", 10).build())) {
            s.stream().forEach(c -> c.choices().forEach(ch -> {
                text.append(ch.text());
                if (!ch._finishReason().isNull() && !ch._finishReason().isMissing()) finish[0] = ch.finishReason().asString();
            }));
        }
        assertThat(text.toString()).isEqualTo(whole.choices().get(0).text());
        assertThat(finish[0]).isEqualTo("length");
    }

    @Test
    void echoPrependsThePromptAndNTwoGivesTwoChoices() {
        Completion c = client.completions().create(params("Echo this", 5).echo(true).n(2).temperature(0.8).seed(11).build());
        assertThat(c.choices()).hasSize(2);
        assertThat(c.choices()).allSatisfy(ch -> assertThat(ch.text()).startsWith("Echo this"));
        assertThat(c.usage().get().completionTokens()).isEqualTo(10);
    }

    @Test
    void stopStringAndTokenPrompt() {
        String whole = client.completions().create(params("Count: ", 24).build()).choices().get(0).text();
        String stop = whole.substring(3, 5);
        Completion c = client.completions().create(params("Count: ", 24).stop(stop).build());
        assertThat(c.choices().get(0).text()).isEqualTo(whole.substring(0, whole.indexOf(stop)));
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("stop");

        JsonNode tok = json(TestServers.post(server, "/tokenize", "{\"prompt\":\"Count: \"}"));
        HttpResponse<String> r = TestServers.post(server, "/v1/completions",
                "{\"prompt\":" + tok.get("tokens") + ",\"max_tokens\":24,\"temperature\":0,\"ignore_eos\":true}");
        assertThat(json(r).at("/choices/0/text").asText()).isEqualTo(whole);
    }

    @Test
    void aListOfPromptsGivesNChoicesPerPromptInOrder() {
        String a = client.completions().create(params("First prompt", 6).build()).choices().get(0).text();
        String b = client.completions().create(params("Second prompt", 6).build()).choices().get(0).text();
        JsonNode r = json(TestServers.post(server, "/v1/completions",
                "{\"prompt\":[\"First prompt\",\"Second prompt\"],\"n\":2,\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true}"));
        JsonNode choices = r.get("choices");
        assertThat(choices.size()).isEqualTo(4);
        for (int i = 0; i < 4; i++) {
            assertThat(choices.get(i).get("index").asInt()).isEqualTo(i);
            assertThat(choices.get(i).get("text").asText()).isEqualTo(i < 2 ? a : b);
        }
        assertThat(r.at("/usage/completion_tokens").asInt()).isEqualTo(24);
    }

    @Test
    void logprobsInLegacyShape() {
        HttpResponse<String> r = TestServers.post(server, "/v1/completions",
                "{\"prompt\":\"Hi\",\"max_tokens\":3,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":2}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode lp = json(r).at("/choices/0/logprobs");
        // Filled when the engine's sampler returns logprobs; then the four arrays line up.
        if (!lp.isNull() && lp.get("tokens").size() > 0) {
            assertThat(lp.get("token_logprobs").size()).isEqualTo(lp.get("tokens").size());
            assertThat(lp.get("text_offset").size()).isEqualTo(lp.get("tokens").size());
            assertThat(lp.get("top_logprobs").get(0).size()).isEqualTo(2);
        }
    }

    @Test
    void tokenizeDetokenizeModelsHealthVersion() {
        JsonNode t = json(TestServers.post(server, "/tokenize", "{\"prompt\":\"hello world\",\"add_special_tokens\":false}"));
        assertThat(t.get("count").asInt()).isEqualTo(t.get("tokens").size()).isGreaterThan(0);
        assertThat(t.get("max_model_len").asInt()).isEqualTo(1024);
        JsonNode d = json(TestServers.post(server, "/detokenize", "{\"tokens\":" + t.get("tokens") + "}"));
        assertThat(d.get("prompt").asText()).isEqualTo("hello world");
        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly(TestServers.MODEL);
        assertThat(TestServers.get(server, "/health").statusCode()).isEqualTo(200);
        assertThat(json(TestServers.get(server, "/version")).get("version").asText()).isNotEmpty();
    }

    @Test
    void metricsUseVllmNamesWithModelLabel() {
        client.completions().create(params("metrics", 3).build());
        String m = TestServers.get(server, "/metrics").body();
        for (String name : new String[] {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                "vllm:gpu_cache_usage_perc", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
                "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total", "vllm:prompt_tokens_total",
                "vllm:generation_tokens_total", "vllm:request_success_total", "vllm:time_to_first_token_seconds_bucket",
                "vllm:inter_token_latency_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket",
                "vllm:request_queue_time_seconds_bucket", "vllm:cache_config_info"}) {
            assertThat(m).contains(name + "{");
        }
        assertThat(TestServers.metric(m, "vllm:request_success_total{finished_reason=\"length\",model_name=\"tiny\"}")).isGreaterThanOrEqualTo(1);
        assertThat(TestServers.metric(m, "vllm:generation_tokens_total{model_name=\"tiny\"}")).isGreaterThanOrEqualTo(3);
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return ChorusServer.JSON.readTree(r.body());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + r.body(), e);
        }
    }
}
