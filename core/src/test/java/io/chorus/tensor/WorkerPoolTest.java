package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {

    @Test
    void everyUnitRunsExactlyOnce() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int n : new int[] {1, 2, 3, 7, 100}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                pool.run(n, (w, from, to) -> {
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("unit %d of %d", i, n).isEqualTo(1);
            }
        }
    }

    @Test
    void aFailureInAnyRangeIsRethrownAfterEveryWorkerFinishedAndThePoolKeepsWorking() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int failing : new int[] {0, 1}) {
                AtomicIntegerArray done = new AtomicIntegerArray(2);
                assertThatThrownBy(() -> pool.run(2, (w, from, to) -> {
                    if (w == failing) throw new IllegalStateException("boom in worker " + w);
                    sleep(50); // the other range is still running when the failure happens
                    done.set(w, 1);
                })).isInstanceOf(IllegalStateException.class).hasMessage("boom in worker " + failing);
                // run() returned only after the healthy range completed...
                assertThat(done.get(1 - failing)).isEqualTo(1);
                // ...and the next job runs normally.
                AtomicIntegerArray hits = new AtomicIntegerArray(10);
                pool.run(10, (w, from, to) -> {
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < 10; i++) assertThat(hits.get(i)).isEqualTo(1);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
