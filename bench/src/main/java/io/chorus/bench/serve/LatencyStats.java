package io.chorus.bench.serve;

import java.util.Arrays;
import java.util.List;

/** Summary of one latency distribution, in milliseconds. {@code std} is the population deviation (numpy's default). */
public record LatencyStats(int count, double mean, double median, double std, double min, double max,
                           double p50, double p90, double p95, double p99) {

    public static final LatencyStats EMPTY = new LatencyStats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    public static LatencyStats of(List<Double> values) {
        return of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    public static LatencyStats of(double[] values) {
        if (values.length == 0) return EMPTY;
        double[] s = values.clone();
        Arrays.sort(s);
        double sum = 0;
        for (double v : s) sum += v;
        double mean = sum / s.length;
        double sq = 0;
        for (double v : s) sq += (v - mean) * (v - mean);
        return new LatencyStats(s.length, mean, Percentiles.ofSorted(s, 50), Math.sqrt(sq / s.length), s[0], s[s.length - 1],
                Percentiles.ofSorted(s, 50), Percentiles.ofSorted(s, 90), Percentiles.ofSorted(s, 95), Percentiles.ofSorted(s, 99));
    }
}
