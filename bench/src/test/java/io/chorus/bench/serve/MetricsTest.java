package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
    private static final long MS = 1_000_000;

    @Test
    void figuresOfAFixedRun() {
        List<RequestOutcome> outcomes = List.of(
                RequestOutcome.success(0, new long[] {100 * MS, 200 * MS, 300 * MS}, 300 * MS, 10, 3, true),
                RequestOutcome.success(50 * MS, new long[] {250 * MS, 270 * MS}, 290 * MS, 20, 2, true),
                RequestOutcome.failure(100 * MS, 150 * MS, "HTTP 500: boom"),
                RequestOutcome.success(300 * MS, new long[] {400 * MS}, 500 * MS, 30, 1, true));
        LevelResult r = Metrics.compute(4, Double.POSITIVE_INFINITY, outcomes, 0.5);
        assertThat(r.completed()).isEqualTo(3);
        assertThat(r.failed()).isEqualTo(1);
        assertThat(r.errors()).containsEntry("HTTP 500: boom", 1);
        assertThat(r.totalInputTokens()).isEqualTo(60);
        assertThat(r.totalOutputTokens()).isEqualTo(6);
        assertThat(r.requestThroughput()).isCloseTo(6.0, within(1e-9));
        assertThat(r.outputThroughput()).isCloseTo(12.0, within(1e-9));
        assertThat(r.totalTokenThroughput()).isCloseTo(132.0, within(1e-9));
        // In flight: [0,300], [50,290], [100,150] overlap -> 3; the last starts exactly when the first ends.
        assertThat(r.peakConcurrency()).isEqualTo(3);
        assertThat(r.ttftMs().count()).isEqualTo(3);
        assertThat(r.ttftMs().mean()).isCloseTo((100 + 200 + 100) / 3.0, within(1e-9));
        // TPOT: (300-100)/2 = 100 and (240-200)/1 = 40; the one-token request has none.
        assertThat(r.tpotMs().count()).isEqualTo(2);
        assertThat(r.tpotMs().mean()).isCloseTo(70, within(1e-9));
        assertThat(r.itlMs().count()).isEqualTo(3); // 100, 100, 20
        assertThat(r.itlMs().median()).isCloseTo(100, within(1e-9));
        assertThat(r.e2eMs().mean()).isCloseTo((300 + 240 + 200) / 3.0, within(1e-9));
        assertThat(r.perUserOutputSpeed()).isCloseTo((10 + 25) / 2.0, within(1e-9));
        assertThat(r.usageReported()).isTrue();
        assertThat(ReportTable.level(r)).contains("Successful requests:", "Peak concurrent requests:", "HTTP 500: boom");
    }

    @Test
    void allFailedLeavesLatenciesEmpty() {
        LevelResult r = Metrics.compute(1, 2.0, List.of(RequestOutcome.failure(0, MS, "x")), 0.001);
        assertThat(r.completed()).isZero();
        assertThat(r.ttftMs().mean()).isNaN();
        assertThat(r.outputThroughput()).isZero();
    }
}
