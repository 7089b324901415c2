package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A stream of JSON objects, one per line, flushed at once: how Ollama's API streams
 * ({@code application/x-ndjson}). Writes fail with an I/O error once the client is gone.
 */
final class Ndjson implements AutoCloseable {
    private final OutputStream out;

    Ndjson(ServerResponse res) {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "application/x-ndjson");
        this.out = res.outputStream();
    }

    void send(JsonNode line) throws IOException {
        byte[] json = ChorusServer.JSON.writeValueAsBytes(line);
        byte[] frame = new byte[json.length + 1];
        System.arraycopy(json, 0, frame, 0, json.length);
        frame[json.length] = '\n';
        try {
            out.write(frame);
            out.flush();
        } catch (RuntimeException e) { // Helidon wraps broken pipes
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
