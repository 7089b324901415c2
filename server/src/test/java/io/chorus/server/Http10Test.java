package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Raw HTTP/1.0 over a socket, as load balancers' health checks and nginx's default upstream requests send it. */
class Http10Test {
    static ChorusServer server;

    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    /** One response read off a socket: status line, headers (lower-case names), body. */
    record Response(String statusLine, java.util.Map<String, String> headers, String body) {
        String header(String name) { return headers.get(name); }
    }

    static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(30_000);
        return s;
    }

    static void send(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Reads one response: by Content-Length when present, otherwise to the end of the stream. */
    static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int c, last4 = 0;
        while ((c = in.read()) != -1) {
            head.write(c);
            last4 = (last4 << 8) | c;
            if (last4 == 0x0d0a0d0a) break;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(), lines[i].substring(colon + 1).trim());
        }
        byte[] body = headers.containsKey("content-length")
                ? in.readNBytes(Integer.parseInt(headers.get("content-length")))
                : in.readAllBytes();
        return new Response(lines[0], headers, new String(body, StandardCharsets.UTF_8));
    }

    /** Sends one request on a fresh connection and reads everything the server sends until it closes. */
    static String exchange(String request) throws IOException {
        try (Socket s = connect()) {
            send(s, request);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static String post(String path, String body, String extraHeaders) {
        return "POST " + path + " HTTP/1.0\r\nHost: chorus\r\nContent-Type: application/json\r\n" + extraHeaders
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    @Test
    void haproxysDefaultHealthCheckGets200AndTheConnectionCloses() throws IOException {
        String all = exchange("GET /health HTTP/1.0\r\n\r\n"); // exactly what `option httpchk GET /health` sends
        assertThat(all).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\nConnection: close\r\n").contains("\r\nContent-Length: 0\r\n")
                .endsWith("\r\n\r\n").doesNotContainIgnoringCase("transfer-encoding");
    }

    @Test
    void modelsAnswerWithContentLengthAndClose() throws IOException {
        try (Socket s = connect()) {
            send(s, "GET /v1/models HTTP/1.0\r\nHost: chorus\r\nAccept: application/json\r\n\r\n");
            InputStream in = s.getInputStream();
            Response r = read(in);
            assertThat(r.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(r.header("transfer-encoding")).isNull();
            JsonNode models = ChorusServer.JSON.readTree(r.body());
            assertThat(models.get("data").get(0).get("id").asText()).isEqualTo(TestServers.MODEL);
            assertThat(in.read()).as("the server closes after the response").isEqualTo(-1);
        }
    }

    @Test
    void aChatCompletionIsServedWithContentLength() throws IOException {
        try (Socket s = connect()) {
            send(s, post("/v1/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":5,\"temperature\":0,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", ""));
            InputStream in = s.getInputStream();
            Response r = read(in);
            assertThat(r.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(r.header("connection")).isEqualTo("close");
            JsonNode body = ChorusServer.JSON.readTree(r.body());
            assertThat(body.get("object").asText()).isEqualTo("chat.completion");
            assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aStreamIsDelimitedByClosingTheConnectionWithoutChunkFraming() throws IOException {
        String all = exchange(post("/v1/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":6,\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "Connection: keep-alive\r\n"));
        int split = all.indexOf("\r\n\r\n");
        String head = all.substring(0, split);
        String body = all.substring(split + 4);
        assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\nConnection: close")
                .containsIgnoringCase("content-type: text/event-stream").doesNotContainIgnoringCase("transfer-encoding")
                .doesNotContainIgnoringCase("content-length");
        assertThat(body).startsWith("data: {").endsWith("data: [DONE]\n\n");
        // every line is SSE: no chunk sizes or chunk CRLFs leaked into the stream
        for (String line : body.split("\n")) assertThat(line).matches("^(data: .*)?$");
        long events = body.lines().filter(l -> l.startsWith("data: {")).count();
        assertThat(events).isGreaterThanOrEqualTo(2);
    }

    @Test
    void keepAliveIsHonouredWhenAskedAndTheLastRequestCloses() throws IOException {
        try (Socket s = connect()) {
            InputStream in = s.getInputStream();
            send(s, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Response first = read(in);
            assertThat(first.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(first.header("connection")).isEqualTo("keep-alive");
            send(s, post("/tokenize", "{\"prompt\":\"hello\"}", "Connection: Keep-Alive\r\n"));
            Response second = read(in);
            assertThat(second.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(second.header("connection")).isEqualTo("keep-alive");
            assertThat(ChorusServer.JSON.readTree(second.body()).get("count").asInt()).isPositive();
            send(s, "GET /v1/models HTTP/1.0\r\n\r\n");
            Response third = read(in);
            assertThat(third.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(third.header("connection")).isEqualTo("close");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void errorsKeepTheirStatusAndJsonOverHttp10() throws IOException {
        try (Socket s = connect()) {
            send(s, post("/v1/chat/completions", "{not json", ""));
            Response r = read(s.getInputStream());
            assertThat(r.statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
            assertThat(ChorusServer.JSON.readTree(r.body()).get("error").get("type").asText()).isEqualTo("invalid_request_error");
        }
        assertThat(exchange("GET /nowhere HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 404 ");
    }

    @Test
    void http11IsUntouched() throws IOException {
        try (Socket s = connect()) {
            InputStream in = s.getInputStream();
            send(s, "GET /health HTTP/1.1\r\nHost: chorus\r\n\r\n");
            Response r = read(in);
            assertThat(r.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            send(s, "GET /health HTTP/1.1\r\nHost: chorus\r\nConnection: close\r\n\r\n");
            assertThat(read(in).statusLine()).as("HTTP/1.1 keeps the connection open by default").isEqualTo("HTTP/1.1 200 OK");
        }
    }
}
