package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON round trip, and chart/HTML files that are real PNG and self-contained HTML. */
class ResultFilesTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    static BenchResult sample(String label, double scale) {
        BenchConfig c = BenchConfig.builder("http://127.0.0.1:8000/v1", "qwen").apiKey("secret")
                .concurrencyLevels(List.of(1, 2, 4, 8)).numPrompts(16).label(label).build();
        List<LevelResult> levels = new java.util.ArrayList<>();
        for (int conc : List.of(1, 2, 4, 8)) {
            LatencyStats ttft = LatencyStats.of(new double[] {20 * conc, 25 * conc, 40 * conc});
            LatencyStats tpot = LatencyStats.of(new double[] {10 + conc, 11 + conc});
            levels.add(new LevelResult(conc, Double.POSITIVE_INFINITY, 16, conc == 8 ? 1 : 0, 3.5, 4096, 2048, 16 / 3.5,
                    scale * 80 * Math.sqrt(conc), scale * 300 * Math.sqrt(conc), conc, 1000.0 / (10 + conc), ttft, tpot,
                    tpot, LatencyStats.EMPTY, true, conc == 8 ? Map.of("HTTP 500: boom", 1) : Map.of()));
        }
        return new BenchResult(c.label(), "2026-01-01T00:00:00Z", c.redacted(), 1.0, "assumed", levels);
    }

    @Test
    void jsonRoundTrip(@TempDir Path dir) throws Exception {
        BenchResult r = sample("chorus", 1);
        Path f = dir.resolve("sub/r.json");
        ResultJson.write(r, f);
        String text = Files.readString(f);
        assertThat(text).contains("\"outputThroughput\"", "\"p99\"", "\"peakConcurrency\"").doesNotContain("secret");
        BenchResult back = ResultJson.read(f);
        assertThat(back).isEqualTo(r); // records compare by value; NaN and Infinity survive
        assertThat(back.settings().apiKey()).isEqualTo("<redacted>");
        assertThat(back.levels().get(0).e2eMs().mean()).isNaN();
        assertThat(back.settings().requestRate()).isInfinite();
    }

    @Test
    void pngAndHtml(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("c.png");
        List<BenchResult> results = List.of(sample("chorus", 1), sample("llama.cpp", 0.6), sample("llama.cpp", 0.3));
        Charts.writePng(results, png);
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes.length).isGreaterThan(5000);
        assertThat(java.util.Arrays.copyOf(bytes, 8)).isEqualTo(PNG_MAGIC);

        Path html = dir.resolve("r.html");
        HtmlReport.write(results, html);
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("data:image/png;base64,iVBORw0KGgo", "chorus", "llama.cpp")
                .doesNotContain("<script").doesNotContain("http://cdn").doesNotContain("src=\"http");
        assertThat(ReportTable.sweep(results)).contains("## chorus", "## llama.cpp", "out tok/s");
    }
}
