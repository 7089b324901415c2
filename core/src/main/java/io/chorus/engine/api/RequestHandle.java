package io.chorus.engine.api;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The caller's end of one request. Meant for one consumer thread (a virtual thread is ideal: it
 * blocks cheaply in {@link #next}).
 *
 * <pre>{@code
 * for (RequestOutput out; (out = handle.next(Duration.ofSeconds(30))) != null; ) { ... }
 * }</pre>
 */
public interface RequestHandle {
    String requestId();

    /**
     * The next output event, waiting up to {@code timeout}; null once every completion has finished
     * and its last event was returned.
     *
     * @throws TimeoutException if nothing arrived in time (the request goes on; call again or abort)
     */
    RequestOutput next(Duration timeout) throws InterruptedException, TimeoutException;

    /** Asks the engine to abort this request; its blocks are freed at the next step. */
    void abort();

    /**
     * Asks the engine to abort only completion {@code index} of an n > 1 request (a stop string
     * ended it while the others go on); its blocks are freed at the next step.
     */
    void abort(int index);
}
