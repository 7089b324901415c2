package io.chorus.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny OpenAI-compatible streaming server on a loopback port. It streams one token a chunk
 * ({@code max_tokens} of them) and keeps books of what it served, so a test can check every
 * figure the benchmark reports. Requests whose sequence number is in {@code fail500} get an HTTP
 * 500, those in {@code truncate} lose their stream after two tokens (no finish_reason, no [DONE]),
 * those in {@code stall} never finish.
 */
final class FakeOpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // Like real inference servers, send each chunk at once: with Nagle's algorithm on, the JDK
        // server holds small writes back until an ACK and the chunks arrive in bursts.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    final boolean sendUsage;
    final long tokenDelayMs;
    final List<Integer> fail500;
    final List<Integer> truncate;
    final List<Integer> stall;
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger succeeded = new AtomicInteger();
    final AtomicLong promptTokensServed = new AtomicLong();
    final AtomicLong completionTokensServed = new AtomicLong();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    final int tokenizeTokensPerWord;
    private final HttpServer server;

    FakeOpenAiServer(boolean sendUsage, long tokenDelayMs, List<Integer> fail500, List<Integer> truncate, List<Integer> stall,
                     int tokenizeTokensPerWord) throws IOException {
        this.sendUsage = sendUsage;
        this.tokenDelayMs = tokenDelayMs;
        this.fail500 = fail500;
        this.truncate = truncate;
        this.stall = stall;
        this.tokenizeTokensPerWord = tokenizeTokensPerWord;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/completions", ex -> stream(ex, false));
        server.createContext("/v1/chat/completions", ex -> stream(ex, true));
        if (tokenizeTokensPerWord > 0) server.createContext("/tokenize", this::tokenize);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    static int words(String s) {
        return s.isBlank() ? 0 : s.trim().split("\\s+").length;
    }

    private void tokenize(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        int n = words(body.path("prompt").asText()) * tokenizeTokensPerWord;
        byte[] out = ("{\"count\":" + n + ",\"max_model_len\":4096}").getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, out.length);
        ex.getResponseBody().write(out);
        ex.close();
    }

    private void stream(HttpExchange ex, boolean chat) throws IOException {
        int seq = requests.incrementAndGet();
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try {
            JsonNode body = JSON.readTree(ex.getRequestBody());
            bodies.add(body);
            int promptTokens = 0;
            if (chat) for (JsonNode m : body.path("messages")) promptTokens += words(m.path("content").asText());
            else promptTokens = words(body.path("prompt").asText());
            int maxTokens = body.path("max_tokens").asInt(16);
            if (fail500.contains(seq)) {
                byte[] err = "{\"error\":{\"message\":\"fake failure\",\"type\":\"server_error\"}}".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(500, err.length);
                ex.getResponseBody().write(err);
                return;
            }
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            for (int i = 0; i < maxTokens; i++) {
                if (truncate.contains(seq) && i == 2) return; // body ends cleanly, stream incomplete
                if (stall.contains(seq) && i == 1) {
                    sleep(60_000);
                    return;
                }
                sleep(tokenDelayMs);
                String fr = i == maxTokens - 1 ? "\"length\"" : "null";
                send(out, chat
                        ? "{\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok" + i + "\"},\"finish_reason\":" + fr + "}]}"
                        : "{\"id\":\"x\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" tok" + i + "\",\"finish_reason\":" + fr + "}]}");
            }
            if (sendUsage && body.path("stream_options").path("include_usage").asBoolean(false)) {
                send(out, "{\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":"
                        + maxTokens + ",\"total_tokens\":" + (promptTokens + maxTokens) + "}}");
            }
            send(out, "[DONE]");
            succeeded.incrementAndGet();
            promptTokensServed.addAndGet(promptTokens);
            completionTokensServed.addAndGet(maxTokens);
        } finally {
            inFlight.decrementAndGet();
            ex.close();
        }
    }

    private static void send(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
