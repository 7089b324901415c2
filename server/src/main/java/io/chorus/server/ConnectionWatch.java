package io.chorus.server;

import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * Notices that the client of a non-streaming request closed its connection, so its sequence is
 * aborted instead of generating for nobody. Nothing is written to a non-streaming response until the
 * end, so no write can fail early, and reading the socket would take bytes that belong to Helidon.
 * Instead one poller thread looks up each watched connection in the kernel's TCP table
 * ({@code /proc/net/tcp}, {@code /proc/net/tcp6}) every {@link #PERIOD_MS} ms: a connection that has
 * left ESTABLISHED (the client's FIN puts it in CLOSE_WAIT) or vanished (a reset) is gone.
 *
 * <p>Linux only; elsewhere {@link #watch} answers "connected" and {@code --request-timeout} remains
 * the bound. Thread-safe: handlers add and remove watches; the poller alone sets their flags.
 */
final class ConnectionWatch {
    private static final Logger LOG = Logger.getLogger(ConnectionWatch.class.getName());
    static final long PERIOD_MS = 20;
    /** Used when the connection cannot be watched: never reports the client gone. */
    static final BooleanSupplier ALWAYS_CONNECTED = () -> false;
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String ESTABLISHED = "01";

    /** One watched connection, keyed by its ports and the client's address. */
    private record Key(int localPort, int remotePort, String remoteAddress) {}

    private static final class Watch implements BooleanSupplier {
        volatile boolean seen; // found ESTABLISHED at least once: only then does vanishing mean gone
        volatile boolean gone;

        @Override
        public boolean getAsBoolean() { return gone; }
    }

    private final Map<Key, Watch> watches = new ConcurrentHashMap<>();
    private final boolean available = TABLES.stream().anyMatch(Files::isReadable);
    private Thread poller;
    private boolean closed;

    /**
     * Starts watching the connection of {@code req}; the returned check is true once the client has
     * gone. Call {@link #unwatch} with the same request when the response is over.
     */
    BooleanSupplier watch(ServerRequest req) {
        Key key = key(req);
        if (!available || key == null) return ALWAYS_CONNECTED;
        Watch w = new Watch();
        watches.put(key, w);
        startPoller();
        return w;
    }

    void unwatch(ServerRequest req) {
        Key key = key(req);
        if (key != null) watches.remove(key);
    }

    private static Key key(ServerRequest req) {
        SocketAddress remote = req.remotePeer().address();
        if (!(remote instanceof InetSocketAddress r) || r.getAddress() == null) return null;
        return new Key(req.localPeer().port(), r.getPort(), hex(normalize(r.getAddress().getAddress())));
    }

    private synchronized void startPoller() {
        if (poller != null || closed) return;
        poller = Thread.ofPlatform().daemon(true).name("chorus-connection-watch").start(this::poll);
    }

    /** Stops the poller (the server is shutting down). */
    synchronized void close() {
        closed = true;
        if (poller != null) poller.interrupt();
    }

    private void poll() {
        while (true) {
            try {
                Thread.sleep(PERIOD_MS);
                if (watches.isEmpty()) continue;
                Map<Key, String> states = new java.util.HashMap<>();
                for (Path table : TABLES) if (Files.isReadable(table)) read(table, states);
                for (Map.Entry<Key, Watch> e : watches.entrySet()) {
                    String st = states.get(e.getKey());
                    Watch w = e.getValue();
                    if (ESTABLISHED.equals(st)) w.seen = true;
                    else if (st != null || w.seen) w.gone = true;
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.warning("cannot read the TCP table (" + e + "); clients that leave are no longer noticed");
                watches.values().forEach(w -> w.seen = false);
                return;
            }
        }
    }

    /** Adds the state of every connection in one TCP table whose local port is watched. */
    private void read(Path table, Map<Key, String> states) throws IOException {
        List<String> lines = Files.readAllLines(table);
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length < 4) continue;
            int lc = f[1].indexOf(':'), rc = f[2].indexOf(':');
            int localPort = Integer.parseInt(f[1].substring(lc + 1), 16);
            int remotePort = Integer.parseInt(f[2].substring(rc + 1), 16);
            String address = hex(normalize(kernelAddress(f[2].substring(0, rc))));
            states.put(new Key(localPort, remotePort, address), f[3]);
        }
    }

    /** The kernel prints an address as 32-bit words in host byte order (little-endian here). */
    private static byte[] kernelAddress(String hex) {
        byte[] out = new byte[hex.length() / 2];
        for (int w = 0; w < out.length / 4; w++) {
            for (int b = 0; b < 4; b++) {
                out[w * 4 + b] = (byte) Integer.parseInt(hex.substring(w * 8 + (3 - b) * 2, w * 8 + (3 - b) * 2 + 2), 16);
            }
        }
        return out;
    }

    /** An IPv4-mapped IPv6 address as its 4 IPv4 bytes; anything else unchanged. */
    private static byte[] normalize(byte[] a) {
        if (a.length == 16) {
            boolean mapped = a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
            for (int i = 0; i < 10 && mapped; i++) mapped = a[i] == 0;
            if (mapped) return Arrays.copyOfRange(a, 12, 16);
        }
        return a;
    }

    private static String hex(byte[] a) {
        return java.util.HexFormat.of().formatHex(a);
    }
}
