package io.chorus.engine.api;

/**
 * The engine as HTTP and CLI threads see it. Thread-safe; nothing here blocks on the engine loop.
 *
 * <pre>{@code
 * EngineClient engine = Engine.start(config, model); // io.chorus.engine.Engine assembles the loop
 * RequestHandle h = engine.submit(new EngineRequest("req-1", promptIds, SamplingParams.greedy(128)));
 * for (RequestOutput out; (out = h.next(Duration.ofSeconds(60))) != null; ) {
 *     emit(out.newTokenIds());
 *     if (out.finished()) log(out.finishReason());
 * }
 * }</pre>
 */
public interface EngineClient extends AutoCloseable {
    /**
     * Queues a request; its outputs arrive on the returned handle.
     *
     * @throws InvalidRequestException if it can never run (too long for the model or the cache, token
     *     ids outside the vocabulary, n over max-num-seqs) or its id is already live
     */
    RequestHandle submit(EngineRequest request);

    /** Aborts a live request (no-op if unknown or finished); its blocks are freed at the next step. */
    void abort(String requestId);

    /** The latest snapshot the loop published. */
    EngineStats stats();

    /**
     * What the engine is doing now: stats, KV blocks and every live sequence, taken together. The
     * first call after a quiet spell may return an older view (the loop starts taking them when
     * asked, from its next step on). An engine that keeps no per-sequence view (a test double)
     * reports its stats alone, with no sequences and no block counts.
     */
    default EngineSnapshot snapshot() {
        return new EngineSnapshot(System.nanoTime(), stats(), 0, 0, 0, java.util.List.of());
    }

    /** Stops the loop; live requests finish with ABORT. */
    @Override
    void close();
}
