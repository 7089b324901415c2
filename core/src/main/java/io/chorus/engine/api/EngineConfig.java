package io.chorus.engine.api;

import java.util.List;

/**
 * The engine's knobs (block size and block count come from the model's KV cache).
 *
 * @param maxNumSeqs           most sequences running at once ({@code --max-num-seqs})
 * @param maxNumBatchedTokens  most tokens in one step ({@code --max-num-batched-tokens})
 * @param maxModelLen          most tokens (prompt + generated) of one sequence ({@code --max-model-len})
 * @param enablePrefixCaching  reuse cached full blocks of earlier prompts
 * @param policy               admission order
 * @param eosTokenIds          the model's end-of-sequence tokens
 */
public record EngineConfig(
        int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen, boolean enablePrefixCaching,
        SchedulingPolicy policy, List<Integer> eosTokenIds) {

    public EngineConfig {
        if (maxNumSeqs < 1) throw new IllegalArgumentException("max-num-seqs must be >= 1");
        if (maxNumBatchedTokens < 1) throw new IllegalArgumentException("max-num-batched-tokens must be >= 1");
        if (maxModelLen < 1) throw new IllegalArgumentException("max-model-len must be >= 1");
        if (policy == null) throw new IllegalArgumentException("scheduling policy is required");
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }
}
