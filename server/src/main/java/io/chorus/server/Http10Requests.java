package io.chorus.server;

import io.helidon.common.buffers.DataReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The request side of an HTTP/1.0 connection: supplies Helidon's HTTP/1.1 connection with the
 * client's bytes, each request head rewritten as HTTP/1.1 with an explicit {@code Connection}
 * header ({@code keep-alive} only when the client asked for it, as HTTP/1.0 requires).
 *
 * <p>Implementation notes. HTTP/1.0 request bodies are delimited by Content-Length only, so the
 * stream is framed here without help: a head up to the blank line, then exactly Content-Length
 * body bytes, then the next head. A request carrying Transfer-Encoding (faulty framing on 1.0) and
 * anything after a request line of another version pass through untouched and end the connection
 * after the response. Each forwarded request queues its {@link Request} for {@link Http10Responses};
 * once a response must end the connection, {@link #endAfterResponse} makes the next read an end of
 * stream, which ends Helidon's connection loop and closes the socket. Used by the connection's
 * thread; the queue is guarded by {@code this} since the response side reads it.
 */
final class Http10Requests implements Supplier<byte[]> {
    /** Largest request head accepted for rewriting; longer ones pass through for Helidon to reject. */
    static final int MAX_HEAD = 20 * 1024;
    private static final byte[] EMPTY = new byte[0];

    /** What the response side needs to know about one request. */
    record Request(boolean keepAlive, boolean head) {}

    private enum State { HEAD, BODY, PASS }

    private final DataReader in;
    private final ArrayDeque<Request> pending = new ArrayDeque<>();
    private byte[] buf = new byte[4096];
    private int start, end; // unread client bytes are buf[start, end)
    private State state = State.HEAD;
    private long bodyLeft;
    private volatile boolean ended;

    Http10Requests(DataReader in) {
        this.in = in;
    }

    /** The next bytes for Helidon, or null for end of stream. */
    @Override
    public byte[] get() {
        while (true) {
            if (state == State.HEAD && ended) return null;
            if (start == end && !fill()) return null;
            switch (state) {
                case PASS -> {
                    return take(end - start);
                }
                case BODY -> {
                    byte[] b = take((int) Math.min(bodyLeft, end - start));
                    bodyLeft -= b.length;
                    if (bodyLeft == 0) state = State.HEAD;
                    return b;
                }
                case HEAD -> {
                    int headEnd = indexOfBlankLine();
                    if (headEnd >= 0) return rewrite(take(headEnd - start));
                    if (end - start > MAX_HEAD) {
                        state = State.PASS;
                        endAfterResponse();
                    } else if (!fill()) {
                        return null;
                    }
                }
            }
        }
    }

    /** The request the next response answers (a default when none was seen: close after it). */
    synchronized Request nextResponse() {
        Request r = pending.poll();
        return r != null ? r : new Request(false, false);
    }

    /** The connection ends once the current response is written: the next read is end of stream. */
    void endAfterResponse() {
        ended = true;
    }

    private synchronized void queue(Request r) {
        pending.add(r);
    }

    /** One head (through its blank line) rewritten as HTTP/1.1, or passed through when it is not HTTP/1.0. */
    private byte[] rewrite(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n");
        String requestLine = lines[0];
        if (!requestLine.endsWith(" HTTP/1.0")) {
            // Not an HTTP/1.0 request line: Helidon parses (or rejects) the rest of the connection as it is.
            state = State.PASS;
            queue(new Request(false, false));
            endAfterResponse();
            return head;
        }
        boolean keepAlive = false, chunked = false;
        long length = 0;
        StringBuilder out = new StringBuilder(head.length + 32);
        out.append(requestLine, 0, requestLine.length() - 3).append("1.1\r\n");
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            String name = colon > 0 ? line.substring(0, colon).trim().toLowerCase(Locale.ROOT) : "";
            String value = colon > 0 ? line.substring(colon + 1).trim() : "";
            switch (name) {
                case "connection" -> {
                    for (String token : value.split(",")) {
                        if (token.trim().equalsIgnoreCase("keep-alive")) keepAlive = true;
                    }
                    continue; // replaced below by one explicit header
                }
                case "keep-alive" -> {
                    continue;
                }
                case "transfer-encoding" -> chunked = true;
                case "content-length" -> length = parseLength(value);
                default -> { }
            }
            out.append(line).append("\r\n");
        }
        if (chunked) keepAlive = false; // faulty framing on 1.0: answer, then close
        out.append("Connection: ").append(keepAlive ? "keep-alive" : "close").append("\r\n\r\n");
        boolean isHead = requestLine.startsWith("HEAD ");
        queue(new Request(keepAlive, isHead));
        if (chunked) {
            state = State.PASS; // Helidon decodes the chunked body itself
            endAfterResponse();
        } else if (length > 0) {
            state = State.BODY;
            bodyLeft = length;
        }
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A Content-Length value; a malformed one is left to Helidon's own check by forwarding no body. */
    private static long parseLength(String value) {
        try {
            long n = Long.parseLong(value);
            return Math.max(0, n);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The index just past the first CRLF CRLF in the unread bytes, or -1. */
    private int indexOfBlankLine() {
        for (int i = start; i + 3 < end; i++) {
            if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') return i + 4;
        }
        return -1;
    }

    private byte[] take(int n) {
        if (n == 0) return EMPTY;
        byte[] b = new byte[n];
        System.arraycopy(buf, start, b, 0, n);
        start += n;
        return b;
    }

    /** Appends what the client sent next; false at end of stream. */
    private boolean fill() {
        try {
            if (in.available() == 0) in.pullData();
        } catch (DataReader.InsufficientDataAvailableException e) {
            return false;
        }
        byte[] more = in.readBytes(in.available());
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end + more.length > buf.length) {
            byte[] bigger = new byte[Math.max(buf.length * 2, end + more.length)];
            System.arraycopy(buf, 0, bigger, 0, end);
            buf = bigger;
        }
        System.arraycopy(more, 0, buf, end, more.length);
        end += more.length;
        return true;
    }
}
