package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A headless Chromium driven over the Chrome DevTools Protocol with the JDK's own WebSocket client:
 * one page, commands answered by id, events handed to listeners. Enough to load a page, type into it,
 * read its DOM and take a screenshot, with no browser-automation library.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();

    /** The browser to use: {@code $CHORUS_CHROMIUM}, else a Chromium or Chrome on the usual paths. */
    static Optional<Path> find() {
        String env = System.getenv("CHORUS_CHROMIUM");
        if (env != null && !env.isBlank()) return Optional.of(Path.of(env));
        return Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable")
                .map(Path::of).filter(Files::isExecutable).findFirst();
    }

    /** Starts the browser on a fresh profile, its output in {@code log}, and attaches to its page. */
    static HeadlessChromium launch(Path executable, Path log) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("chorus-chromium-");
        Process p = new ProcessBuilder(executable.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars", "--window-size=1280,1000",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            return new HeadlessChromium(p, profile, pageSocket(p, profile, log));
        } catch (IOException | InterruptedException | RuntimeException e) {
            stop(p, profile);
            throw e;
        }
    }

    /** The page's DevTools WebSocket URL, once the browser has written its port to the profile. */
    private static String pageSocket(Process p, Path profile, Path log) throws IOException, InterruptedException {
        Path portFile = profile.resolve("DevToolsActivePort");
        long until = System.nanoTime() + TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newHttpClient()) {
            while (true) {
                if (!p.isAlive()) throw new IllegalStateException("chromium exited with " + p.exitValue() + ":\n" + Files.readString(log));
                if (System.nanoTime() > until) throw new IllegalStateException("chromium did not open its DevTools port:\n" + Files.readString(log));
                List<String> lines = Files.exists(portFile) ? Files.readAllLines(portFile) : List.of();
                if (!lines.isEmpty() && !lines.getFirst().isBlank()) {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lines.getFirst().trim() + "/json/list")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    for (JsonNode t : JSON.readTree(r.body())) {
                        if (t.path("type").asText().equals("page")) return t.get("webSocketDebuggerUrl").asText();
                    }
                }
                Thread.sleep(50);
            }
        }
    }

    private HeadlessChromium(Process process, Path profile, String url) {
        this.process = process;
        this.profile = profile;
        this.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(TIMEOUT)
                .buildAsync(URI.create(url), new Listener()).orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS).join();
    }

    /** Collects a message's fragments, then completes a command's future or hands an event to the listeners. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder message = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                try {
                    JsonNode m = JSON.readTree(message.toString());
                    if (m.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(m.get("id").asLong());
                        if (f != null) f.complete(m);
                    } else {
                        for (Consumer<JsonNode> l : listeners) l.accept(m);
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("unreadable DevTools message", e);
                } finally {
                    message.setLength(0);
                }
            }
            ws.request(1);
            return null;
        }
    }

    /** Every event ({@code method}, {@code params}) from now on. */
    void onEvent(Consumer<JsonNode> listener) { listeners.add(listener); }

    /** Runs a DevTools command and returns its result; a protocol error fails. */
    JsonNode call(String method, ObjectNode params) {
        long id = ids.incrementAndGet();
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        ObjectNode m = JSON.createObjectNode().put("id", id).put("method", method);
        m.set("params", params == null ? JSON.createObjectNode() : params);
        socket.sendText(m.toString(), true).join();
        JsonNode reply = f.orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS).join();
        if (reply.has("error")) throw new IllegalStateException(method + " failed: " + reply.get("error"));
        return reply.get("result");
    }

    JsonNode call(String method) { return call(method, null); }

    static ObjectNode params() { return JSON.createObjectNode(); }

    /** The value of a JavaScript expression in the page (a thrown exception fails). */
    JsonNode eval(String expression) {
        JsonNode r = call("Runtime.evaluate", params().put("expression", expression).put("returnByValue", true).put("awaitPromise", true));
        if (r.has("exceptionDetails")) throw new IllegalStateException("'" + expression + "' threw: " + r.get("exceptionDetails"));
        return r.get("result").path("value");
    }

    /** Waits (up to 30 s) until {@code expression} is true in the page. */
    void await(String what, String expression) throws InterruptedException {
        long until = System.nanoTime() + TIMEOUT.toNanos();
        while (!eval(expression).asBoolean(false)) {
            if (System.nanoTime() > until) throw new AssertionError("timed out waiting for " + what + " (" + expression + ")");
            Thread.sleep(50);
        }
    }

    /** A PNG of the page as it is now. */
    void screenshot(Path file) throws IOException {
        JsonNode r = call("Page.captureScreenshot", params().put("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, java.util.Base64.getDecoder().decode(r.get("data").asText()));
    }

    @Override
    public void close() {
        socket.abort();
        stop(process, profile);
    }

    private static void stop(Process p, Path profile) {
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        children.forEach(ProcessHandle::destroyForcibly);
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temporary profile is harmless
        }
    }
}
