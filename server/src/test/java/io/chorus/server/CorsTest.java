package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --allowed-origins: preflights and CORS headers on every kind of answer, seen by a real HTTP client sending Origin. */
class CorsTest {
    static final String APP = "https://app.example";
    static final String KEY = "cors-key";
    static ChorusServer server;     // allows APP, needs KEY
    static ChorusServer open;       // allows any origin
    static ChorusServer plain;      // no --allowed-origins

    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o.withApiKey(KEY).withAllowedOrigins(List.of(APP, "http://localhost:3000")));
        open = TestServers.start(o -> o.withAllowedOrigins(List.of("*")));
        plain = TestServers.start(o -> o);
    }

    @AfterAll
    static void down() {
        server.close();
        open.close();
        plain.close();
    }

    static HttpResponse<String> preflight(ChorusServer s, String origin) {
        return TestServers.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os").build());
    }

    static HttpResponse<String> chat(ChorusServer s, String origin, String key, boolean stream) {
        HttpRequest.Builder b = TestServers.request(s, "/v1/chat/completions", key).header("Origin", origin)
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3,\"stream\":" + stream + "}"));
        return TestServers.send(b.build());
    }

    @Test
    void preflightFromAnAllowedOriginIsAnsweredWithoutTheApiKey() {
        HttpResponse<String> r = preflight(server, APP);
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
        assertThat(r.headers().firstValue("Vary")).hasValue("Origin");
        assertThat(r.headers().firstValue("Access-Control-Allow-Methods")).hasValue("GET, POST, DELETE, OPTIONS");
        assertThat(r.headers().firstValue("Access-Control-Allow-Headers")).hasValue("Authorization, Content-Type, authorization, content-type, x-stainless-os");
        assertThat(r.headers().firstValue("Access-Control-Max-Age")).hasValue("600");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void answersJsonStreamsAndErrorsCarryTheOrigin() {
        HttpResponse<String> json = chat(server, APP, KEY, false);
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
        assertThat(json.headers().firstValue("Vary")).hasValue("Origin");

        HttpResponse<String> sse = chat(server, "http://localhost:3000", KEY, true);
        assertThat(sse.statusCode()).isEqualTo(200);
        assertThat(sse.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        assertThat(sse.headers().firstValue("Access-Control-Allow-Origin")).hasValue("http://localhost:3000");
        assertThat(sse.body()).endsWith("data: [DONE]\n\n");

        HttpResponse<String> unauthorized = chat(server, APP, "wrong", false);
        assertThat(unauthorized.statusCode()).isEqualTo(401);
        assertThat(unauthorized.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);

        HttpResponse<String> missing = TestServers.send(TestServers.request(server, "/v1/nothing", KEY).header("Origin", APP).GET().build());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
    }

    @Test
    void anotherOriginGetsNoCorsHeadersAndItsPreflightIsRefused() {
        HttpResponse<String> r = preflight(server, "https://evil.example");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("Disallowed CORS origin");
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        HttpResponse<String> json = chat(server, "https://evil.example", KEY, false);
        assertThat(json.statusCode()).isEqualTo(200); // the server answers; the browser keeps it from the page
        assertThat(json.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void withoutAllowedOriginsThereIsNoCorsAtAll() {
        HttpResponse<String> r = preflight(plain, APP);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        HttpResponse<String> json = chat(plain, APP, null, false);
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void aWildcardAllowsAnyOrigin() {
        HttpResponse<String> r = preflight(open, "https://anywhere.example");
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(chat(open, "null", null, false).headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
    }

    @Test
    void http10RequestsGetTheHeaderToo() throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("GET /v1/models HTTP/1.0\r\nOrigin: " + APP + "\r\nAuthorization: Bearer " + KEY + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 200");
            assertThat(response.toLowerCase()).contains("access-control-allow-origin: " + APP + "\r\n");
        }
    }
}
