package io.chorus.engine.request;

import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.structured.CompiledGrammar;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's engine-side state: its live sequences, its output stream and its timings.
 * Implementation notes: the engine loop thread owns everything here except {@link #output()}, which
 * is the thread-safe bridge to the consumer. {@code live} holds the sequences not yet finished
 * (waiting or running); the request is over when it is empty and all n completions reported.
 * Prompt logprobs (when asked) are filled row by row as prefill chunks compute them, shared by a
 * fork parent and its children, and handed out once, with the request's first token.
 */
public final class RequestState {
    private final EngineRequest request;
    private final long arrivalOrder;
    private final long arrivalNanos;
    private final OutputQueue output;
    private final CompiledGrammar grammar; // null when unconstrained
    private final List<Sequence> live = new ArrayList<>();
    private long firstTokenNanos;
    private TokenLogprobs[] promptLogprobs; // [promptLen], entry 0 null; null when not asked
    private boolean promptLogprobsDelivered;

    public RequestState(EngineRequest request, long arrivalOrder, long arrivalNanos, OutputQueue output) {
        this(request, arrivalOrder, arrivalNanos, output, null);
    }

    /** A request whose output {@code grammar} (compiled for this engine) constrains, or null. */
    public RequestState(EngineRequest request, long arrivalOrder, long arrivalNanos, OutputQueue output, CompiledGrammar grammar) {
        this.grammar = grammar;
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

    /** The compiled grammar every sequence of this request starts from, or null. */
    public CompiledGrammar grammar() { return grammar; }

    /** Whether prefill still has to compute prompt logprobs (asked for and not yet delivered). */
    public boolean needsPromptLogprobs() {
        return request.sampling().promptLogprobs() != null && !promptLogprobsDelivered;
    }

    /** Records the logprobs of prompt token {@code index} (at least 1). */
    public void setPromptLogprobs(int index, TokenLogprobs lp) {
        if (promptLogprobs == null) promptLogprobs = new TokenLogprobs[request.promptTokenIds().length];
        promptLogprobs[index] = lp;
    }

    /**
     * The prompt logprobs, once: the first call after they were asked for returns them (entry 0 null),
     * every later call null.
     */
    public TokenLogprobs[] takePromptLogprobs() {
        if (!needsPromptLogprobs()) return null;
        promptLogprobsDelivered = true;
        TokenLogprobs[] out = promptLogprobs != null ? promptLogprobs : new TokenLogprobs[request.promptTokenIds().length];
        promptLogprobs = null;
        return out;
    }

    /** Sequences not yet finished. */
    public List<Sequence> live() { return live; }

    public RequestOutput.Timings timings(long finishNanos) {
        return new RequestOutput.Timings(arrivalNanos, firstTokenNanos, finishNanos);
    }
}
