package io.chorus.server;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The admission bound: at most {@code capacity} engine requests (max-num-seqs running plus the
 * queue bound waiting) are admitted at once. A handler takes its tickets first, before it renders a
 * template or tokenizes anything, so a flood is refused for the price of parsing its JSON.
 *
 * <p>Thread-safe: {@code admitted} is the only state, changed atomically.
 */
final class Admission {
    private final int capacity;
    private final AtomicInteger admitted = new AtomicInteger();

    Admission(int capacity) {
        this.capacity = capacity;
    }

    /** Requests admitted and not yet released (rendering, waiting or running). */
    int admitted() { return admitted.get(); }

    int capacity() { return capacity; }

    /** Admits {@code n} engine requests at once (a completions call with n prompts), or throws 429. */
    Ticket admit(int n) {
        int after = admitted.addAndGet(n);
        if (after > capacity || after < 0) {
            admitted.addAndGet(-n);
            throw ApiError.queueFull(RETRY_AFTER_SECONDS);
        }
        return new Ticket(n);
    }

    /** What a refused client is told to wait: long enough for a few steps, short enough to matter. */
    static final int RETRY_AFTER_SECONDS = 1;

    /** Admitted places; {@link #close} gives them all back (once). */
    final class Ticket implements AutoCloseable {
        private final int n;
        private boolean closed;

        private Ticket(int n) {
            this.n = n;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                admitted.addAndGet(-n);
            }
        }
    }
}
