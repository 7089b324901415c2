package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
                CountDownLatch bothStarted = new CountDownLatch(2); // one range each, whoever claims first
                assertThatThrownBy(() -> pool.run(2, (w, from, to) -> {
                    bothStarted.countDown();
                    await(bothStarted);
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

    @Test
    void anIdlePoolParksWithoutATimeoutAndWakesForTheNextJob() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(3)) {
            pool.run(3, (w, from, to) -> {});
            // Idle means idle: each worker ends in an untimed park (a timed one would wake it periodically).
            for (Thread t : pool.workerThreads()) awaitState(t, Thread.State.WAITING);
            // A parked worker is woken by the next job and takes a range (each range waits for all three threads).
            AtomicIntegerArray byWorker = new AtomicIntegerArray(3);
            CountDownLatch all = new CountDownLatch(3);
            pool.run(3, (w, from, to) -> {
                all.countDown();
                await(all);
                byWorker.set(w, to - from);
            });
            for (int w = 0; w < 3; w++) assertThat(byWorker.get(w)).as("worker %d", w).isEqualTo(1);
            assertThat(pool.parks()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void aCallerThatParkedIsWokenByTheLastWorker() {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicIntegerArray done = new AtomicIntegerArray(1);
            int before = pool.parks();
            CountDownLatch bothStarted = new CountDownLatch(2);
            pool.run(2, (w, from, to) -> {
                bothStarted.countDown();
                await(bothStarted);
                if (w == 1) {
                    sleep(100); // far past the caller's spin: it must park and be unparked
                    done.set(0, 1);
                }
            });
            assertThat(done.get(0)).isEqualTo(1);
            assertThat(pool.parks()).isGreaterThan(before);
        }
    }

    @Test
    void whenAWorkerIsHeldUpTheOthersTakeOverItsRanges() {
        try (WorkerPool pool = new WorkerPool(2)) {
            int ranges = 2 * WorkerPool.RANGES_PER_THREAD;
            AtomicIntegerArray hits = new AtomicIntegerArray(ranges * 3);
            AtomicIntegerArray rangesBy = new AtomicIntegerArray(2);
            CountDownLatch callerDidTheRest = new CountDownLatch(ranges - 1);
            pool.run(ranges * 3, (w, from, to) -> {
                if (w != 0) await(callerDidTheRest); // the worker is stuck in its first range
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
                rangesBy.incrementAndGet(w);
                if (w == 0) callerDidTheRest.countDown();
            });
            for (int i = 0; i < ranges * 3; i++) assertThat(hits.get(i)).as("unit %d", i).isEqualTo(1);
            // With one fixed range per thread the caller would have done half and then waited.
            assertThat(rangesBy.get(0)).isGreaterThanOrEqualTo(ranges - 1);
            assertThat(rangesBy.get(0) + rangesBy.get(1)).isEqualTo(ranges);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("latch not released");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
        for (int i = 0; i < 500 && t.getState() != state; i++) Thread.sleep(10);
        assertThat(t.getState()).as(t.getName()).isEqualTo(state);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
