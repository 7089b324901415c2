package io.chorus.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The response side of an HTTP/1.0 connection: Helidon writes HTTP/1.1 responses, and this writer
 * hands the client what an HTTP/1.0 client can read. Bodies Helidon would send chunked (streams,
 * SSE) lose their chunk framing and are delimited by closing the connection; bodies with a
 * Content-Length pass through, and the connection stays open only when the request asked for
 * keep-alive ({@code Connection: keep-alive} is then said explicitly). Interim 1xx responses are
 * dropped (an HTTP/1.0 client never expects them). The status line keeps {@code HTTP/1.1}: a server
 * names the highest version it conforms to (RFC 9110, section 6.2).
 *
 * <p>Implementation notes. A small state machine over the byte stream, which may be split
 * anywhere: HEAD collects a response head up to its blank line; LENGTH passes {@code left} bytes;
 * then either the next HEAD or, for chunked bodies, SIZE (a chunk-size line), DATA ({@code left}
 * bytes), DATA_END (the CRLF after the data) and TRAILER (lines up to a blank one). Used by the
 * connection's thread only.
 */
final class Http10Responses implements DataWriter {
    private enum State { HEAD, LENGTH, SIZE, DATA, DATA_END, TRAILER }
    private static final int CRLF_CRLF = 0x0d0a0d0a;

    private final DataWriter out;
    private final Http10Requests requests;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(); // a head or a chunk-size/trailer line being collected
    private State state = State.HEAD;
    private long left;
    private int lastFour; // the last four head bytes, to spot the blank line that ends a head
    private boolean closeAfter;

    Http10Responses(DataWriter out, Http10Requests requests) {
        this.out = out;
        this.requests = requests;
    }

    @Override
    public void write(BufferData... buffers) {
        for (BufferData b : buffers) write(b);
    }

    @Override
    public void write(BufferData buffer) {
        BufferData t = translate(buffer);
        if (t != null) out.write(t);
    }

    @Override
    public void writeNow(BufferData... buffers) {
        for (BufferData b : buffers) writeNow(b);
    }

    @Override
    public void writeNow(BufferData buffer) {
        BufferData t = translate(buffer);
        if (t != null) out.writeNow(t);
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.close();
    }

    /** What the client receives for these bytes of Helidon's (null when nothing). */
    private BufferData translate(BufferData buffer) {
        byte[] in = buffer.readBytes();
        ByteArrayOutputStream toClient = new ByteArrayOutputStream(in.length + 64);
        int i = 0;
        while (i < in.length) {
            switch (state) {
                case HEAD -> {
                    byte c = in[i++];
                    line.write(c);
                    lastFour = (lastFour << 8) | (c & 0xff);
                    if (lastFour == CRLF_CRLF) {
                        lastFour = 0;
                        toClient.writeBytes(head(line.toString(StandardCharsets.ISO_8859_1)));
                        line.reset();
                    }
                }
                case LENGTH, DATA -> {
                    int n = (int) Math.min(left, in.length - i);
                    toClient.write(in, i, n);
                    i += n;
                    left -= n;
                    if (left == 0) {
                        if (state == State.DATA) {
                            state = State.DATA_END;
                            left = 2;
                        } else {
                            responseDone();
                        }
                    }
                }
                case DATA_END -> {
                    int n = (int) Math.min(left, in.length - i);
                    i += n;
                    left -= n;
                    if (left == 0) state = State.SIZE;
                }
                case SIZE, TRAILER -> {
                    byte c = in[i++];
                    line.write(c);
                    if (c != '\n') continue;
                    String text = line.toString(StandardCharsets.ISO_8859_1).trim();
                    line.reset();
                    if (state == State.TRAILER) {
                        if (text.isEmpty()) responseDone();
                    } else {
                        int semi = text.indexOf(';');
                        left = Long.parseLong(semi >= 0 ? text.substring(0, semi).trim() : text, 16);
                        state = left == 0 ? State.TRAILER : State.DATA;
                    }
                }
            }
        }
        return toClient.size() == 0 ? null : BufferData.create(toClient.toByteArray());
    }

    /** A response head rewritten for an HTTP/1.0 client (empty for a dropped interim response). */
    private byte[] head(String text) {
        String[] lines = text.split("\r\n");
        String statusLine = lines[0];
        int status = statusLine.length() >= 12 ? Integer.parseInt(statusLine.substring(9, 12)) : 500;
        if (status >= 100 && status < 200) return new byte[0];
        Http10Requests.Request request = requests.nextResponse();
        boolean chunked = false;
        long length = -1;
        StringBuilder b = new StringBuilder(text.length());
        b.append(statusLine).append("\r\n");
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i];
            int colon = l.indexOf(':');
            String name = colon > 0 ? l.substring(0, colon).trim().toLowerCase(Locale.ROOT) : "";
            String value = colon > 0 ? l.substring(colon + 1).trim() : "";
            switch (name) {
                case "transfer-encoding" -> {
                    chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    continue;
                }
                case "connection", "keep-alive", "trailer" -> {
                    continue;
                }
                case "content-length" -> length = Long.parseLong(value);
                default -> { }
            }
            b.append(l).append("\r\n");
        }
        boolean body = !request.head() && status != 204 && status != 304;
        boolean keepAlive = request.keepAlive() && (!body || length >= 0) && !chunked;
        b.append("Connection: ").append(keepAlive ? "keep-alive" : "close").append("\r\n\r\n");
        closeAfter = !keepAlive;
        if (!body) {
            responseDone();
        } else if (chunked) {
            state = State.SIZE;
        } else if (length != 0) {
            state = State.LENGTH;
            left = length > 0 ? length : Long.MAX_VALUE; // no length and not chunked: the body runs to the close
        } else {
            responseDone();
        }
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private void responseDone() {
        state = State.HEAD;
        if (closeAfter) requests.endAfterResponse();
    }
}
