package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineStats;
import org.junit.jupiter.api.Test;

class StatusHistoryTest {
    /** Stats with the counters the history reads; everything else zero. */
    private static EngineStats stats(int running, int waiting, double kv, long generated, long steps, long stepSeqs, long stepTokens) {
        return new EngineStats(running, waiting, kv, 0, 0, 0, generated, 0, 0, 0, 0, 0, steps, 0, 0, 0, 0, 0, 0, 0, 0, stepSeqs, stepTokens);
    }

    @Test
    void ratesAreTheCounterDifferencesOverTheIntervalAndTheRingKeepsTheNewest() {
        StatusHistory h = new StatusHistory(3);
        h.sample(stats(0, 0, 0, 100, 10, 20, 400), 10_000);
        assertThat(h.latest()).isNull(); // a baseline only
        h.sample(stats(4, 1, 0.25, 160, 30, 100, 520), 12_000); // 2 s: 60 tokens, 20 steps of 80 seqs, 120 batched tokens
        assertThat(h.latest()).isEqualTo(new StatusHistory.Sample(12_000, 4, 1, 0.25, 10.0, 30.0, 60.0, 4.0));
        h.sample(stats(0, 0, 0, 160, 30, 100, 520), 13_000); // nothing ran: no batch to average
        assertThat(h.latest()).isEqualTo(new StatusHistory.Sample(13_000, 0, 0, 0, 0, 0, 0, 0));
        h.sample(stats(1, 0, 0.5, 161, 31, 101, 521), 13_000); // the same instant: ignored, becomes the new baseline
        h.sample(stats(1, 0, 0.5, 171, 41, 111, 531), 13_500);
        h.sample(stats(1, 0, 0.5, 181, 51, 121, 541), 14_000);
        assertThat(h.since(0)).extracting(StatusHistory.Sample::timeMillis).containsExactly(13_000L, 13_500L, 14_000L);
        assertThat(h.since(13_000)).extracting(StatusHistory.Sample::timeMillis).containsExactly(13_500L, 14_000L);
        assertThat(h.latest().generationTokensPerSecond()).isEqualTo(20.0);
        assertThat(h.latest().meanBatchSeqs()).isEqualTo(1.0);
    }
}
