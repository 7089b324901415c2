package io.chorus.bench.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Turns the outcomes of one run into its {@link LevelResult}; only completed requests count toward tokens and latencies. */
public final class Metrics {
    private Metrics() {}

    public static LevelResult compute(int maxConcurrency, double requestRate, List<RequestOutcome> outcomes, double durationS) {
        int completed = 0, failed = 0;
        long in = 0, out = 0;
        boolean allUsage = true;
        List<Double> ttft = new ArrayList<>(), tpot = new ArrayList<>(), itl = new ArrayList<>(), e2e = new ArrayList<>(), speed = new ArrayList<>();
        Map<String, Integer> errors = new TreeMap<>();
        for (RequestOutcome o : outcomes) {
            if (!o.success()) {
                failed++;
                errors.merge(o.error(), 1, Integer::sum);
                continue;
            }
            completed++;
            in += o.promptTokens();
            out += o.outputTokens();
            allUsage &= o.usageReported();
            if (!Double.isNaN(o.ttftMs())) ttft.add(o.ttftMs());
            if (!Double.isNaN(o.tpotMs())) tpot.add(o.tpotMs());
            if (!Double.isNaN(o.decodeTokensPerSecond())) speed.add(o.decodeTokensPerSecond());
            for (double g : o.itlsMs()) itl.add(g);
            e2e.add(o.e2eMs());
        }
        double d = durationS > 0 ? durationS : Double.NaN;
        double meanSpeed = speed.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return new LevelResult(maxConcurrency, requestRate, completed, failed, durationS, in, out,
                completed / d, out / d, (in + out) / d, peakConcurrency(outcomes), meanSpeed,
                LatencyStats.of(ttft), LatencyStats.of(tpot), LatencyStats.of(itl), LatencyStats.of(e2e),
                completed > 0 && allUsage, errors);
    }

    /** The most requests in flight at one instant (failed ones included: they held a slot too). */
    static int peakConcurrency(List<RequestOutcome> outcomes) {
        long[][] events = new long[outcomes.size() * 2][];
        int i = 0;
        for (RequestOutcome o : outcomes) {
            events[i++] = new long[] {o.startNs(), +1};
            events[i++] = new long[] {o.endNs(), -1};
        }
        // At equal times an end comes before a start: a slot freed and reused is not two at once.
        Arrays.sort(events, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int cur = 0, peak = 0;
        for (long[] e : events) {
            cur += (int) e[1];
            peak = Math.max(peak, cur);
        }
        return peak;
    }
}
