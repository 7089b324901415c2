package io.chorus.engine.kv;

/** The chained hash of a full block: a function of its parent's hash and its own token ids. */
@FunctionalInterface
public interface BlockHasher {
    /** Parent hash of the first block of every sequence. */
    long ROOT = 0x9E3779B97F4A7C15L;

    long hash(long parentHash, int[] tokens, int from, int count);

    /** 64-bit mix of every token into the parent hash (splitmix64 finaliser per step). */
    BlockHasher DEFAULT = (parent, tokens, from, count) -> {
        long h = mix(parent ^ count);
        for (int i = from; i < from + count; i++) h = mix(h + 0x9E3779B97F4A7C15L + (tokens[i] & 0xFFFFFFFFL));
        return h;
    };

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
