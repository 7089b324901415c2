package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Routing (softmax, top-k, renormalisation, ties) and grouping by expert against a plain scalar reference. */
class ExpertRouterTest {

    /** The scalar reference: float64 softmax, experts sorted by logit (then id), weights p or p / sum(chosen p). */
    private static List<int[]> referenceChoice(float[] logits, int T, int experts, int k) {
        List<int[]> out = new ArrayList<>();
        for (int t = 0; t < T; t++) {
            int o = t * experts;
            List<Integer> ids = new ArrayList<>();
            for (int e = 0; e < experts; e++) ids.add(e);
            ids.sort(Comparator.<Integer>comparingDouble(e -> -logits[o + e]).thenComparingInt(e -> e));
            out.add(ids.subList(0, k).stream().mapToInt(Integer::intValue).toArray());
        }
        return out;
    }

    private static double[] referenceWeights(float[] logits, int t, int experts, int[] chosen, boolean normalize) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int e = 0; e < experts; e++) max = Math.max(max, logits[t * experts + e]);
        for (int e = 0; e < experts; e++) sum += Math.exp(logits[t * experts + e] - max);
        double[] w = new double[chosen.length];
        double picked = 0;
        for (int j = 0; j < chosen.length; j++) {
            w[j] = Math.exp(logits[t * experts + chosen[j]] - max) / sum;
            picked += w[j];
        }
        if (normalize) for (int j = 0; j < w.length; j++) w[j] /= picked;
        return w;
    }

    @ParameterizedTest
    @CsvSource({"4,2,true", "4,2,false", "64,8,true", "64,8,false", "8,1,true", "8,8,false"})
    void routesAndGroupsLikeTheScalarReference(int experts, int k, boolean normalize) {
        ExpertRouter router = new ExpertRouter(experts, k, normalize);
        SplittableRandom rnd = new SplittableRandom(experts * 31L + k);
        for (int T : new int[] {37, 1, 16, 5}) { // shrinking after a larger step must leave no stale state
            float[] logits = new float[T * experts];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (rnd.nextGaussian() * 4);
            // Exact ties: token 0's first two experts share the top logit; the lower id must come first.
            if (T > 1) {
                logits[3 % experts] = 50f;
                logits[1] = 50f;
            }
            router.route(logits, T);
            List<int[]> expected = referenceChoice(logits, T, experts, k);
            for (int t = 0; t < T; t++) {
                double[] w = referenceWeights(logits, t, experts, expected.get(t), normalize);
                for (int j = 0; j < k; j++) {
                    assertThat(router.chosen(t, j)).as("T %d token %d choice %d", T, t, j).isEqualTo(expected.get(t)[j]);
                    assertThat((double) router.weight(t, j)).as("T %d token %d weight %d", T, t, j).isCloseTo(w[j], org.assertj.core.data.Offset.offset(2e-6));
                }
            }
            if (T > 1 && k >= 2) {
                assertThat(router.chosen(0, 0)).isEqualTo(Math.min(1, 3 % experts));
                assertThat(router.chosen(0, 1)).isEqualTo(Math.max(1, 3 % experts));
            }
            // Grouping: expert e's range holds exactly the tokens that chose it, in ascending order, with their weights.
            int total = 0;
            for (int e = 0; e < experts; e++) {
                List<Integer> want = new ArrayList<>();
                List<Float> wantW = new ArrayList<>();
                for (int t = 0; t < T; t++) {
                    for (int j = 0; j < k; j++) {
                        if (router.chosen(t, j) == e) {
                            want.add(t);
                            wantW.add(router.weight(t, j));
                        }
                    }
                }
                assertThat(router.start(e)).as("expert %d starts after the previous one", e).isEqualTo(total);
                List<Integer> got = new ArrayList<>();
                List<Float> gotW = new ArrayList<>();
                for (int i = router.start(e); i < router.end(e); i++) {
                    got.add(router.tokens()[i]);
                    gotW.add(router.weights()[i]);
                }
                assertThat(got).as("T %d expert %d tokens", T, e).isEqualTo(want);
                assertThat(gotW).as("T %d expert %d weights", T, e).isEqualTo(wantW);
                total += want.size();
            }
            assertThat(total).isEqualTo(T * k);
        }
    }

    @Test
    void renormalisedWeightsSumToOneAndRawOnesAreTheSoftmax() {
        float[] logits = {1f, 3f, 2f, 0f};
        ExpertRouter norm = new ExpertRouter(4, 2, true);
        norm.route(logits, 1);
        assertThat(norm.chosen(0, 0)).isEqualTo(1);
        assertThat(norm.chosen(0, 1)).isEqualTo(2);
        // e^3 / (e^3 + e^2) and e^2 / (e^3 + e^2)
        assertThat((double) norm.weight(0, 0)).isCloseTo(1 / (1 + Math.exp(-1)), org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) norm.weight(0, 1)).isCloseTo(1 / (1 + Math.exp(1)), org.assertj.core.data.Offset.offset(1e-6));
        ExpertRouter raw = new ExpertRouter(4, 2, false);
        raw.route(logits, 1);
        double z = Math.exp(1) + Math.exp(3) + Math.exp(2) + 1;
        assertThat((double) raw.weight(0, 0)).isCloseTo(Math.exp(3) / z, org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) raw.weight(0, 1)).isCloseTo(Math.exp(2) / z, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void rejectsMoreExpertsPerTokenThanThereAre() {
        assertThatThrownBy(() -> new ExpertRouter(4, 5, true)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExpertRouter(4, 0, true)).isInstanceOf(IllegalArgumentException.class);
    }
}
