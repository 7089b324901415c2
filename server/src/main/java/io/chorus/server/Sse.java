package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events exactly as OpenAI writes them: {@code data: <json>\n\n} per chunk, flushed at
 * once, ending with {@code data: [DONE]\n\n}. Writes fail with an I/O error once the client is gone.
 */
final class Sse implements AutoCloseable {
    private static final byte[] PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private final OutputStream out;

    Sse(ServerResponse res) {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        this.out = res.outputStream();
    }

    void send(JsonNode chunk) throws IOException {
        byte[] json = ChorusServer.JSON.writeValueAsBytes(chunk);
        byte[] frame = new byte[PREFIX.length + json.length + END.length];
        System.arraycopy(PREFIX, 0, frame, 0, PREFIX.length);
        System.arraycopy(json, 0, frame, PREFIX.length, json.length);
        System.arraycopy(END, 0, frame, PREFIX.length + json.length, END.length);
        write(frame);
    }

    void done() throws IOException {
        write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes and flushes; whatever the connection throws (Helidon wraps broken pipes) becomes an IOException. */
    private void write(byte[] bytes) throws IOException {
        try {
            out.write(bytes);
            out.flush();
        } catch (RuntimeException e) {
            throw new IOException("the client connection is gone: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } catch (RuntimeException e) {
            throw new IOException("the client connection is gone: " + e.getMessage(), e);
        }
    }
}
