package io.chorus.engine.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.chorus.engine.api.TokenLogprobs;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogprobsComputerTest {
    /** log-softmax in double, written independently. */
    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) if (x > max) max = x;
        double sum = 0;
        for (float x : logits) if (!Float.isNaN(x)) sum += Math.exp(x - max);
        double[] out = new double[logits.length];
        for (int v = 0; v < logits.length; v++) out[v] = Float.isNaN(logits[v]) ? Double.NEGATIVE_INFINITY : logits[v] - max - Math.log(sum);
        return out;
    }

    @Test
    void valuesRankAndAlternativesFollowTheLogSoftmax() {
        float[] logits = {1, 3, 2, 3, Float.NaN, -1, 2.5f, Float.NEGATIVE_INFINITY};
        double[] lp = logSoftmax(logits);
        LogprobsComputer c = new LogprobsComputer();
        TokenLogprobs t = c.compute(logits, 0, logits.length, 2, 4);
        assertThat(t.tokenId()).isEqualTo(2);
        assertThat((double) t.logprob()).isCloseTo(lp[2], within(1e-6));
        assertThat(t.rank()).isEqualTo(4); // 3, 3, 2.5, then itself
        assertThat(t.topIds()).containsExactly(1, 3, 6, 2); // tie 1 and 3: lower id first
        for (int i = 0; i < 4; i++) assertThat((double) t.topLogprobs()[i]).isCloseTo(lp[t.topIds()[i]], within(1e-6));
        assertThat(c.compute(logits, 0, logits.length, 3, 0).topIds()).isEmpty();
        assertThat(c.compute(logits, 0, logits.length, 3, 0).rank()).isEqualTo(2); // ties share the worse rank, as vLLM counts >=
    }

    @Test
    void largeVocabularyTopTwentyIsSortedAndExact() {
        SplittableRandom r = new SplittableRandom(4);
        float[] row = new float[5000];
        float[] logits = new float[3 * 5000];
        for (int v = 0; v < row.length; v++) row[v] = (float) (r.nextGaussian() * 3);
        System.arraycopy(row, 0, logits, 5000, 5000);
        double[] lp = logSoftmax(row);
        TokenLogprobs t = new LogprobsComputer().compute(logits, 5000, 5000, 17, 20);
        Integer[] order = new Integer[5000];
        for (int v = 0; v < 5000; v++) order[v] = v;
        java.util.Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a]));
        for (int i = 0; i < 20; i++) {
            assertThat(t.topIds()[i]).isEqualTo(order[i]);
            assertThat((double) t.topLogprobs()[i]).isCloseTo(lp[order[i]], within(1e-5));
        }
        int rank = java.util.Arrays.asList(order).indexOf(17) + 1;
        assertThat(t.rank()).isEqualTo(rank);
        assertThat((double) t.logprob()).isCloseTo(lp[17], within(1e-5));
    }
}
