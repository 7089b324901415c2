package io.chorus.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import io.chorus.model.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** Live servers on a random loopback port over a tiny synthetic model written once per JVM. */
final class TestServers {
    static final String MODEL = "tiny";
    private static Path modelFile;

    private TestServers() {}

    static synchronized Path modelFile() {
        if (modelFile == null) {
            try {
                Path dir = Files.createTempDirectory("chorus-server-test");
                modelFile = dir.resolve("tiny-qwen2.gguf");
                SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 7, modelFile);
                modelFile.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return modelFile;
    }

    static ServeOptions options() {
        return ServeOptions.defaults().withModel(modelFile()).withPort(0).withServedModelName(MODEL)
                .withKvCacheMemory(32L << 20).withThreads(2);
    }

    /** A server without the start-up warm-up: tests start many and measure no speed ({@link StartupTest} covers warm-up). */
    static ChorusServer start(UnaryOperator<ServeOptions> tweak) {
        return start(tweak, false, LoadedModel.Seams.NONE);
    }

    static ChorusServer start(UnaryOperator<ServeOptions> tweak, boolean warmup) {
        return start(tweak, warmup, LoadedModel.Seams.NONE);
    }

    static ChorusServer start(UnaryOperator<ServeOptions> tweak, LoadedModel.Seams seams) {
        return start(tweak, false, seams);
    }

    static ChorusServer start(UnaryOperator<ServeOptions> tweak, boolean warmup, LoadedModel.Seams seams) {
        ServeOptions o = tweak.apply(options());
        ChorusServer s = new ChorusServer(o).start();
        s.load(() -> LoadedModel.load(o, warmup, seams));
        return s;
    }

    /** An authorized request. */
    static HttpRequest.Builder request(ChorusServer s, String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url() + path)).header("Content-Type", "application/json");
        return key == null ? b : b.header("Authorization", "Bearer " + key);
    }

    /** Waits (up to 30 s) until {@code condition} holds; fails otherwise. */
    static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    static OpenAIClient client(ChorusServer s) {
        return client(s, "none");
    }

    static OpenAIClient client(ChorusServer s, String key) {
        return OpenAIOkHttpClient.builder().baseUrl(s.url() + "/v1").apiKey(key).maxRetries(0).build();
    }

    static HttpResponse<String> post(ChorusServer s, String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(s.url() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static HttpResponse<String> get(ChorusServer s, String path) {
        return send(HttpRequest.newBuilder(URI.create(s.url() + path)).GET().build());
    }

    static HttpResponse<String> send(HttpRequest req) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The value of a metric line {@code name{labels} value} (first match), or NaN. */
    static double metric(String text, String nameAndLabelPrefix) {
        for (String line : text.split("\n")) {
            if (line.startsWith(nameAndLabelPrefix)) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return Double.NaN;
    }
}
