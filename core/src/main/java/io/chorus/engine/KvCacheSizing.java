package io.chorus.engine;

import io.chorus.engine.kv.KvCacheManager;

/**
 * How many KV cache blocks to allocate and how long a sequence may be, from the memory budget.
 *
 * <p>The budget is {@code --kv-cache-memory} bytes when given, else {@code --memory-utilization} x
 * the memory the backend offers weights and cache ({@code Backend.memoryBytes}: on the CPU the memory
 * this process may use, the machine's or the cgroup limit when lower) minus the weights.
 * Blocks beyond what {@code maxNumSeqs} full-length sequences can use are not reserved: they could
 * never be used. The cache reserves the blocks' address space and commits memory only as blocks are
 * written, so a large budget costs nothing until requests fill it. {@code --max-model-len} defaults
 * to the model's context length and is capped to what the cache can hold. Where every layer attends
 * within a sliding window, a sequence holds only its window's blocks (see
 * {@link KvCacheManager#maxBlocksHeld}), so a long max-model-len needs no more cache than that.
 *
 * @param numBlocks     blocks to allocate
 * @param blockSize     tokens per block
 * @param bytesPerBlock bytes of one block (all layers, K and V)
 * @param maxModelLen   most tokens of one sequence
 * @param sequenceBlocks most blocks one sequence of maxModelLen holds at once
 * @param budgetBytes   the memory budget the blocks were carved from
 * @param notes         what was capped and why (empty when nothing was), for the start-up log
 */
public record KvCacheSizing(int numBlocks, int blockSize, long bytesPerBlock, int maxModelLen, int sequenceBlocks, long budgetBytes,
                            String notes) {

    /** {@link #compute(long, long, int, int, Integer, Long, double, long, int, int, int)} for a model without a sliding window on every layer. */
    public static KvCacheSizing compute(long weightBytes, long bytesPerBlock, int blockSize, int modelContext,
                                        Integer maxModelLen, Long kvCacheMemory, double memoryUtilization,
                                        long memoryBytes, int maxNumSeqs) {
        return compute(weightBytes, bytesPerBlock, blockSize, modelContext, maxModelLen, kvCacheMemory, memoryUtilization,
                memoryBytes, maxNumSeqs, 0, 0);
    }

    /**
     * @param weightBytes          bytes of the model weights
     * @param bytesPerBlock        KV bytes of one block
     * @param blockSize            tokens per block
     * @param modelContext         the model's context length
     * @param maxModelLen          requested max-model-len, or null for the model's context length
     * @param kvCacheMemory        explicit KV budget in bytes, or null
     * @param memoryUtilization    share of memory to use when no explicit budget is given, (0, 1]
     * @param memoryBytes          memory the backend offers weights and KV cache ({@code Backend.memoryBytes()})
     * @param maxNumSeqs           most sequences at once (bounds the useful block count)
     * @param window               the sliding window of every layer ({@code ForwardPass.attentionWindow}), or 0
     * @param maxStepTokens        most tokens of one step ({@code --max-num-batched-tokens}; used with a window)
     * @throws IllegalArgumentException with a message naming the flag to change when nothing fits
     */
    public static KvCacheSizing compute(long weightBytes, long bytesPerBlock, int blockSize, int modelContext,
                                        Integer maxModelLen, Long kvCacheMemory, double memoryUtilization,
                                        long memoryBytes, int maxNumSeqs, int window, int maxStepTokens) {
        if (blockSize < 1) throw new IllegalArgumentException("--block-size must be >= 1, got " + blockSize);
        if (maxModelLen != null && maxModelLen < 1) throw new IllegalArgumentException("--max-model-len must be >= 1, got " + maxModelLen);
        if (maxModelLen != null && maxModelLen > modelContext) {
            throw new IllegalArgumentException("--max-model-len " + maxModelLen + " is longer than the model's context length " + modelContext);
        }
        long budget;
        if (kvCacheMemory != null) {
            if (kvCacheMemory <= 0) throw new IllegalArgumentException("--kv-cache-memory must be > 0, got " + kvCacheMemory);
            budget = kvCacheMemory;
        } else {
            if (!(memoryUtilization > 0 && memoryUtilization <= 1)) {
                throw new IllegalArgumentException("--memory-utilization must be in (0, 1], got " + memoryUtilization);
            }
            budget = (long) (memoryUtilization * memoryBytes) - weightBytes;
            if (budget < bytesPerBlock) {
                throw new IllegalArgumentException(String.format(
                        "no memory left for the KV cache: %.2f x %d MiB of memory minus %d MiB of weights; raise --memory-utilization or set --kv-cache-memory",
                        memoryUtilization, memoryBytes >> 20, weightBytes >> 20));
            }
        }
        long fit = budget / bytesPerBlock;
        if (fit < 1) throw new IllegalArgumentException("--kv-cache-memory " + budget + " is smaller than one block (" + bytesPerBlock + " bytes)");
        int len = maxModelLen != null ? maxModelLen : modelContext;
        StringBuilder notes = new StringBuilder();
        int perSequence = KvCacheManager.blocksHeld(len, blockSize, window, maxStepTokens);
        if (fit < perSequence) {
            int capped = (int) (fit * blockSize);
            notes.append("max-model-len capped from ").append(len).append(" to ").append(capped).append(" tokens (all the cache holds); ");
            len = capped;
            perSequence = KvCacheManager.blocksHeld(len, blockSize, window, maxStepTokens);
        }
        long useful = (long) maxNumSeqs * perSequence;
        if (fit > useful) {
            notes.append("cache limited to ").append(useful).append(" blocks, enough for max-num-seqs ").append(maxNumSeqs)
                    .append(" sequences of max-model-len; ");
            fit = useful;
        }
        if (fit > Integer.MAX_VALUE) fit = Integer.MAX_VALUE;
        return new KvCacheSizing((int) fit, blockSize, bytesPerBlock, len, perSequence, budget, notes.toString().replaceAll("; $", ""));
    }

    /** Tokens the cache holds. */
    public long tokens() { return (long) numBlocks * blockSize; }

    /** Bytes the cache takes. */
    public long bytes() { return (long) numBlocks * bytesPerBlock; }

    /** How many sequences of max-model-len tokens fit in the cache at once. */
    public long fullLengthConcurrency() { return numBlocks / sequenceBlocks; }
}
