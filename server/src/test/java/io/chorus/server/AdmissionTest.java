package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chorus.engine.api.EngineStats;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Admission: the queue bound before any work, max_tokens, and a non-streaming client that leaves. */
class AdmissionTest {
    @TempDir static Path dir;
    static ChorusServer plain;

    @BeforeAll
    static void up() {
        plain = TestServers.start(o -> o);
    }

    @AfterAll
    static void down() {
        plain.close();
    }

    private static CompletableFuture<HttpResponse<String>> async(ChorusServer s, String path, String body) {
        return CompletableFuture.supplyAsync(() -> TestServers.post(s, path, body));
    }

    @Test
    void theDefaultBoundIsFourTimesMaxNumSeqsAndTheQueueIsCheckedBeforeRendering() throws Exception {
        assertThat(ServeOptions.defaults().queueBound()).isEqualTo(4 * ServeOptions.defaults().maxNumSeqs());
        Path template = dir.resolve("refuse-system.jinja");
        Files.writeString(template, "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system') }}{% endif %}"
                + "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n");
        Gate[] gate = new Gate[1];
        try (ChorusServer s = TestServers.start(o -> o.withMaxNumSeqs(1).withChatTemplate(template), Gate.seams(gate))) {
            String refused = "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}";
            ErrorsTest.error(TestServers.post(s, "/v1/chat/completions", refused), 400); // rendered: the template refuses it

            List<CompletableFuture<HttpResponse<String>>> admitted = new ArrayList<>();
            for (int i = 0; i < 5; i++) { // 1 running + 4 waiting
                admitted.add(async(s, "/v1/completions", "{\"prompt\":\"p" + i + "\",\"max_tokens\":3,\"ignore_eos\":true}"));
                int n = i + 1;
                TestServers.await("admission of request " + n, () -> s.admitted() == n);
            }
            HttpResponse<String> full = TestServers.post(s, "/v1/completions", "{\"prompt\":\"one too many\",\"max_tokens\":1}");
            assertThat(ErrorsTest.error(full, 429).get("type").asText()).isEqualTo("rate_limit_error");
            assertThat(full.headers().firstValue("retry-after")).hasValue("1");
            // Refused before rendering and tokenizing: a body the template (or the context) would refuse gets 429, not 400.
            ErrorsTest.error(TestServers.post(s, "/v1/chat/completions", refused), 429);
            ErrorsTest.error(TestServers.post(s, "/v1/completions", "{\"prompt\":\"" + "word ".repeat(5000) + "\"}"), 429);
            ErrorsTest.error(TestServers.post(s, "/v1/completions", "{\"prompt\":[\"a\",\"b\"],\"max_tokens\":1}"), 429);

            gate[0].open();
            for (CompletableFuture<HttpResponse<String>> f : admitted) {
                assertThat(f.get().statusCode()).as(f.get().body()).isEqualTo(200);
                assertThat(CompletionsApiTest.json(f.get()).at("/usage/completion_tokens").asInt()).isEqualTo(3);
            }
            // A handler gives its ticket back just after writing its response, so the client may see the answer first.
            TestServers.await("every ticket back", () -> s.admitted() == 0);
        }
    }

    @ParameterizedTest(name = "{0} {1} = {2}")
    @CsvSource({
            "/v1/chat/completions, max_tokens, 0", "/v1/chat/completions, max_tokens, -1",
            "/v1/chat/completions, max_completion_tokens, 0", "/v1/chat/completions, max_completion_tokens, -1",
            "/v1/completions, max_tokens, 0", "/v1/completions, max_tokens, -1"})
    void nonPositiveMaxTokensIsABadRequestNamingTheField(String path, String field, int value) {
        String prompt = path.contains("chat") ? "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" : "\"prompt\":\"hi\"";
        JsonNode e = ErrorsTest.error(TestServers.post(plain, path, "{" + prompt + ",\"" + field + "\":" + value + "}"), 400);
        assertThat(e.get("param").asText()).isEqualTo(field);
        assertThat(e.get("message").asText()).contains(field).contains(String.valueOf(value));
    }

    @Test
    void withoutMaxTokensARequestIsAdmittedOnlyIfItsPromptLeavesRoom() {
        int maxModelLen = plain.model().maxModelLen();
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < maxModelLen - 1; i++) ids.append(i == 0 ? "" : ",").append(100 + i % 200);
        JsonNode ok = CompletionsApiTest.json(TestServers.post(plain, "/v1/completions",
                "{\"prompt\":[" + ids + "],\"ignore_eos\":true}"));
        assertThat(ok.at("/usage/completion_tokens").asInt()).isEqualTo(1); // the rest of the context: one token
        assertThat(ok.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        JsonNode e = ErrorsTest.error(TestServers.post(plain, "/v1/completions", "{\"prompt\":[" + ids + ",7]}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("prompt");
        assertThat(e.get("message").asText()).contains(String.valueOf(maxModelLen));
    }

    @Test
    void aNonStreamingClientThatClosesItsConnectionIsAbortedWithinOneStep() throws Exception {
        Gate[] gate = new Gate[1];
        try (ChorusServer s = TestServers.start(o -> o, Gate.seams(gate))) {
            String body = "{\"prompt\":\"hello\",\"max_tokens\":500,\"ignore_eos\":true}";
            Socket client = new Socket("127.0.0.1", s.port());
            OutputStream out = client.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            gate[0].awaitArrivals(1);
            gate[0].allow(3);
            gate[0].awaitArrivals(4); // prefill and three decodes done; held inside the fifth step
            client.close();
            TestServers.await("the handler to notice the closed connection", () -> s.admitted() == 0);
            int steps = gate[0].arrivals();
            gate[0].allow(1); // the held step ends; the next one drains the abort
            TestServers.await("the abort", () -> s.model().engine().stats().finishedAbort() == 1);
            EngineStats st = s.model().engine().stats();
            assertThat(st.running()).isZero();
            assertThat(st.kvUsage()).isZero();
            assertThat(st.finishedLength()).isZero();
            assertThat(st.generationTokens()).isEqualTo(steps); // no step ran for it after the one that was held
            assertThat(gate[0].arrivals()).isEqualTo(steps);
        }
    }

    @Test
    void aStreamingClientThatClosesItsConnectionIsAborted() throws Exception {
        Gate[] gate = new Gate[1];
        try (ChorusServer s = TestServers.start(o -> o, Gate.seams(gate))) {
            String body = "{\"prompt\":\"hello\",\"max_tokens\":500,\"ignore_eos\":true,\"stream\":true}";
            Socket client = new Socket("127.0.0.1", s.port());
            client.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            gate[0].allow(4);
            InputStream in = client.getInputStream();
            in.read(new byte[64]); // the stream has started
            client.close();
            gate[0].open();
            TestServers.await("the abort", () -> s.model().engine().stats().finishedAbort() == 1);
            assertThat(s.model().engine().stats().kvUsage()).isZero();
            assertThat(s.model().engine().stats().finishedLength()).isZero();
        }
    }
}
