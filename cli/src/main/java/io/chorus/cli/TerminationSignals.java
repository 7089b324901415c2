package io.chorus.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Runs a drain on SIGTERM or SIGINT before the JVM starts shutting down. Left to the JVM, a signal
 * starts its shutdown at once: every shutdown hook runs concurrently, java.util.logging's own hook
 * removes the log handlers while the drain still has lines to write (access lines of requests that
 * finish, the shutdown message), and the process exits with 143. Handled here, the drain runs first
 * on its own thread; the command then returns and exits normally (0) with its log intact. A second
 * SIGINT (Ctrl-C twice) exits at once; a repeated SIGTERM is ignored. Where signals cannot be
 * handled (e.g. {@code -Xrs}), a shutdown hook runs the drain instead.
 */
final class TerminationSignals {
    private TerminationSignals() {}

    /** Runs {@code drain} once, on the first SIGTERM or SIGINT (or at JVM shutdown if neither came). */
    static void onTermination(Runnable drain) {
        AtomicBoolean started = new AtomicBoolean();
        Runnable once = () -> {
            if (started.compareAndSet(false, true)) drain.run();
        };
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), sig -> {
                    if (!started.get()) {
                        Thread.ofPlatform().name("chorus-drain").start(once);
                    } else if (sig.getName().equals("INT")) {
                        System.err.println("chorus: interrupted again: exiting without waiting");
                        Runtime.getRuntime().halt(130);
                    }
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // this JVM does not let the signal be handled: the shutdown hook below covers it
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(once, "chorus-shutdown"));
    }
}
