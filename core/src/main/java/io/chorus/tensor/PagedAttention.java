package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Paged attention with grouped-query heads. Each token attends to positions 0..its own position of
 * its own sequence, read through that sequence's block table, so a prefill chunk is causal and no
 * token ever reads another sequence's K/V. The K/V of the batch's tokens must already be written.
 *
 * <p>A layer may attend within a sliding window instead: a token then sees only the last
 * {@code window} positions up to its own, and only the blocks that hold them are read. Scores may be
 * soft-capped ({@code cap * tanh(score / cap)}) before the softmax.
 *
 * <p>Work is split over (tile of up to {@link #TILE} tokens, KV head) pairs; one pair computes the
 * scores of all the query heads that share the KV head, for the tile's consecutive tokens of one
 * sequence together, so every K and V row is read (and converted from f16) once per tile and group
 * instead of once per token and head. Every (token, head) still runs the operations it runs alone,
 * in the same order, so the results do not depend on the batch. Scratch buffers are per worker and
 * sized once for the longest context, so a step allocates nothing.
 */
public final class PagedAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final int nHeads;
    private final int nKvHeads;
    private final int headDim;
    private final int group;
    private final float scale;
    private final float softcap;    // 0: scores are not capped
    /** Tokens of one sequence that attend together, sharing each K and V row they read. */
    static final int TILE = 4;

    private final float[][] scores; // [worker][TILE][group * (maxContext + TILE - 1)]
    private final float[][] row;    // [worker][headDim]: one K or V row of an f16 cache as floats, converted once for the group's heads

    public PagedAttention(int nHeads, int nKvHeads, int headDim, float scale, int maxContext, int workers) {
        this(nHeads, nKvHeads, headDim, scale, 0f, maxContext, workers);
    }

    /** @param softcap c of {@code c * tanh(score / c)} applied to the scaled scores, or 0 for none */
    public PagedAttention(int nHeads, int nKvHeads, int headDim, float scale, float softcap, int maxContext, int workers) {
        if (nHeads % nKvHeads != 0) throw new IllegalArgumentException(nHeads + " heads cannot share " + nKvHeads + " KV heads");
        this.nHeads = nHeads;
        this.nKvHeads = nKvHeads;
        this.headDim = headDim;
        this.group = nHeads / nKvHeads;
        this.scale = scale;
        this.softcap = softcap;
        this.scores = new float[workers][TILE * group * (maxContext + TILE - 1)];
        this.row = new float[workers][headDim];
    }

    /**
     * For t < T: out[t][nHeads*headDim] = attention of q's heads of token t over its context.
     * q of token t, head h sits at {@code q[t * qStride + qOff + h * headDim]}.
     * {@code tables[t]} is the block table of token t's sequence; its context is positions[t] + 1.
     */
    public void run(WorkerPool pool, PagedKvCache cache, int layer, int T, int[] positions, int[][] tables,
                    float[] q, int qStride, int qOff, float[] out) {
        run(pool, cache, layer, T, positions, tables, q, qStride, qOff, out, 0);
    }

    /**
     * As {@link #run(WorkerPool, PagedKvCache, int, int, int[], int[][], float[], int, int, float[])},
     * but with {@code window > 0} token t attends only to positions {@code positions[t] - window + 1 ..
     * positions[t]} (those that exist), and reads no block before the first of them.
     */
    public void run(WorkerPool pool, PagedKvCache cache, int layer, int T, int[] positions, int[][] tables,
                    float[] q, int qStride, int qOff, float[] out, int window) {
        int groups = (T + TILE - 1) / TILE;
        // Units run from the last tokens back: in a prefill the later tokens have the longer contexts,
        // so the heaviest ranges are claimed first and the last ones, which a thread may wait on, are short.
        pool.run(groups * nKvHeads, (worker, from, to) -> {
            for (int w = from; w < to; w++) {
                int t0 = (groups - 1 - w / nKvHeads) * TILE, t1 = Math.min(T, t0 + TILE), g = w % nKvHeads;
                // runs of consecutive positions of one sequence share every K and V row they read
                for (int t = t0, n; t < t1; t += n) {
                    n = 1;
                    while (t + n < t1 && tables[t + n] == tables[t] && positions[t + n] == positions[t] + n) n++;
                    attend(cache, layer, t, n, g, positions, tables, q, qStride, qOff, out, scores[worker], row[worker], window);
                }
            }
        });
    }

    /**
     * Tokens t .. t + n - 1 (consecutive positions of one sequence), KV head g. Each token's scores,
     * softmax and output are computed with the same operations in the same order as alone; the tokens
     * only share the reading (and for an f16 cache the conversion) of each K and V row.
     */
    private void attend(PagedKvCache cache, int layer, int t, int n, int g, int[] positions, int[][] tables,
                        float[] q, int qStride, int qOff, float[] out, float[] sc, float[] kv, int window) {
        int endAll = positions[t + n - 1] + 1;
        int firstAll = window > 0 ? Math.max(0, positions[t] + 1 - window) : 0; // first position any of them sees
        int[] table = tables[t];
        int bs = cache.blockSize();
        boolean f16 = cache.dtype() == KvCacheDtype.F16;
        long headBytes = (long) g * headDim * cache.dtype().bytes;
        int span = group * (endAll - firstAll); // scores of one token: [head][its context], within a slot of this size
        if ((long) span * n > sc.length) throw new IllegalStateException("context " + endAll + " exceeds the attention scratch");

        for (int pos = firstAll; pos < endAll; pos++) {
            int block = table[pos / bs];
            MemorySegment mem = cache.chunkOf(block);
            long k = cache.offset(layer, 0, block, pos % bs) + headBytes;
            if (f16) halvesToFloats(mem, k, kv); // once for the tokens' and the group's heads: the conversion costs more than a dot
            for (int i = 0; i < n; i++) {
                int end = positions[t + i] + 1, first = window > 0 ? Math.max(0, end - window) : 0, ctx = end - first;
                if (pos < first || pos >= end) continue;
                int qBase = (t + i) * qStride + qOff + g * group * headDim, s0 = i * span + pos - first;
                for (int h = 0; h < group; h++) {
                    float d = f16 ? dot(q, qBase + h * headDim, kv) : dotF32(q, qBase + h * headDim, mem, k);
                    sc[s0 + h * ctx] = d * scale;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            int end = positions[t + i] + 1, ctx = end - (window > 0 ? Math.max(0, end - window) : 0);
            for (int h = 0; h < group; h++) {
                if (softcap > 0) GemmaKernels.softcap(sc, i * span + h * ctx, ctx, softcap);
                Kernels.softmax(sc, i * span + h * ctx, ctx);
            }
            int oBase = (t + i) * nHeads * headDim + g * group * headDim;
            java.util.Arrays.fill(out, oBase, oBase + group * headDim, 0f);
        }
        for (int pos = firstAll; pos < endAll; pos++) {
            int block = table[pos / bs];
            MemorySegment mem = cache.chunkOf(block);
            long v = cache.offset(layer, 1, block, pos % bs) + headBytes;
            if (f16) halvesToFloats(mem, v, kv);
            for (int i = 0; i < n; i++) {
                int end = positions[t + i] + 1, first = window > 0 ? Math.max(0, end - window) : 0, ctx = end - first;
                if (pos < first || pos >= end) continue;
                int oBase = (t + i) * nHeads * headDim + g * group * headDim, s0 = i * span + pos - first;
                for (int h = 0; h < group; h++) {
                    float p = sc[s0 + h * ctx];
                    if (f16) axpy(p, kv, out, oBase + h * headDim);
                    else axpyF32(p, mem, v, out, oBase + h * headDim);
                }
            }
        }
    }

    private float dotF32(float[] q, int qo, MemorySegment m, long off) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(headDim);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, q, qo + i).fma(FloatVector.fromMemorySegment(F, m, off + 4L * i, LE), acc);
        }
        float s = VectorMath.sum(acc);
        for (; i < headDim; i++) s += q[qo + i] * m.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4L * i);
        return s;
    }

    private void axpyF32(float a, MemorySegment m, long off, float[] y, int yo) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        int bound = F.loopBound(headDim);
        for (; i < bound; i += F.length()) {
            FloatVector.fromMemorySegment(F, m, off + 4L * i, LE).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < headDim; i++) y[yo + i] += a * m.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4L * i);
    }

    /** dst[0..headDim) = the halves at off, as floats (the values loadF16 and halfAt give). */
    private void halvesToFloats(MemorySegment m, long off, float[] dst) {
        int i = 0;
        int bound = F.loopBound(headDim);
        for (; i < bound; i += F.length()) loadF16(m, off + 2L * i).intoArray(dst, i);
        for (; i < headDim; i++) dst[i] = halfAt(m, off + 2L * i);
    }

    /** q . k for a converted row, with the operations of dotF32 (vector FMAs, lane sum, scalar tail). */
    private float dot(float[] q, int qo, float[] k) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(headDim);
        for (; i < bound; i += F.length()) acc = FloatVector.fromArray(F, q, qo + i).fma(FloatVector.fromArray(F, k, i), acc);
        float s = VectorMath.sum(acc);
        for (; i < headDim; i++) s += q[qo + i] * k[i];
        return s;
    }

    private void axpy(float a, float[] x, float[] y, int yo) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        int bound = F.loopBound(headDim);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < headDim; i++) y[yo + i] += a * x[i];
    }

    private static float halfAt(MemorySegment m, long off) {
        return Float.float16ToFloat(m.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, off));
    }

    /**
     * Loads F.length() halves as floats. The Vector API has no half-to-float conversion, so the bits
     * are moved into float position and rescaled by 2^112, which is exact for normal and subnormal
     * halves (infinities and NaNs do not occur in a KV cache).
     */
    static FloatVector loadF16(MemorySegment m, long off) {
        IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, m, off, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector mag = bits.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        FloatVector f = mag.reinterpretAsFloats().mul(0x1p112f);
        return f.reinterpretAsInts().or(bits.and(0x80000000)).reinterpretAsFloats();
    }
}
