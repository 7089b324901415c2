package io.chorus.bench.serve;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Human-readable reports: vLLM's per-run block, and one table row per level of a sweep. */
public final class ReportTable {
    private ReportTable() {}

    /** The block {@code vllm bench serve} prints, same names, so the two can be read side by side. */
    public static String level(LevelResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append(center(" Serving Benchmark Result ", '=')).append('\n');
        row(sb, "Successful requests:", Integer.toString(r.completed()));
        row(sb, "Failed requests:", Integer.toString(r.failed()));
        row(sb, "Maximum request concurrency:", r.maxConcurrency() > 0 ? Integer.toString(r.maxConcurrency()) : "unlimited");
        if (!Double.isInfinite(r.requestRate())) row(sb, "Request rate configured (RPS):", f2(r.requestRate()));
        row(sb, "Benchmark duration (s):", f2(r.durationS()));
        row(sb, "Total input tokens:", Long.toString(r.totalInputTokens()));
        row(sb, "Total generated tokens:", Long.toString(r.totalOutputTokens()));
        row(sb, "Request throughput (req/s):", f2(r.requestThroughput()));
        row(sb, "Output token throughput (tok/s):", f2(r.outputThroughput()));
        row(sb, "Peak concurrent requests:", Integer.toString(r.peakConcurrency()));
        row(sb, "Total token throughput (tok/s):", f2(r.totalTokenThroughput()));
        row(sb, "Per-user output speed (tok/s):", f2(r.perUserOutputSpeed()));
        if (!r.usageReported() && r.completed() > 0) row(sb, "Token counts from:", "counted chunks (no usage)");
        stats(sb, "Time to First Token", "TTFT", r.ttftMs());
        stats(sb, "Time per Output Token (excl. 1st token)", "TPOT", r.tpotMs());
        stats(sb, "Inter-token Latency", "ITL", r.itlMs());
        stats(sb, "End-to-end Latency", "E2EL", r.e2eMs());
        if (!r.errors().isEmpty()) {
            sb.append(center("Errors", '-')).append('\n');
            for (Map.Entry<String, Integer> e : r.errors().entrySet()) sb.append(String.format(Locale.ROOT, "%5d x %s%n", e.getValue(), e.getKey()));
        }
        sb.append("=".repeat(50)).append('\n');
        return sb.toString();
    }

    /** One line per level of every result: the sweep summary printed at the end. */
    public static String sweep(List<BenchResult> results) {
        StringBuilder sb = new StringBuilder();
        String header = String.format(Locale.ROOT, "%-6s %5s %5s %8s %10s %10s %9s %9s %9s %9s %9s %9s %9s %9s",
                "conc", "ok", "fail", "req/s", "out tok/s", "tot tok/s", "user t/s", "peak", "TTFT avg", "TTFT p50", "TTFT p99",
                "TPOT avg", "ITL p99", "E2E avg");
        for (BenchResult res : results) {
            if (results.size() > 1) sb.append("## ").append(res.displayLabel()).append('\n');
            sb.append(header).append('\n');
            for (LevelResult r : res.levels()) {
                sb.append(String.format(Locale.ROOT, "%-6s %5d %5d %8.2f %10.1f %10.1f %9.1f %9d %9.1f %9.1f %9.1f %9.2f %9.2f %9.1f%n",
                        r.maxConcurrency() > 0 ? Integer.toString(r.maxConcurrency()) : "inf", r.completed(), r.failed(),
                        r.requestThroughput(), r.outputThroughput(), r.totalTokenThroughput(), r.perUserOutputSpeed(),
                        r.peakConcurrency(), r.ttftMs().mean(), r.ttftMs().median(), r.ttftMs().p99(), r.tpotMs().mean(),
                        r.itlMs().p99(), r.e2eMs().mean()));
            }
        }
        sb.append("(latencies in ms; user t/s = mean per-request output speed after the first token)\n");
        return sb.toString();
    }

    private static void stats(StringBuilder sb, String title, String name, LatencyStats s) {
        sb.append(center(title, '-')).append('\n');
        row(sb, "Mean " + name + " (ms):", f2(s.mean()));
        row(sb, "Median " + name + " (ms):", f2(s.median()));
        row(sb, "P99 " + name + " (ms):", f2(s.p99()));
    }

    private static void row(StringBuilder sb, String name, String value) {
        sb.append(String.format(Locale.ROOT, "%-40s %-9s%n", name, value));
    }

    private static String f2(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String center(String text, char fill) {
        int pad = Math.max(0, 50 - text.length());
        return String.valueOf(fill).repeat(pad / 2) + text + String.valueOf(fill).repeat(pad - pad / 2);
    }
}
