package io.chorus.bench.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Sends one streaming request and times every chunk as it arrives. One instance is shared by all
 * concurrent requests of a run (the JDK client pools connections; HTTP/1.1 because llama.cpp's
 * server and most others do not speak h2c).
 */
public final class StreamingClient implements AutoCloseable {
    private static final ObjectMapper JSON = BoundedJson.mapper();

    private final BenchConfig config;
    private final HttpClient http;
    private final URI uri;
    // Closes a stream that runs past the timeout: HttpRequest.timeout only covers the response headers.
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-timeout");
        t.setDaemon(true);
        return t;
    });

    public StreamingClient(BenchConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        this.uri = URI.create(root(config.baseUrl()) + config.endpoint().path);
    }

    /** The server root: {@code http://host:port} from a base URL given with or without {@code /v1}. */
    public static String root(String baseUrl) {
        String s = baseUrl.trim();
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        if (s.endsWith("/v1")) s = s.substring(0, s.length() - 3);
        return s;
    }

    public HttpClient http() {
        return http;
    }

    /** The JSON body of a request: standard OpenAI fields, plus {@code ignore_eos} only when asked. */
    String body(BenchRequest r) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("model", config.model());
        if (config.endpoint() == Endpoint.CHAT) b.put("messages", r.asMessages());
        else b.put("prompt", r.asPrompt());
        b.put("max_tokens", r.maxTokens());
        b.put("temperature", config.temperature());
        b.put("stream", true);
        b.put("stream_options", Map.of("include_usage", true));
        if (config.ignoreEos()) b.put("ignore_eos", true);
        try {
            return JSON.writeValueAsString(b);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code r} and reads its stream to the end; never throws, a failure is an outcome. */
    public RequestOutcome send(BenchRequest r) {
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMillis((long) (config.timeoutSeconds() * 1000)))
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body(r)));
        if (config.apiKey() != null) rb.header("Authorization", "Bearer " + config.apiKey());
        HttpRequest request = rb.build();
        long start = System.nanoTime();
        SseStreamParser parser = new SseStreamParser(config.endpoint(), start, r.expectedInputTokens());
        AtomicBoolean timedOut = new AtomicBoolean();
        try {
            HttpResponse<InputStream> resp = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = resp.body()) {
                if (resp.statusCode() != 200) {
                    String text = new String(in.readNBytes(2000), StandardCharsets.UTF_8);
                    return RequestOutcome.failure(start, System.nanoTime(),
                            "HTTP " + resp.statusCode() + ": " + SseStreamParser.abbreviate(text));
                }
                long remainingNs = (long) (config.timeoutSeconds() * 1e9) - (System.nanoTime() - start);
                ScheduledFuture<?> guard = watchdog.schedule(() -> {
                    timedOut.set(true);
                    closeQuietly(in);
                }, Math.max(1, remainingNs), TimeUnit.NANOSECONDS);
                try {
                    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                    String line;
                    // Read to the end even after [DONE] so the connection goes back to the pool.
                    while ((line = reader.readLine()) != null) parser.accept(line, System.nanoTime());
                } finally {
                    guard.cancel(false);
                }
            }
            return parser.finish(System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return RequestOutcome.failure(start, System.nanoTime(), "interrupted");
        } catch (IOException e) {
            if (parser.done()) return parser.finish(System.nanoTime()); // failed only while draining after [DONE]
            if (timedOut.get()) return RequestOutcome.failure(start, System.nanoTime(), "timed out after " + config.timeoutSeconds() + " s");
            return RequestOutcome.failure(start, System.nanoTime(), e.getClass().getSimpleName()
                    + (e.getMessage() != null ? ": " + e.getMessage() : ""));
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the reader sees the closed stream and the request is counted as timed out
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        http.close();
    }
}
