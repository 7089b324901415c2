package io.chorus.engine.request;

import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.RequestOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's engine-side state: its live sequences, its output stream and its timings.
 * Implementation notes: the engine loop thread owns everything here except {@link #output()}, which
 * is the thread-safe bridge to the consumer. {@code live} holds the sequences not yet finished
 * (waiting or running); the request is over when it is empty and all n completions reported.
 */
public final class RequestState {
    private final EngineRequest request;
    private final long arrivalOrder;
    private final long arrivalNanos;
    private final OutputQueue output;
    private final List<Sequence> live = new ArrayList<>();
    private long firstTokenNanos;

    public RequestState(EngineRequest request, long arrivalOrder, long arrivalNanos, OutputQueue output) {
        this.request = request;
        this.arrivalOrder = arrivalOrder;
        this.arrivalNanos = arrivalNanos;
        this.output = output;
    }

    public EngineRequest request() { return request; }

    public long arrivalOrder() { return arrivalOrder; }

    public long arrivalNanos() { return arrivalNanos; }

    public long firstTokenNanos() { return firstTokenNanos; }

    public void markFirstToken(long nanos) {
        if (firstTokenNanos == 0) firstTokenNanos = nanos;
    }

    public OutputQueue output() { return output; }

    /** Sequences not yet finished. */
    public List<Sequence> live() { return live; }

    public RequestOutput.Timings timings(long finishNanos) {
        return new RequestOutput.Timings(arrivalNanos, firstTokenNanos, finishNanos);
    }
}
