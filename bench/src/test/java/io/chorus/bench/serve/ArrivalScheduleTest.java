package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ArrivalScheduleTest {
    /** Mean and squared coefficient of variation of the gaps; a gamma(k) gap has CV^2 = 1/k. */
    private static double[] gapStats(double[] at) {
        double prev = 0, sum = 0, sq = 0;
        for (double t : at) {
            double g = t - prev;
            prev = t;
            sum += g;
            sq += g * g;
        }
        double mean = sum / at.length;
        double var = sq / at.length - mean * mean;
        return new double[] {mean, var / (mean * mean)};
    }

    @Test
    void poissonArrivals() {
        double[] at = ArrivalSchedule.offsetsSeconds(20_000, 10.0, 1.0, 42);
        double[] s = gapStats(at);
        assertThat(s[0]).isCloseTo(0.1, within(0.1 * 0.03));
        assertThat(s[1]).isCloseTo(1.0, within(0.06));
        for (int i = 1; i < at.length; i++) assertThat(at[i]).isGreaterThanOrEqualTo(at[i - 1]);
    }

    @Test
    void burstinessChangesSpreadNotRate() {
        double[] bursty = gapStats(ArrivalSchedule.offsetsSeconds(20_000, 4.0, 0.5, 7));
        assertThat(bursty[0]).isCloseTo(0.25, within(0.25 * 0.04));
        assertThat(bursty[1]).isCloseTo(2.0, within(0.2));
        double[] even = gapStats(ArrivalSchedule.offsetsSeconds(20_000, 4.0, 4.0, 7));
        assertThat(even[0]).isCloseTo(0.25, within(0.25 * 0.03));
        assertThat(even[1]).isCloseTo(0.25, within(0.03));
    }

    @Test
    void seededAndInfinite() {
        assertThat(ArrivalSchedule.offsetsSeconds(100, 3, 1, 5)).containsExactly(ArrivalSchedule.offsetsSeconds(100, 3, 1, 5));
        assertThat(ArrivalSchedule.offsetsSeconds(100, 3, 1, 5)).isNotEqualTo(ArrivalSchedule.offsetsSeconds(100, 3, 1, 6));
        assertThat(ArrivalSchedule.offsetsSeconds(5, Double.POSITIVE_INFINITY, 1, 5)).containsOnly(0.0);
    }
}
