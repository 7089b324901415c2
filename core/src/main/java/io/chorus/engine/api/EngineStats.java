package io.chorus.engine.api;

/**
 * An immutable snapshot the engine loop publishes after every step (read without blocking it).
 *
 * @param running               sequences holding KV blocks
 * @param waiting               sequences waiting for admission (new or preempted)
 * @param kvUsage               share of KV blocks in use, in [0, 1]
 * @param prefixCacheQueries    prompt tokens looked up in the prefix cache at admission
 * @param prefixCacheHits       of those, tokens found cached
 * @param promptTokens          prompt tokens of accepted requests
 * @param generationTokens      tokens generated
 * @param finishedStop          sequences finished by EOS or stop token
 * @param finishedLength        sequences finished by a length limit
 * @param finishedAbort         sequences aborted
 * @param finishedError         sequences failed by an engine error
 * @param preemptions           sequences preempted (recomputed later)
 * @param steps                 steps run
 * @param lastStepTokens        tokens in the last step's batch
 * @param lastStepSeqs          sequences in the last step's batch
 * @param lastScheduleNanos     last step: scheduling and applying results (engine overhead)
 * @param lastForwardNanos      last step: building the batch, forward pass and sampling
 * @param totalScheduleNanos    all steps that ran a batch: engine overhead (scheduling, applying results)
 * @param totalForwardNanos     all steps that ran a batch: batch building, forward pass and sampling
 * @param totalModelNanos       of that, the time inside the model's forward pass alone
 * @param maxStepSeqs           most sequences in one step's batch since start
 * @param totalStepSeqs         sequences summed over all steps that ran a batch (mean batch = this / steps)
 * @param totalStepTokens       tokens summed over all steps that ran a batch
 */
public record EngineStats(
        int running, int waiting, double kvUsage,
        long prefixCacheQueries, long prefixCacheHits,
        long promptTokens, long generationTokens,
        long finishedStop, long finishedLength, long finishedAbort, long finishedError,
        long preemptions, long steps,
        int lastStepTokens, int lastStepSeqs, long lastScheduleNanos, long lastForwardNanos,
        long totalScheduleNanos, long totalForwardNanos, long totalModelNanos,
        int maxStepSeqs, long totalStepSeqs, long totalStepTokens) {

    public static final EngineStats EMPTY = new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
