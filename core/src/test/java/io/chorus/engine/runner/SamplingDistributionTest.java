package io.chorus.engine.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Chi-square goodness of fit of the sampler's draws (fixed seed) against the distribution computed
 * here independently: softmax(x / T), filtered by min_p, top_k and top_p as vLLM defines them, and
 * renormalised. Each case also checks the test has power: the unfiltered / untempered softmax, a
 * wrong distribution, is rejected by the same draws.
 */
class SamplingDistributionTest {
    /** A known logits vector with a tie (2 and 3), a masked token (10) and a NaN (11). */
    private static final float[] LOGITS = {3.0f, 2.6f, 2.2f, 2.2f, 1.7f, 1.2f, 0.8f, 0.3f, -0.4f, -1.0f,
            Float.NEGATIVE_INFINITY, Float.NaN};
    private static final int DRAWS = 200_000;
    /** Chi-square critical values at p = 0.001 for 1..11 degrees of freedom. */
    private static final double[] CRITICAL = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322,
            26.124, 27.877, 29.588, 31.264};

    @ParameterizedTest(name = "T={0} top_k={1} top_p={2} min_p={3}")
    @CsvSource({
            "1.0, -1, 1.0, 0.0",
            "0.7, -1, 1.0, 0.0",
            "1.6, -1, 1.0, 0.0",
            "1.0, 3, 1.0, 0.0",   // the 3rd largest ties with the 4th: both kept
            "1.0, 5, 1.0, 0.0",
            "1.0, -1, 0.8, 0.0",
            "0.8, -1, 0.5, 0.0",
            "1.0, -1, 1.0, 0.2",
            "1.3, -1, 1.0, 0.1",
            "0.9, 6, 0.85, 0.05",
    })
    void drawsFollowTheFilteredDistribution(double t, int topK, double topP, double minP) {
        SamplingParams sp = SamplingParams.builder().temperature(t).topK(topK).topP(topP).minP(minP).seed(5L).build();
        SamplingState state = SamplingState.seeded(sp, 5, 0);
        TemperatureSampler sampler = new TemperatureSampler();
        long[] counts = new long[LOGITS.length];
        for (int i = 0; i < DRAWS; i++) counts[sampler.sample(LOGITS.clone(), 0, LOGITS.length, state)]++;

        double[] expected = expected(LOGITS, t, topK, topP, minP);
        int kept = 0;
        for (int v = 0; v < LOGITS.length; v++) {
            if (expected[v] == 0) assertThat(counts[v]).as("draws of filtered token %d", v).isZero();
            else kept++;
        }
        assertThat(kept).isGreaterThan(1);
        double critical = CRITICAL[kept - 1];
        assertThat(chiSquare(counts, expected)).as("chi-square against the right distribution").isLessThan(critical);

        double[] wrong = (topK > 0 || topP < 1 || minP > 0) ? expected(LOGITS, t, -1, 1, 0) : expected(LOGITS, t * 1.1, -1, 1, 0);
        assertThat(chiSquare(counts, wrong)).as("chi-square against a wrong distribution").isGreaterThan(critical);
    }

    /** Sum over tokens with expected mass of (O - E)^2 / E; an observed token with none is infinite. */
    private static double chiSquare(long[] observed, double[] p) {
        double total = Arrays.stream(observed).sum(), chi = 0;
        for (int v = 0; v < p.length; v++) {
            if (p[v] == 0) {
                if (observed[v] > 0) return Double.POSITIVE_INFINITY;
                continue;
            }
            double e = total * p[v];
            chi += (observed[v] - e) * (observed[v] - e) / e;
        }
        return chi;
    }

    /**
     * The reference distribution, written from the definitions: softmax at temperature T; min_p keeps
     * p >= minP * pMax; top_k keeps logits >= the k-th largest; top_p (over what is left, renormalised)
     * keeps tokens best first (ties by lower id) while the mass before them is below p.
     */
    static double[] expected(float[] logits, double t, int topK, double topP, double minP) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) if (!Float.isNaN(x)) max = Math.max(max, x);
        double[] p = new double[n];
        for (int v = 0; v < n; v++) p[v] = Float.isNaN(logits[v]) ? 0 : Math.exp((logits[v] - max) / t);
        normalise(p);
        double pMax = Arrays.stream(p).max().orElseThrow();
        for (int v = 0; v < n; v++) if (p[v] < minP * pMax) p[v] = 0;
        List<Integer> order = new ArrayList<>();
        for (int v = 0; v < n; v++) if (p[v] > 0) order.add(v);
        order.sort(Comparator.<Integer>comparingDouble(v -> -logits[v]).thenComparingInt(v -> v));
        if (topK > 0 && topK < order.size()) {
            float kth = logits[order.get(topK - 1)];
            for (int v = 0; v < n; v++) if (logits[v] < kth) p[v] = 0;
        }
        normalise(p);
        double before = 0;
        for (int v : order) {
            if (p[v] == 0) continue;
            if (before >= topP) {
                p[v] = 0;
            } else {
                before += p[v];
            }
        }
        normalise(p);
        return p;
    }

    private static void normalise(double[] p) {
        double s = Arrays.stream(p).sum();
        for (int v = 0; v < p.length; v++) p[v] /= s;
    }
}
