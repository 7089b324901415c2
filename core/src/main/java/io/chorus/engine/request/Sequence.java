package io.chorus.engine.request;

import io.chorus.engine.kv.BlockTable;
import io.chorus.engine.runner.SamplingState;
import java.util.Arrays;

/**
 * One sequence being generated: a request's prompt plus the tokens generated so far (its "known"
 * tokens), of which the first {@link #numComputed()} have K/V in the cache.
 *
 * <p>Implementation notes: each step the scheduler moves {@code numComputed} towards
 * {@code numTokens}; that one rule covers prefill, chunked prefill, prefix-cache hits and recompute
 * after preemption (which resets it to 0). Positions {@code [0, numTokens)} of {@code tokens} never
 * change once written, so a plan may read them through {@link #tokenArray()} during its step. A
 * request with {@code n > 1} and a prompt longer than one token first runs as a fork parent whose
 * known tokens are the prompt minus its last token; once those are computed the engine forks it
 * into n children that share its blocks. Engine loop thread only.
 */
public final class Sequence {
    public enum Status { WAITING, RUNNING, FINISHED }

    private final RequestState request;
    private final int index;
    private final int promptLen;
    private final SamplingState sampling;
    private final int forkInto;
    private final BlockTable blockTable = new BlockTable();
    private int[] tokens;
    private int numTokens;
    private int numComputed;
    private Status status = Status.WAITING;
    private final io.chorus.engine.runner.EmbeddingPool pool;

    /** A sequence over the whole prompt; {@code forkInto > 1} makes it a fork parent. */
    public Sequence(RequestState request, int index, SamplingState sampling, int forkInto) {
        this.request = request;
        this.index = index;
        this.sampling = sampling;
        this.forkInto = forkInto;
        int[] prompt = request.request().promptTokenIds();
        this.promptLen = prompt.length;
        this.tokens = Arrays.copyOf(prompt, prompt.length + Math.min(64, request.request().sampling().maxTokens()));
        this.numTokens = forkInto > 1 ? promptLen - 1 : promptLen;
        this.pool = request.request().pooling() != null ? new io.chorus.engine.runner.EmbeddingPool(request.request().pooling()) : null;
    }

    /** A child of fork parent {@code parent}: the whole prompt known, all but its last token computed. */
    public Sequence(Sequence parent, int index, SamplingState sampling) {
        this.request = parent.request;
        this.index = index;
        this.sampling = sampling;
        this.forkInto = 1;
        this.promptLen = parent.promptLen;
        this.tokens = parent.tokens.clone();
        this.numTokens = promptLen;
        this.numComputed = parent.numComputed;
        this.status = Status.RUNNING;
        this.pool = null;
    }

    public RequestState request() { return request; }

    public String requestId() { return request.request().requestId(); }

    public int index() { return index; }

    public int priority() { return request.request().priority(); }

    /** Arrival order at the engine (children share their request's). */
    public long arrivalOrder() { return request.arrivalOrder(); }

    public int promptLen() { return promptLen; }

    /** Known tokens: prompt plus generated (a fork parent: the prompt minus its last token). */
    public int numTokens() { return numTokens; }

    public int numComputed() { return numComputed; }

    public int numGenerated() { return isForkParent() ? 0 : numTokens - promptLen; }

    public int[] tokenArray() { return tokens; }

    public int token(int i) { return tokens[i]; }

    public int lastToken() { return tokens[numTokens - 1]; }

    public BlockTable blockTable() { return blockTable; }

    public SamplingState sampling() { return sampling; }

    /**
     * Whether this sequence's prefill must produce prompt logprobs. Such a sequence skips the prefix
     * cache: cached positions are never computed, so their logits (and logprobs) would be missing.
     */
    public boolean needsPromptLogprobs() { return request.needsPromptLogprobs(); }

    /**
     * Whether this sequence must compute every prompt position itself: prompt logprobs and embeddings
     * need each position's output, which a prefix-cache hit would skip.
     */
    public boolean skipsPrefixCache() { return request.needsPromptLogprobs() || request.request().pooling() != null; }

    /** The pooled hidden states of an embedding request so far (null otherwise); the runner's to update. */
    public io.chorus.engine.runner.EmbeddingPool pool() { return pool; }

    public Status status() { return status; }

    public boolean isForkParent() { return forkInto > 1; }

    public int forkInto() { return forkInto; }

    /** Running-sequence slots this sequence stands for (a fork parent reserves one per child). */
    public int seqSlots() { return forkInto; }

    public void setStatus(Status s) { status = s; }

    public void setNumComputed(int n) {
        if (n < 0 || n > numTokens) throw new IllegalArgumentException("computed " + n + " of " + numTokens);
        numComputed = n;
    }

    public void appendToken(int token) {
        if (numTokens == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[numTokens++] = token;
    }

    @Override
    public String toString() {
        return requestId() + (index > 0 || request.request().sampling().n() > 1 ? "#" + index : "");
    }
}
