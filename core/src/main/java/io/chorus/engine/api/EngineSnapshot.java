package io.chorus.engine.api;

import java.util.List;

/**
 * What the engine is doing, for a live view: the stats of one step together with the KV cache's
 * block counts and every live sequence's phase and progress, all taken at the same moment. The
 * engine loop builds one after a step only while someone reads them (and once when it goes idle),
 * so an unwatched engine pays nothing for it.
 *
 * @param takenNanos     {@link System#nanoTime()} when the loop took it
 * @param stats          the engine's stats published in the same step
 * @param kvBlocksTotal  blocks in the KV cache
 * @param kvBlocksUsed   blocks held by live sequences
 * @param kvBlocksCached blocks registered in the prefix cache (held or free but still reusable)
 * @param sequences      running sequences in admission order, then waiting ones in queue order
 *                       (at most {@link #MAX_LISTED}; {@code stats} has the full counts)
 */
public record EngineSnapshot(long takenNanos, EngineStats stats, int kvBlocksTotal, int kvBlocksUsed, int kvBlocksCached,
                             List<SequenceStatus> sequences) {

    /** Most sequences listed in one snapshot: a view of the work, not an export of the queue. */
    public static final int MAX_LISTED = 256;

    public EngineSnapshot {
        sequences = List.copyOf(sequences);
    }

    /** Where a sequence is: waiting for admission, computing its prompt (or recomputing after preemption), or decoding. */
    public enum Phase { WAITING, PREFILL, DECODE }

    /**
     * One live sequence.
     *
     * @param requestId       the engine request it belongs to
     * @param index           which of the request's n completions
     * @param phase           where it is
     * @param promptTokens    tokens in its prompt
     * @param computedTokens  tokens whose K/V is in the cache (prompt and generated)
     * @param generatedTokens tokens generated so far
     * @param arrivalNanos    {@link System#nanoTime()} when its request reached the engine
     */
    public record SequenceStatus(String requestId, int index, Phase phase, int promptTokens, int computedTokens,
                                 int generatedTokens, long arrivalNanos) {}
}
