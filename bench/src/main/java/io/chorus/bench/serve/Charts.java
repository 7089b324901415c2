package io.chorus.bench.serve;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Three charts side by side against concurrency, one line per result file: total output throughput
 * (what the server delivers), per-user speed (what each user feels) and TTFT (how long users wait).
 * Together they show whether batching buys throughput without starving individual users.
 */
public final class Charts {
    private static final int WIDTH = 560;
    private static final int HEIGHT = 420;

    static {
        System.setProperty("java.awt.headless", "true"); // charts are drawn on servers without a display
    }

    private Charts() {}

    public static void writePng(List<BenchResult> results, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.write(file, png(results));
    }

    /** The three charts in one PNG image. */
    public static byte[] png(List<BenchResult> results) throws IOException {
        List<XYChart> charts = List.of(
                chart(results, "Total output throughput", "output tokens/s (all users)", LevelResult::outputThroughput),
                chart(results, "Per-user speed", "output tokens/s per request", LevelResult::perUserOutputSpeed),
                chart(results, "Time to first token", "mean TTFT (ms)", r -> r.ttftMs().mean()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, 1, charts.size(), out, BitmapEncoder.BitmapFormat.PNG);
        return out.toByteArray();
    }

    private static XYChart chart(List<BenchResult> results, String title, String yTitle, ToDoubleFunction<LevelResult> y) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("concurrent requests").yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setLegendVisible(true);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setXAxisDecimalPattern("0");
        int minX = Integer.MAX_VALUE, maxX = 1;
        for (BenchResult res : results) {
            for (LevelResult l : res.levels()) {
                minX = Math.min(minX, Math.max(1, l.plotConcurrency()));
                maxX = Math.max(maxX, l.plotConcurrency());
            }
        }
        // Sweeps double the concurrency each step: plot log2(c) so the points are evenly spaced, and
        // label the ticks with the concurrency itself (xchart's own log axis labels only decades).
        boolean log = minX != Integer.MAX_VALUE && maxX / minX >= 8;
        if (log) {
            chart.setCustomXAxisTickLabelsFormatter(v -> Math.abs(v - Math.rint(v)) < 1e-6 && v >= 0
                    ? Long.toString(Math.round(Math.pow(2, Math.rint(v)))) : "");
            chart.setXAxisTitle("concurrent requests (log scale)");
        }
        for (BenchResult res : results) {
            List<LevelResult> levels = new ArrayList<>(res.levels());
            levels.removeIf(l -> l.completed() == 0 || Double.isNaN(y.applyAsDouble(l)));
            levels.sort(Comparator.comparingInt(LevelResult::plotConcurrency));
            if (levels.isEmpty()) continue;
            double[] xs = new double[levels.size()], ys = new double[levels.size()];
            for (int i = 0; i < levels.size(); i++) {
                int c = Math.max(1, levels.get(i).plotConcurrency());
                xs[i] = log ? Math.log(c) / Math.log(2) : c;
                ys[i] = y.applyAsDouble(levels.get(i));
            }
            chart.addSeries(uniqueName(chart, res.displayLabel()), xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /** xchart refuses two series with one name; two files with the same label get a suffix. */
    private static String uniqueName(XYChart chart, String name) {
        String n = name;
        for (int i = 2; chart.getSeries(n) != null; i++) n = name + " (" + i + ")";
        return n;
    }
}
