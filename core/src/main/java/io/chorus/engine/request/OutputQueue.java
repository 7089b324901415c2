package io.chorus.engine.request;

import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The output stream of one request: the engine loop offers events, one consumer takes them.
 * Implementation notes: the queue is the only shared state and is thread-safe; {@code finishedSeen}
 * is touched by the consumer thread only. The stream ends after {@code n} finished events.
 */
public final class OutputQueue implements RequestHandle {
    /** Where aborts go: the engine loop's command queue. {@code index} is -1 for the whole request. */
    @FunctionalInterface
    public interface Aborter {
        void abort(String requestId, int index);
    }

    private final String requestId;
    private final int n;
    private final Aborter aborter;
    private final LinkedBlockingQueue<RequestOutput> queue = new LinkedBlockingQueue<>();
    private int finishedSeen;

    public OutputQueue(String requestId, int n, Aborter aborter) {
        this.requestId = requestId;
        this.n = n;
        this.aborter = aborter;
    }

    /** Engine loop side. */
    public void offer(RequestOutput out) {
        queue.add(out);
    }

    @Override
    public String requestId() { return requestId; }

    @Override
    public RequestOutput next(Duration timeout) throws InterruptedException, TimeoutException {
        if (finishedSeen == n) return null;
        RequestOutput out = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (out == null) throw new TimeoutException("no output for request " + requestId + " within " + timeout);
        if (out.finished()) finishedSeen++;
        return out;
    }

    @Override
    public void abort() {
        aborter.abort(requestId, -1);
    }

    @Override
    public void abort(int index) {
        if (index < 0 || index >= n) throw new IllegalArgumentException("no completion " + index + " in a request of " + n);
        aborter.abort(requestId, index);
    }
}
