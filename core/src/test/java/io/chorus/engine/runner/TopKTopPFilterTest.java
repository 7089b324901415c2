package io.chorus.engine.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The bucketed top-p and heap top-k keep exactly the tokens a full sort would, on large vocabularies. */
class TopKTopPFilterTest {
    @ParameterizedTest(name = "spread {0}, quantum {1}, T {2}, top_k {3}, top_p {4}, min_p {5}")
    @CsvSource({
            "3.0, 0, 1.0, -1, 0.9, 0",
            "3.0, 0, 0.5, -1, 0.5, 0",
            "0.001, 0, 1.0, -1, 0.9, 0",  // nearly flat: most tokens share one bucket
            "2.0, 0.25, 1.0, -1, 0.7, 0", // many ties
            "2.0, 0.25, 1.0, 40, 0.9, 0",
            "3.0, 0, 1.2, 40, 1.0, 0",
            "3.0, 0, 1.0, 1000, 0.95, 0.01",
            "8.0, 0, 1.0, -1, 0.99, 0",
    })
    void keepsWhatAFullSortKeeps(double spread, double quantum, double t, int topK, double topP, double minP) {
        int vocab = 50_000;
        SplittableRandom r = new SplittableRandom(11);
        float[] logits = new float[vocab];
        for (int v = 0; v < vocab; v++) {
            double x = r.nextGaussian() * spread;
            logits[v] = (float) (quantum > 0 ? Math.round(x / quantum) * quantum : x);
        }
        logits[123] = Float.NaN;
        logits[456] = Float.NEGATIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) if (x > max) max = x;
        float[] w = new float[vocab];
        double total = new TopKTopPFilter().weights(logits, 0, vocab, max, t, topK, topP, minP, w);

        boolean[] keep = reference(logits, t, topK, topP, minP);
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            assertThat(w[v] > 0).as("token %d kept", v).isEqualTo(keep[v]);
            sum += w[v];
        }
        assertThat(total).isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-6 * sum)); // float lane sums
    }

    /** Kept tokens by a full sort of the vocabulary (best first, ties by lower id). */
    private static boolean[] reference(float[] logits, double t, int topK, double topP, double minP) {
        int vocab = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) if (x > max) max = x;
        Integer[] order = new Integer[vocab];
        for (int v = 0; v < vocab; v++) order[v] = v;
        float[] x = logits.clone();
        for (int v = 0; v < vocab; v++) if (Float.isNaN(x[v])) x[v] = Float.NEGATIVE_INFINITY;
        Arrays.sort(order, (a, b) -> x[a] != x[b] ? Float.compare(x[b], x[a]) : Integer.compare(a, b));
        double low = minP > 0 ? max + t * Math.log(minP) : Double.NEGATIVE_INFINITY;
        if (topK > 0) low = Math.max(low, x[order[topK - 1]]);
        double[] w = new double[vocab];
        double total = 0;
        for (int v = 0; v < vocab; v++) {
            if (x[v] >= (float) low && x[v] > Float.NEGATIVE_INFINITY) total += w[v] = (float) Math.exp((x[v] - max) / t);
        }
        boolean[] keep = new boolean[vocab];
        double before = 0;
        for (int v : order) {
            if (w[v] == 0) continue;
            if (topP < 1 && before >= topP * total) break;
            keep[v] = true;
            before += w[v];
        }
        return keep;
    }
}
