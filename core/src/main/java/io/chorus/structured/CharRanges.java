package io.chorus.structured;

import java.util.Arrays;

/**
 * A set of Unicode code points as sorted, disjoint, non-adjacent inclusive ranges
 * {@code [lo0, hi0, lo1, hi1, ...]}. Immutable.
 */
final class CharRanges {
    static final int MAX_CODE_POINT = 0x10FFFF;
    static final CharRanges ALL = new CharRanges(new int[] {0, MAX_CODE_POINT});
    static final CharRanges NONE = new CharRanges(new int[0]);

    private final int[] bounds;

    private CharRanges(int[] normalized) {
        this.bounds = normalized;
    }

    /** The set of the given {@code [lo, hi]} pairs, in any order, overlapping or not. */
    static CharRanges of(int... pairs) {
        if (pairs.length % 2 != 0) throw new IllegalArgumentException("ranges come in pairs");
        int n = pairs.length / 2;
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            int lo = pairs[2 * i], hi = pairs[2 * i + 1];
            if (lo > hi) throw new IllegalArgumentException("range " + lo + " > " + hi);
            packed[i] = ((long) lo << 32) | hi;
        }
        Arrays.sort(packed);
        int[] out = new int[2 * n];
        int k = 0;
        for (long p : packed) {
            int lo = (int) (p >>> 32), hi = (int) p;
            if (k > 0 && lo <= out[k - 1] + 1) {
                out[k - 1] = Math.max(out[k - 1], hi);
            } else {
                out[k++] = lo;
                out[k++] = hi;
            }
        }
        return new CharRanges(Arrays.copyOf(out, k));
    }

    static CharRanges single(int c) {
        return new CharRanges(new int[] {c, c});
    }

    CharRanges union(CharRanges o) {
        int[] all = Arrays.copyOf(bounds, bounds.length + o.bounds.length);
        System.arraycopy(o.bounds, 0, all, bounds.length, o.bounds.length);
        return of(all);
    }

    CharRanges complement() {
        int[] out = new int[bounds.length + 2];
        int k = 0, next = 0;
        for (int i = 0; i < bounds.length; i += 2) {
            if (bounds[i] > next) {
                out[k++] = next;
                out[k++] = bounds[i] - 1;
            }
            next = bounds[i + 1] + 1;
        }
        if (next <= MAX_CODE_POINT) {
            out[k++] = next;
            out[k++] = MAX_CODE_POINT;
        }
        return new CharRanges(Arrays.copyOf(out, k));
    }

    CharRanges minus(CharRanges o) {
        return complement().union(o).complement();
    }

    boolean contains(int c) {
        int i = Arrays.binarySearch(bounds, c);
        if (i >= 0) return true;
        int ins = -i - 1; // c lies between bounds[ins - 1] and bounds[ins]: inside a range when ins is odd
        return (ins & 1) == 1;
    }

    /** Whether any code point in {@code [lo, hi]} is in the set. */
    boolean intersects(int lo, int hi) {
        for (int i = 0; i < bounds.length; i += 2) {
            if (bounds[i] > hi) return false;
            if (bounds[i + 1] >= lo) return true;
        }
        return false;
    }

    boolean isEmpty() { return bounds.length == 0; }

    int rangeCount() { return bounds.length / 2; }

    int lo(int i) { return bounds[2 * i]; }

    int hi(int i) { return bounds[2 * i + 1]; }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharRanges c && Arrays.equals(bounds, c.bounds);
    }

    @Override
    public int hashCode() { return Arrays.hashCode(bounds); }

    @Override
    public String toString() { return Gbnf.charClass(this); }
}
