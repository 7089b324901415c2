package io.chorus.server;

import io.helidon.common.socket.HelidonSocket;
import io.helidon.http.Headers;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.util.function.BooleanSupplier;

/**
 * Notices that the client of a non-streaming request has closed its connection, so its sequence is
 * aborted instead of generating for nobody. Nothing is written to a non-streaming response until the
 * end, so a write cannot fail early; instead the socket is read: once the request body has been read,
 * Helidon's socket monitor ({@link HelidonSocket#idle()}) reads ahead, keeps any byte it gets for the
 * next request, and marks the socket closed when the peer closes.
 *
 * <p>Helidon runs an HTTP/1 connection's handlers on the connection's own thread, right after it has
 * read the headers, so this listener hands the handler its connection through a thread-local.
 */
final class ConnectionWatch implements Http1ConnectionListener {
    private static final ThreadLocal<ConnectionContext> CURRENT = new ThreadLocal<>();
    /** Used when the connection is unknown (not HTTP/1): never reports the client gone. */
    static final BooleanSupplier ALWAYS_CONNECTED = () -> false;

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        CURRENT.set(ctx);
    }

    /**
     * Starts watching the connection of the request this thread is handling (its body must have been
     * read) and returns a check that is true once the client has gone.
     */
    static BooleanSupplier watchCurrent() {
        ConnectionContext ctx = CURRENT.get();
        if (ctx == null) return ALWAYS_CONNECTED;
        HelidonSocket socket;
        try {
            socket = ctx.serverSocket();
        } catch (UnsupportedOperationException e) {
            return ALWAYS_CONNECTED;
        }
        socket.idle();
        return () -> !socket.isConnected();
    }
}
