package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;

/**
 * Heap segments over float arrays, reused across kernel calls. {@link MemorySegment#ofArray} builds
 * a segment and a memory session on every call (about 1.3 MB per decoded token of a 24-layer model,
 * as every native matmul wraps its input and output); the arrays it wraps are the model's activation
 * buffers, which live as long as the model, so one segment per array serves every call.
 *
 * <p>Implementation notes: a small direct-mapped table keyed by identity. Entries are immutable and
 * replaced whole, so kernel threads may read and fill it without locks (a lost update only costs a
 * rebuild). Both the array and its segment are held weakly: a buffer the model replaced when it
 * grew is not kept alive here, and a segment collected under a live array is simply rebuilt.
 */
final class HeapSegments {
    private HeapSegments() {}

    private record Entry(WeakReference<float[]> array, WeakReference<MemorySegment> segment) {}

    private static final int SLOTS = 64; // a model uses about a dozen activation buffers
    private static final Entry[] TABLE = new Entry[SLOTS];

    /** A heap segment over {@code a}; the same one on every call while it stays in the table. */
    static MemorySegment of(float[] a) {
        int slot = System.identityHashCode(a) & (SLOTS - 1);
        Entry e = TABLE[slot];
        if (e != null && e.array.get() == a) {
            MemorySegment s = e.segment.get();
            if (s != null) return s;
        }
        MemorySegment s = MemorySegment.ofArray(a);
        TABLE[slot] = new Entry(new WeakReference<>(a), new WeakReference<>(s));
        return s;
    }
}
