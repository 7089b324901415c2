package io.chorus.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of kernel worker threads ({@code --threads}). {@link #run(int, Task)} splits
 * {@code n} units of work into a few contiguous ranges per thread ({@link #RANGES_PER_THREAD}) and
 * blocks until all are done; the calling thread works too, so a pool of one thread runs everything
 * inline. Threads claim ranges from a shared counter, so when the OS takes a core away from one
 * thread (an HTTP handler waking, another process) the others take over its remaining ranges
 * instead of waiting for it at the end of the job.
 *
 * <p>Implementation notes: one job runs at a time (callers are the single engine thread or a test).
 * A job is published through volatile fields and a generation counter; completion is counted down
 * in {@code pending}. Waiting is a bounded spin ({@link #SPIN_NANOS}: the gaps between the jobs of
 * one forward pass are shorter) and then a park without a timeout, so an idle pool costs no CPU at
 * all. Lost wake-ups cannot happen: a waiter first announces itself ({@code sleeping} /
 * {@code callerSleeping}), then re-checks its condition, then parks; the other side first changes
 * the condition, then reads the flag and unparks (both volatile, so one of the two sees the other).
 * A spinning thread is never unparked, so a job costs no system call while the pool is busy. The
 * pool allocates nothing per job (callers pass a task, usually a small lambda per matmul or
 * attention call: a few objects per layer per step, never per token).
 */
public final class WorkerPool implements AutoCloseable {
    /** How long a waiting thread spins before it parks; longer than the gap between two jobs of one step. */
    static final long SPIN_NANOS = 100_000;

    /** Ranges per thread and job: enough to rebalance a job when one thread is held up, few enough to claim cheaply. */
    static final int RANGES_PER_THREAD = 4;

    /**
     * A kernel slice: process units [from, to) as worker {@code worker} (0 for the calling thread). A
     * worker may be given several disjoint ranges of one job; two threads never share a worker id.
     */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int from, int to);
    }

    private static final class Worker {
        final Thread thread;
        volatile boolean sleeping;

        Worker(Thread thread) { this.thread = thread; }
    }

    private final int threads;
    private final Worker[] workers;
    private volatile Task task;
    private volatile int units;
    private volatile int ranges;
    private final AtomicInteger nextRange = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile Thread caller;
    private volatile boolean callerSleeping;
    private final AtomicInteger parks = new AtomicInteger(); // for tests and profiling: how often any thread parked

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 1; i < threads; i++) {
            final int id = i;
            Thread t = Thread.ofPlatform().name("chorus-kernel-" + i).daemon(true).unstarted(() -> workerLoop(id));
            workers[i - 1] = new Worker(t);
        }
        for (Worker w : workers) w.thread.start();
    }

    /** Default thread count: the cores this JVM may use. */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** How many times a pool thread (worker or caller) has parked since start; a profiling figure. */
    public int parks() {
        return parks.get();
    }

    /** For tests: the worker threads (not the caller). */
    java.util.List<Thread> workerThreads() {
        return java.util.Arrays.stream(workers).map(w -> w.thread).toList();
    }

    /** Splits [0, n) into {@code threads} near-equal ranges and runs them in parallel. */
    public void run(int n, Task t) {
        if (n <= 0) return;
        if (threads == 1 || n == 1) {
            t.run(0, 0, n);
            return;
        }
        failure = null;
        caller = Thread.currentThread();
        task = t;
        units = n;
        ranges = Math.min(n, threads * RANGES_PER_THREAD);
        nextRange.set(0);
        pending.set(threads - 1);
        generation++;
        for (Worker w : workers) if (w.sleeping) LockSupport.unpark(w.thread);
        Throwable own = null;
        try {
            work(0, t, n, ranges);
        } catch (Throwable e) {
            own = e; // still wait for the workers: they must not run on into the next job's buffers
            nextRange.set(Integer.MAX_VALUE / 2); // and they need not start anything new
        }
        if (pending.get() != 0) awaitWorkers();
        task = null;
        Throwable f = own != null ? own : failure;
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            throw new RuntimeException(f);
        }
    }

    private void awaitWorkers() {
        long until = System.nanoTime() + SPIN_NANOS;
        while (pending.get() != 0) {
            Thread.onSpinWait();
            if (System.nanoTime() > until) break;
        }
        while (pending.get() != 0) {
            callerSleeping = true;
            if (pending.get() != 0) {
                parks.incrementAndGet();
                LockSupport.park(this);
            }
            callerSleeping = false;
        }
    }

    private void workerLoop(int id) {
        Worker self = workers[id - 1];
        int seen = 0;
        while (true) {
            long until = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed && System.nanoTime() <= until) Thread.onSpinWait();
            while (generation == seen && !closed) {
                self.sleeping = true;
                if (generation == seen && !closed) {
                    parks.incrementAndGet();
                    LockSupport.park(this);
                }
                self.sleeping = false;
            }
            if (closed) return;
            seen = generation;
            try {
                work(id, task, units, ranges);
            } catch (Throwable e) {
                failure = e;
                nextRange.set(Integer.MAX_VALUE / 2);
            } finally {
                if (pending.decrementAndGet() == 0 && callerSleeping) LockSupport.unpark(caller);
            }
        }
    }

    /** Claims ranges of the current job until none is left; range k is units [k n / r, (k + 1) n / r). */
    private void work(int id, Task t, int n, int r) {
        for (int k; (k = nextRange.getAndIncrement()) < r; ) {
            int from = (int) ((long) k * n / r), to = (int) ((long) (k + 1) * n / r);
            t.run(id, from, to);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w.thread);
    }
}
