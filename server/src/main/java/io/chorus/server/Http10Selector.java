package io.chorus.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.Router;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * Serves HTTP/1.0 clients, which Helidon 4 answers with 505 and nothing else: health checks of
 * load balancers ({@code GET /health HTTP/1.0}, HAProxy's default) and proxies speaking 1.0 to
 * their upstreams (nginx's default). A connection whose first request line ends in
 * {@code HTTP/1.0} goes to Helidon's own HTTP/1.1 connection, with {@link Http10Requests}
 * rewriting what it reads and {@link Http10Responses} what it writes, so routing, handlers and
 * limits are the very same as for HTTP/1.1. Other connections are left to Helidon's selectors.
 */
final class Http10Selector implements ServerConnectionSelector {
    private static final String VERSION_SUFFIX = " HTTP/1.0\r";
    private final Http1ConnectionSelector http1;

    Http10Selector() {
        // HTTP/1.0 requests need not carry Host (HAProxy's default check sends none).
        this.http1 = Http1ConnectionSelector.builder()
                .config(Http1Config.builder().validateRequestHostHeader(false).build())
                .build();
    }

    @Override
    public int bytesToIdentifyConnection() {
        return 0; // decided on the first line, however long
    }

    @Override
    public Support supports(BufferData data) {
        int eol = data.indexOf((byte) '\n');
        if (eol == -1) return data.available() > Http10Requests.MAX_HEAD ? Support.UNSUPPORTED : Support.UNKNOWN;
        return data.readString(eol).endsWith(VERSION_SUFFIX) ? Support.SUPPORTED : Support.UNSUPPORTED;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return Set.of(); // never negotiated by ALPN
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        Http10Requests requests = new Http10Requests(ctx.dataReader());
        return http1.connection(new Translated(ctx, DataReader.create(requests), new Http10Responses(ctx.dataWriter(), requests)));
    }

    /** The connection's context with the translating reader and writer in place of the socket's. */
    private record Translated(ConnectionContext ctx, DataReader reader, DataWriter writer) implements ConnectionContext {
        @Override public DataReader dataReader() { return reader; }
        @Override public DataWriter dataWriter() { return writer; }
        @Override public ListenerContext listenerContext() { return ctx.listenerContext(); }
        @Override public ExecutorService executor() { return ctx.executor(); }
        @Override public Router router() { return ctx.router(); }
        @Override public Optional<ProxyProtocolData> proxyProtocolData() { return ctx.proxyProtocolData(); }
        @Override public HelidonSocket serverSocket() { return ctx.serverSocket(); }
        @Override public PeerInfo remotePeer() { return ctx.remotePeer(); }
        @Override public PeerInfo localPeer() { return ctx.localPeer(); }
        @Override public boolean isSecure() { return ctx.isSecure(); }
        @Override public String socketId() { return ctx.socketId(); }
        @Override public String childSocketId() { return ctx.childSocketId(); }
    }
}
