package io.chorus.bench.serve;

import java.util.Arrays;

/**
 * Percentiles with numpy's default definition (linear interpolation between closest ranks), the one
 * {@code vllm bench serve} reports, so figures from both tools compare directly.
 */
public final class Percentiles {
    private Percentiles() {}

    /** The p-th percentile (0..100) of {@code sorted}, which must be sorted ascending; NaN when empty. */
    public static double ofSorted(double[] sorted, double p) {
        if (p < 0 || p > 100) throw new IllegalArgumentException("percentile out of range: " + p);
        int n = sorted.length;
        if (n == 0) return Double.NaN;
        double rank = p / 100.0 * (n - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, n - 1);
        double frac = rank - lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }

    /** The p-th percentile of unsorted values (copied, then sorted). */
    public static double of(double[] values, double p) {
        double[] s = values.clone();
        Arrays.sort(s);
        return ofSorted(s, p);
    }
}
