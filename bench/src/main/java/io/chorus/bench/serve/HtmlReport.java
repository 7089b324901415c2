package io.chorus.bench.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** A single self-contained HTML page (charts embedded as base64 PNG, no scripts) to share a result. */
public final class HtmlReport {
    private HtmlReport() {}

    public static void write(List<BenchResult> results, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(file, html(results), StandardCharsets.UTF_8);
    }

    public static String html(List<BenchResult> results) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>chorus bench</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}")
                .append("td.l,th.l{text-align:left}img{max-width:100%}code{background:#f3f3f3;padding:1px 4px}</style></head><body>\n");
        sb.append("<h1>chorus bench</h1>\n");
        sb.append("<img alt=\"throughput, per-user speed and TTFT against concurrency\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(Charts.png(results))).append("\">\n");
        for (BenchResult r : results) {
            sb.append("<h2>").append(esc(r.displayLabel())).append("</h2>\n");
            BenchConfig c = r.settings();
            if (c != null) {
                sb.append("<p>").append(esc(c.endpoint().path)).append(" on <code>").append(esc(c.baseUrl())).append("</code>, model <code>")
                        .append(esc(c.model())).append("</code>, ").append(c.numPrompts()).append(" prompts a level, ")
                        .append(c.dataset() != null ? "dataset <code>" + esc(c.dataset()) + "</code>"
                                : "input " + c.inputLen() + (c.prefixLen() > 0 ? " (+" + c.prefixLen() + " shared prefix)" : "")
                                + " / output " + c.outputLen() + " tokens, range ratio " + c.rangeRatio())
                        .append(", request rate ").append(Double.isInfinite(c.requestRate()) ? "inf" : c.requestRate())
                        .append(", burstiness ").append(c.burstiness()).append(", ignore_eos ").append(c.ignoreEos())
                        .append(", started ").append(esc(String.valueOf(r.startedAt()))).append(".</p>\n");
            }
            sb.append("<table><tr><th>concurrency</th><th>ok</th><th>failed</th><th>duration s</th><th>req/s</th><th>output tok/s</th>")
                    .append("<th>total tok/s</th><th>per-user tok/s</th><th>peak</th><th>TTFT mean</th><th>TTFT p50</th><th>TTFT p99</th>")
                    .append("<th>TPOT mean</th><th>TPOT p99</th><th>ITL p50</th><th>ITL p99</th><th>E2E mean</th><th>E2E p99</th></tr>\n");
            for (LevelResult l : r.levels()) {
                sb.append("<tr><td>").append(l.maxConcurrency() > 0 ? l.maxConcurrency() : "unlimited").append("</td>");
                cell(sb, l.completed()); cell(sb, l.failed()); cell(sb, l.durationS()); cell(sb, l.requestThroughput());
                cell(sb, l.outputThroughput()); cell(sb, l.totalTokenThroughput()); cell(sb, l.perUserOutputSpeed());
                cell(sb, l.peakConcurrency()); cell(sb, l.ttftMs().mean()); cell(sb, l.ttftMs().p50()); cell(sb, l.ttftMs().p99());
                cell(sb, l.tpotMs().mean()); cell(sb, l.tpotMs().p99()); cell(sb, l.itlMs().p50()); cell(sb, l.itlMs().p99());
                cell(sb, l.e2eMs().mean()); cell(sb, l.e2eMs().p99());
                sb.append("</tr>\n");
            }
            sb.append("</table>\n");
        }
        sb.append("<p>Latencies in milliseconds. TTFT: time to first token. TPOT: (end-to-end &minus; TTFT) / (output tokens &minus; 1). ")
                .append("ITL: gaps between streamed chunks. Per-user tok/s: mean over requests of 1000 / TPOT.</p>\n</body></html>\n");
        return sb.toString();
    }

    private static void cell(StringBuilder sb, double v) {
        sb.append("<td>").append(Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v)).append("</td>");
    }

    private static void cell(StringBuilder sb, long v) {
        sb.append("<td>").append(v).append("</td>");
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
