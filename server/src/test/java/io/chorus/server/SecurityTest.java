package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The API key, route by route: required everywhere but /health (and /metrics with --metrics-public), never logged. */
class SecurityTest {
    private static final String KEY = "sk-chorus-test-7f3a9c";
    private static final List<String> LOGGED = new ArrayList<>();
    private static final Handler CAPTURE = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (LOGGED) {
                LOGGED.add(String.valueOf(r.getMessage()) + " " + java.util.Arrays.toString(r.getParameters()) + " " + r.getThrown());
            }
        }

        @Override public void flush() {}
        @Override public void close() {}
    };
    static ChorusServer keyed;
    static ChorusServer publicMetrics;

    @BeforeAll
    static void up() {
        Logger.getLogger("").addHandler(CAPTURE);
        Logger.getLogger("").setLevel(Level.ALL);
        keyed = TestServers.start(o -> o.withApiKey(KEY));
        publicMetrics = TestServers.start(o -> o.withApiKey(KEY).withMetricsPublic(true));
    }

    @AfterAll
    static void down() {
        keyed.close();
        publicMetrics.close();
        Logger.getLogger("").removeHandler(CAPTURE);
        Logger.getLogger("").setLevel(Level.INFO);
    }

    /** Every route with a body that succeeds once authorized, and the status it then gets. */
    static Stream<Arguments> routes() {
        return Stream.of(
                Arguments.of("GET", "/version", null, 200),
                Arguments.of("GET", "/metrics", null, 200),
                Arguments.of("GET", "/v1/models", null, 200),
                Arguments.of("GET", "/v1/engine/status", null, 200),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}", 200),
                Arguments.of("POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}", 200),
                Arguments.of("POST", "/tokenize", "{\"prompt\":\"hi\"}", 200),
                Arguments.of("POST", "/detokenize", "{\"tokens\":[5,6]}", 200),
                Arguments.of("GET", "/no/such/route", null, 404),
                Arguments.of("DELETE", "/v1/models", null, 404));
    }

    static HttpResponse<String> call(ChorusServer s, String method, String path, String body, String key) {
        HttpRequest.Builder b = TestServers.request(s, path, key);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return TestServers.send(b.build());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("routes")
    void everyRouteNeedsTheKey(String method, String path, String body, int authorized) {
        for (String wrong : new String[] {null, "", "wrong", KEY + "x", KEY.substring(1)}) {
            HttpResponse<String> r = call(keyed, method, path, body, wrong);
            JsonNode e = ErrorsTest.error(r, 401);
            assertThat(e.get("code").asText()).isEqualTo("invalid_api_key");
        }
        assertThat(call(keyed, method, path, body, KEY).statusCode()).isEqualTo(authorized);
    }

    @Test
    void healthNeedsNoKeyAndMetricsOnlyWhenPublic() {
        assertThat(call(keyed, "GET", "/health", null, null).statusCode()).isEqualTo(200);
        assertThat(call(publicMetrics, "GET", "/health", null, null).statusCode()).isEqualTo(200);
        HttpResponse<String> m = call(publicMetrics, "GET", "/metrics", null, null);
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.body()).contains("vllm:num_requests_running");
        ErrorsTest.error(call(publicMetrics, "GET", "/v1/models", null, null), 401);
        ErrorsTest.error(call(publicMetrics, "POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}", null), 401);
    }

    @Test
    void theKeyIsNeverLoggedNorPrinted() {
        // A failing request with the right key, and refused ones with near-miss keys, all get logged somehow.
        call(keyed, "POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":999999}", KEY);
        call(keyed, "POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}", KEY + "x");
        call(keyed, "POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}", KEY);
        assertThat(keyed.model().options().toString()).doesNotContain(KEY).contains("apiKey=(set)");
        synchronized (LOGGED) {
            assertThat(LOGGED).isNotEmpty().noneMatch(line -> line.contains(KEY.substring(3)));
        }
    }
}
