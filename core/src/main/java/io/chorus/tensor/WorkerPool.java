package io.chorus.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of kernel worker threads ({@code --threads}). {@link #run(int, Task)} splits
 * {@code n} units of work into one contiguous range per thread and blocks until all are done; the
 * calling thread takes range 0 itself, so a pool of one thread runs everything inline.
 *
 * <p>Implementation notes: one job runs at a time (callers are the single engine thread or a test).
 * Workers and the caller spin briefly and then park (the last worker unparks the caller); a job is
 * published through volatile fields and a generation counter, and completion is counted down in
 * {@code pending}. The pool allocates nothing per job (callers pass a task, usually a small lambda
 * per matmul or attention call: a few objects per layer per step, never per token).
 */
public final class WorkerPool implements AutoCloseable {

    /** A kernel slice: process units [from, to) as worker {@code worker}. */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private volatile Task task;
    private volatile int units;
    private volatile int generation;
    private volatile boolean closed;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile Thread caller;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 1; i < threads; i++) {
            final int id = i;
            Thread t = new Thread(() -> workerLoop(id), "chorus-kernel-" + i);
            t.setDaemon(true);
            workers[i - 1] = t;
            t.start();
        }
    }

    /** Default thread count: the cores this JVM may use. */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
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
        pending.set(threads - 1);
        generation++;
        for (Thread w : workers) LockSupport.unpark(w);
        int first = n / threads + (n % threads > 0 ? 1 : 0);
        Throwable own = null;
        try {
            t.run(0, 0, first);
        } catch (Throwable e) {
            own = e; // still wait for the workers: they must not run on into the next job's buffers
        }
        // Spin briefly (jobs are short), then park: on a busy machine a spinning caller would steal
        // the core its own workers need. The last worker to finish unparks the caller.
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < 20_000) Thread.onSpinWait();
            else LockSupport.parkNanos(this, 50_000);
        }
        task = null;
        Throwable f = own != null ? own : failure;
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            throw new RuntimeException(f);
        }
    }

    private void workerLoop(int id) {
        int seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < 20_000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 200_000);
            }
            if (closed) return;
            seen = generation;
            Task t = task;
            int n = units;
            int base = n / threads, rem = n % threads;
            int from = id * base + Math.min(id, rem);
            int to = from + base + (id < rem ? 1 : 0);
            try {
                if (from < to) t.run(id, from, to);
            } catch (Throwable e) {
                failure = e;
            } finally {
                if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
