package io.chorus.engine.runner;

/**
 * Copies whole KV-cache blocks (every layer's K and V) inside the model's cache: the copy-on-write
 * hook for sequences that share a partly filled block. The model that owns the cache implements it.
 */
@FunctionalInterface
public interface KvBlockCopier {
    /** For i in [0, count): copy block {@code src[i]} over block {@code dst[i]}, in that order. */
    void copyBlocks(int[] src, int[] dst, int count);

    /** For models that cannot copy: a step that needs a copy fails (only n > 1 needs one). */
    KvBlockCopier UNSUPPORTED = (src, dst, count) -> {
        throw new UnsupportedOperationException("this model cannot copy KV blocks (needed for n > 1)");
    };
}
