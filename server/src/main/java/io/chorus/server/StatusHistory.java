package io.chorus.server;

import io.chorus.engine.api.EngineStats;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's recent past for the web page's chart: one sample per interval, each the rates between
 * two readings of the engine's counters (so nothing is counted twice and the engine does no work for
 * it), kept in a ring of fixed size.
 *
 * <p>Implementation notes: {@link #sample} is called by one sampling thread, the readers are request
 * handlers; every method holds the monitor (a handful of fields, held for microseconds, never by the
 * engine loop). The first reading is only a baseline and yields no sample.
 */
final class StatusHistory {
    /**
     * Rates over the interval that ends at {@code timeMillis}.
     *
     * @param running                  sequences running at the end
     * @param waiting                  sequences waiting at the end
     * @param kvUsage                  share of KV blocks in use at the end, in [0, 1]
     * @param stepsPerSecond           engine steps that ran a batch
     * @param generationTokensPerSecond tokens generated
     * @param batchedTokensPerSecond   tokens through the forward pass (prompt chunks and decodes)
     * @param meanBatchSeqs            sequences per step, averaged over the interval's steps (0 without steps)
     */
    record Sample(long timeMillis, int running, int waiting, double kvUsage, double stepsPerSecond,
                  double generationTokensPerSecond, double batchedTokensPerSecond, double meanBatchSeqs) {}

    private final Sample[] ring;
    private int next, size;
    private EngineStats previous;
    private long previousMillis;

    StatusHistory(int capacity) {
        ring = new Sample[capacity];
    }

    /** Takes a reading at {@code nowMillis}; a sample of the rates since the previous reading when there was one. */
    synchronized void sample(EngineStats now, long nowMillis) {
        EngineStats before = previous;
        long beforeMillis = previousMillis;
        previous = now;
        previousMillis = nowMillis;
        if (before == null || nowMillis <= beforeMillis) return;
        double seconds = (nowMillis - beforeMillis) / 1000.0;
        long steps = now.steps() - before.steps();
        double meanBatch = steps == 0 ? 0 : (double) (now.totalStepSeqs() - before.totalStepSeqs()) / steps;
        ring[next] = new Sample(nowMillis, now.running(), now.waiting(), now.kvUsage(), steps / seconds,
                (now.generationTokens() - before.generationTokens()) / seconds,
                (now.totalStepTokens() - before.totalStepTokens()) / seconds, meanBatch);
        next = (next + 1) % ring.length;
        size = Math.min(size + 1, ring.length);
    }

    /** Samples later than {@code afterMillis}, oldest first. */
    synchronized List<Sample> since(long afterMillis) {
        List<Sample> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            Sample s = ring[(next - size + i + ring.length) % ring.length];
            if (s.timeMillis() > afterMillis) out.add(s);
        }
        return out;
    }

    /** The newest sample, or null before the second reading. */
    synchronized Sample latest() {
        return size == 0 ? null : ring[(next - 1 + ring.length) % ring.length];
    }
}
