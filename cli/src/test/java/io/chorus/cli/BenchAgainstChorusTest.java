package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.bench.serve.BenchConfig;
import io.chorus.bench.serve.BenchResult;
import io.chorus.bench.serve.BenchRunner;
import io.chorus.bench.serve.LevelResult;
import io.chorus.model.SyntheticModel;
import io.chorus.server.ChorusServer;
import io.chorus.server.LoadedModel;
import io.chorus.server.ServeOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * chorus bench against a live Chorus server on a loopback port: every request and token the bench
 * reports is one the server's own metrics counted.
 */
class BenchAgainstChorusTest {
    @TempDir Path dir;

    @Test
    void benchFiguresAgreeWithTheServersMetrics() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 3, model);
        ServeOptions o = ServeOptions.defaults().withModel(model).withPort(0).withServedModelName("tiny")
                .withKvCacheMemory(16L << 20).withThreads(2);
        try (ChorusServer server = new ChorusServer(o).start()) {
            server.load(() -> LoadedModel.load(o, false)); // no warm-up: this test measures nothing
            BenchConfig cfg = BenchConfig.builder(server.url(), "tiny").concurrencyLevels(List.of(1, 4))
                    .numPrompts(8).inputLen(24).outputLen(10).ignoreEos(true).seed(5).progress(false).build();
            BenchResult result = BenchRunner.run(cfg);

            assertThat(result.levels()).hasSize(2);
            long requests = 0, input = 0, output = 0;
            for (LevelResult level : result.levels()) {
                assertThat(level.failed()).isZero();
                assertThat(level.completed()).isEqualTo(8);
                assertThat(level.usageReported()).isTrue();
                assertThat(level.totalOutputTokens()).as("ignore_eos: every request generates output-len tokens").isEqualTo(80);
                assertThat(level.ttftMs().mean()).isPositive();
                requests += level.completed();
                input += level.totalInputTokens();
                output += level.totalOutputTokens();
            }
            assertThat(result.levels().get(1).peakConcurrency()).isGreaterThan(1);

            String metrics = get(server.url() + "/metrics");
            assertThat(metric(metrics, "vllm:request_success_total{")).isEqualTo(requests);
            assertThat(metric(metrics, "vllm:prompt_tokens_total{")).isEqualTo(input);
            assertThat(metric(metrics, "vllm:generation_tokens_total{")).isEqualTo(output);
            assertThat(metric(metrics, "vllm:num_requests_running{")).isZero();
        }
    }

    private static String get(String url) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** Sum of every sample line starting with {@code prefix} (all label sets of one metric). */
    private static long metric(String text, String prefix) {
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return Math.round(sum);
    }
}
