package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HTTP/1.0 translation on byte streams split at every possible place. */
class Http10ResponsesTest {

    /** Collects what the client would receive. */
    static final class Sink implements DataWriter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        @Override public void write(BufferData... buffers) { for (BufferData b : buffers) write(b); }
        @Override public void write(BufferData buffer) { bytes.writeBytes(buffer.readBytes()); }
        @Override public void writeNow(BufferData... buffers) { write(buffers); }
        @Override public void writeNow(BufferData buffer) { write(buffer); }
        String text() { return bytes.toString(StandardCharsets.ISO_8859_1); }
    }

    /** A request side fed from fixed client bytes, split into the given pieces. */
    static Http10Requests requests(String... pieces) {
        ArrayDeque<byte[]> q = new ArrayDeque<>();
        for (String p : pieces) q.add(p.getBytes(StandardCharsets.ISO_8859_1));
        return new Http10Requests(DataReader.create(q::poll));
    }

    /** Everything Helidon would read, until end of stream. */
    static String drain(Http10Requests r) {
        StringBuilder b = new StringBuilder();
        for (byte[] bytes; (bytes = r.get()) != null; ) b.append(new String(bytes, StandardCharsets.ISO_8859_1));
        return b.toString();
    }

    static void writeByteByByte(Http10Responses w, String helidon) {
        for (byte c : helidon.getBytes(StandardCharsets.ISO_8859_1)) w.write(BufferData.create(new byte[] {c}));
    }

    @Test
    void requestHeadsAreRewrittenAndBodiesPassByContentLength() {
        Http10Requests r = requests("POST /v1/x HTTP/1.0\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5\r\nContent-Le",
                "ngth: 9\r\n\r\n{\"a\":1}\r\n", "GET /health HTTP/1.0\r\n\r\n");
        assertThat(drain(r)).isEqualTo("POST /v1/x HTTP/1.1\r\nContent-Length: 9\r\nConnection: keep-alive\r\n\r\n{\"a\":1}\r\n"
                + "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
        assertThat(r.nextResponse()).isEqualTo(new Http10Requests.Request(true, false));
        assertThat(r.nextResponse()).isEqualTo(new Http10Requests.Request(false, false));
    }

    @Test
    void aChunkedResponseLosesItsFramingAndEndsTheConnection() {
        Http10Requests r = requests("GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET /next HTTP/1.0\r\n\r\n");
        assertThat(r.get()).asString(StandardCharsets.ISO_8859_1).startsWith("GET /s HTTP/1.1\r\n");
        Sink sink = new Sink();
        Http10Responses w = new Http10Responses(sink, r);
        writeByteByByte(w, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
                + "f\r\ndata: {\"a\":1}\n\n\r\n" + "10;ext=1\r\ndata: [DONE]\n\n\r\n\r\n" + "0\r\nX-Trailer: t\r\n\r\n");
        assertThat(sink.text()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                + "data: {\"a\":1}\n\ndata: [DONE]\n\n\r\n");
        assertThat(r.get()).as("the next read ends the connection").isNull();
    }

    @Test
    void keepAliveResponsesWithContentLengthFollowOneAnother() {
        Http10Requests r = requests("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nHEAD /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                "GET /c HTTP/1.0\r\n\r\n");
        assertThat(r.get()).isNotNull();
        assertThat(r.get()).isNotNull();
        Sink sink = new Sink();
        Http10Responses w = new Http10Responses(sink, r);
        writeByteByByte(w, "HTTP/1.1 100 Continue\r\n\r\n" // interim: never shown to a 1.0 client
                + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                + "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"); // HEAD: no body follows
        assertThat(r.get()).asString(StandardCharsets.ISO_8859_1).isEqualTo("GET /c HTTP/1.1\r\nConnection: close\r\n\r\n");
        w.write(BufferData.create("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"));
        assertThat(sink.text()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"
                + "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n"
                + "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        assertThat(r.get()).isNull();
    }

    @Test
    void anotherVersionOrAChunkedRequestPassesThroughAndEndsAfterItsResponse() {
        Http10Requests r = requests("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(drain(r)).isEqualTo("GET /a HTTP/1.1\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        Http10Requests chunked = requests("POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
        assertThat(drain(chunked)).isEqualTo("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nab\r\n0\r\n\r\n");
        assertThat(List.of(chunked.nextResponse())).containsExactly(new Http10Requests.Request(false, false));
    }
}
