package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PercentilesTest {
    @Test
    void linearInterpolationLikeNumpy() {
        double[] v = {4, 1, 3, 2}; // numpy.percentile([1,2,3,4], p)
        assertThat(Percentiles.of(v, 0)).isEqualTo(1.0);
        assertThat(Percentiles.of(v, 50)).isEqualTo(2.5);
        assertThat(Percentiles.of(v, 90)).isCloseTo(3.7, within(1e-12));
        assertThat(Percentiles.of(v, 99)).isCloseTo(3.97, within(1e-12));
        assertThat(Percentiles.of(v, 100)).isEqualTo(4.0);
        // numpy.percentile([10,20,30,40,50], 95) == 48.0, 25 -> 20.0
        assertThat(Percentiles.of(new double[] {50, 40, 30, 20, 10}, 95)).isCloseTo(48.0, within(1e-12));
        assertThat(Percentiles.of(new double[] {50, 40, 30, 20, 10}, 25)).isEqualTo(20.0);
        assertThat(Percentiles.of(new double[] {7}, 99)).isEqualTo(7.0);
        assertThat(Percentiles.of(new double[0], 50)).isNaN();
    }

    @Test
    void latencyStatsOfFixedTimings() {
        // Hand-computed: mean 4, median 3, population std sqrt(50/5) = sqrt(10),
        // p90 rank 3.6 -> 4 + 0.6*6 = 7.6, p95 rank 3.8 -> 8.8, p99 rank 3.96 -> 9.76.
        LatencyStats s = LatencyStats.of(new double[] {10, 1, 4, 2, 3});
        assertThat(s.count()).isEqualTo(5);
        assertThat(s.mean()).isEqualTo(4.0);
        assertThat(s.median()).isEqualTo(3.0);
        assertThat(s.p50()).isEqualTo(3.0);
        assertThat(s.std()).isCloseTo(Math.sqrt(10), within(1e-12));
        assertThat(s.p90()).isCloseTo(7.6, within(1e-12));
        assertThat(s.p95()).isCloseTo(8.8, within(1e-12));
        assertThat(s.p99()).isCloseTo(9.76, within(1e-12));
        assertThat(s.min()).isEqualTo(1.0);
        assertThat(s.max()).isEqualTo(10.0);
        assertThat(LatencyStats.of(new double[0]).mean()).isNaN();
    }
}
