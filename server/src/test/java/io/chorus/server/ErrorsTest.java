package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.JsonValue;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every error status in OpenAI's JSON shape: 400, 401, 404, 413, 429, 503 (loading and shutting down). */
class ErrorsTest {
    static ChorusServer plain;
    static ChorusServer guarded; // API key, small body limit, one sequence and no queue, a template that refuses system messages
    @TempDir static Path dir;

    @BeforeAll
    static void up() throws Exception {
        plain = TestServers.start(o -> o);
        Path template = dir.resolve("t.jinja");
        Files.writeString(template, "{% for m in messages %}{% if m['role'] == 'system' %}"
                + "{{ raise_exception('System messages are not supported') }}{% endif %}"
                + "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n");
        guarded = TestServers.start(o -> o.withApiKey("sekret").withMaxNumSeqs(1).withChatTemplate(template).withMaxQueue(0)
                .withMaxBodyBytes(2048));
    }

    @AfterAll
    static void down() {
        plain.close();
        guarded.close();
    }

    static JsonNode error(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode e = CompletionsApiTest.json(r).get("error");
        assertThat(e).isNotNull();
        assertThat(e.get("message").asText()).isNotEmpty().doesNotContain("\tat ");
        assertThat(e.has("type") && e.has("param") && e.has("code")).isTrue();
        return e;
    }

    @Test
    void aRequestPastTheRequestTimeoutIsAbortedAndItsBlocksFreed() throws Exception {
        try (ChorusServer timed = TestServers.start(o -> o.withRequestTimeout(java.time.Duration.ofMillis(1)))) {
            JsonNode r = CompletionsApiTest.json(TestServers.post(timed, "/v1/completions",
                    "{\"model\":\"" + TestServers.MODEL + "\",\"prompt\":\"hello\",\"max_tokens\":900,\"ignore_eos\":true}"));
            assertThat(r.at("/choices/0/finish_reason").asText()).isEqualTo("abort");
            assertThat(r.at("/usage/completion_tokens").asInt()).isLessThan(900);
            long until = System.nanoTime() + 5_000_000_000L;
            while (timed.model().engine().stats().kvUsage() > 0 && System.nanoTime() < until) Thread.sleep(5);
            assertThat(timed.model().engine().stats().kvUsage()).isZero();
            assertThat(timed.model().engine().stats().running()).isZero();
        }
    }

    @Test
    void badRequests() {
        JsonNode e = error(TestServers.post(plain, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":-1}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("temperature");
        error(TestServers.post(plain, "/v1/chat/completions", "{\"messages\": [oops"), 400);
        error(TestServers.post(plain, "/v1/chat/completions", "{\"messages\":[]}"), 400);
        error(TestServers.post(plain, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":\"many\"}"), 400);
        error(TestServers.post(plain, "/v1/completions", "{\"prompt\":\"x\",\"n\":0}"), 400);
        String longPrompt = "word ".repeat(1500);
        e = error(TestServers.post(plain, "/v1/completions", "{\"prompt\":\"" + longPrompt + "\"}"), 400);
        assertThat(e.get("message").asText()).contains("1024");
        e = error(TestServers.post(plain, "/v1/completions", "{\"prompt\":\"hello\",\"max_tokens\":5000}"), 400);
        assertThat(e.get("message").asText()).contains("1024").contains("5000");
        assertThatThrownBy(() -> TestServers.client(plain).chat().completions().create(ChatCompletionCreateParams.builder()
                .model(TestServers.MODEL).addUserMessage("x").putAdditionalBodyProperty("top_p", JsonValue.from(2)).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("top_p");
    }

    @Test
    void templateRaiseExceptionIsABadRequest() {
        JsonNode e = error(TestServers.send(authed(guarded, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"}],\"max_tokens\":2}")), 400);
        assertThat(e.get("message").asText()).isEqualTo("System messages are not supported");
    }

    @Test
    void notFound() {
        assertThatThrownBy(() -> TestServers.client(plain).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("no-such-model").addUserMessage("x").build())).isInstanceOf(NotFoundException.class);
        error(TestServers.get(plain, "/v2/nothing"), 404);
    }

    @Test
    void unauthorized() {
        assertThatThrownBy(() -> TestServers.client(guarded, "wrong").models().list()).isInstanceOf(UnauthorizedException.class);
        error(TestServers.get(guarded, "/v1/models"), 401);
        assertThat(TestServers.client(guarded, "sekret").models().list().data()).hasSize(1);
        assertThat(TestServers.get(guarded, "/health").statusCode()).isEqualTo(200);
    }

    @Test
    void bodyTooLarge() {
        String big = "{\"prompt\":\"" + "a".repeat(4000) + "\"}";
        error(TestServers.send(authed(guarded, "/v1/completions", big)), 413);
    }

    @Test
    void queueFullIsTooManyRequestsWithRetryAfter() throws Exception {
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> TestServers.send(authed(guarded,
                "/v1/completions", "{\"prompt\":\"long\",\"max_tokens\":1000,\"ignore_eos\":true}")));
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (guarded.model().engine().stats().running() == 0 && System.nanoTime() < until) Thread.sleep(2);
        HttpResponse<String> second = TestServers.send(authed(guarded, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}"));
        JsonNode e = error(second, 429);
        assertThat(second.headers().firstValue("retry-after")).isPresent();
        assertThat(e.get("type").asText()).isEqualTo("rate_limit_error");
        assertThat(first.get().statusCode()).isEqualTo(200);
    }

    @Test
    void unavailableWhileLoadingAndShuttingDown() throws Exception {
        ServeOptions o = TestServers.options().withShutdownGrace(Duration.ofMillis(300));
        ChorusServer s = new ChorusServer(o).start();
        try {
            error(TestServers.get(s, "/health"), 503);
            error(TestServers.post(s, "/v1/completions", "{\"prompt\":\"x\"}"), 503);
            s.load(() -> LoadedModel.load(o));
            assertThat(TestServers.get(s, "/health").statusCode()).isEqualTo(200);

            CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> TestServers.post(s,
                    "/v1/completions", "{\"prompt\":\"long\",\"max_tokens\":1000,\"ignore_eos\":true}"));
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (s.model().engine().stats().running() == 0 && System.nanoTime() < until) Thread.sleep(2);
            Thread stopper = Thread.ofVirtual().start(() -> s.shutdown(Duration.ZERO, o.shutdownGrace()));
            HttpResponse<String> cut = running.get();
            assertThat(cut.statusCode()).isEqualTo(200);
            assertThat(CompletionsApiTest.json(cut).at("/choices/0/finish_reason").asText()).isIn("abort", "length");
            stopper.join();
            assertThatThrownBy(() -> TestServers.get(s, "/health")).as("the listener is closed").isInstanceOf(java.io.UncheckedIOException.class);
        } finally {
            s.close();
        }
    }

    static HttpRequest authed(ChorusServer s, String path, String body) {
        return HttpRequest.newBuilder(URI.create(s.url() + path)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer sekret").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
