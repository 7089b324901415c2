package io.chorus.server;

import io.chorus.model.Batch;
import io.chorus.model.ForwardPass;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A forward pass that waits for a permit before every step, so a test decides exactly how many
 * engine steps run and can look at the server while the engine is held inside a step.
 */
final class Gate implements ForwardPass {
    private final ForwardPass model;
    private final Semaphore permits = new Semaphore(0);
    private final AtomicInteger arrivals = new AtomicInteger();
    private volatile boolean open;

    private Gate(ForwardPass model) {
        this.model = model;
    }

    /** A seam that wraps the served model's forward pass in a new gate, handed to {@code sink}. */
    static LoadedModel.Seams seams(Gate[] sink) {
        return new LoadedModel.Seams(m -> sink[0] = new Gate(m), LoadedModel.Seams.NONE.sampler(), d -> d);
    }

    /** Forward passes that have started (and are running or held). */
    int arrivals() { return arrivals.get(); }

    /** Waits until {@code n} forward passes have started. */
    void awaitArrivals(int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (arrivals.get() < n) {
            if (System.nanoTime() > until) throw new AssertionError("the engine did not reach step " + n);
            Thread.sleep(1);
        }
    }

    /** Lets {@code k} more forward passes run. */
    void allow(int k) { permits.release(k); }

    /** Takes back the permits not used yet: the next forward pass waits again (not after {@link #open}). */
    void hold() { permits.drainPermits(); }

    /** Lets every forward pass run from now on. */
    void open() {
        open = true;
        permits.release(1 << 20);
    }

    @Override
    public void forward(Batch batch, float[] logits) {
        arrivals.incrementAndGet();
        if (!open) {
            try {
                permits.acquire();
            } catch (InterruptedException e) { // the engine is closing: let the step fail rather than hang
                Thread.currentThread().interrupt();
                throw new IllegalStateException("gate interrupted", e);
            }
        }
        model.forward(batch, logits);
    }

    @Override public int vocabSize() { return model.vocabSize(); }
    @Override public int blockSize() { return model.blockSize(); }
    @Override public int numBlocks() { return model.numBlocks(); }
    @Override public void copyBlocks(int[] src, int[] dst, int count) { model.copyBlocks(src, dst, count); }
}
