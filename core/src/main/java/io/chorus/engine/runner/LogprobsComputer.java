package io.chorus.engine.runner;

import io.chorus.engine.api.TokenLogprobs;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Log-probabilities for the API's {@code logprobs} and prompt logprobs: the log-softmax of the model's
 * raw logits (vLLM's default "raw_logprobs" mode), that is before penalties, bias, masks, temperature
 * and the top-k/top-p/min-p filters, so a value describes the model, not the sampling settings. NaN
 * logits count as -inf. The rank is vLLM's: how many tokens have a logprob at least the chosen one's
 * (1 for the best). Alternatives are best first, ties by lower id.
 *
 * <p>Implementation notes: the top-n selection uses a small scratch heap owned here and reused; only
 * the returned {@link TokenLogprobs} is allocated. One instance per runner; engine loop thread only.
 */
public final class LogprobsComputer {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private long[] heap = new long[io.chorus.engine.api.SamplingParams.MAX_LOGPROBS]; // max-heap of TopKTopPFilter.key: worst kept on top

    /** The logprobs of {@code token} and the {@code topN} best alternatives in {@code logits[offset, offset + vocab)}. */
    public TokenLogprobs compute(float[] logits, int offset, int vocab, int token, int topN) {
        float max = RowKernels.max(logits, offset, vocab);
        double sum = max > Float.NEGATIVE_INFINITY && max < Float.POSITIVE_INFINITY ? RowKernels.expSum(logits, offset, vocab, max) : 0;
        double logZ = max + Math.log(sum); // log-sum-exp
        float chosen = valueOf(logits[offset + token]);
        int rank = RowKernels.countAtLeast(logits, offset, vocab, chosen);

        int n = top(logits, offset, vocab, topN);
        int[] ids = new int[n];
        float[] lps = new float[n];
        for (int i = n - 1; i >= 0; i--) { // pop worst first
            long k = heap[0];
            heap[0] = heap[i];
            siftDown(i);
            ids[i] = (int) k;
            lps[i] = (float) (valueOf(logits[offset + ids[i]]) - logZ);
        }
        return new TokenLogprobs(token, (float) (chosen - logZ), rank, ids, lps);
    }

    private static float valueOf(float x) {
        return x == x ? x : Float.NEGATIVE_INFINITY;
    }

    /**
     * Fills the heap with the keys of the best {@code topN} tokens; returns how many. Once the heap is
     * full, a vector compare skips the lanes below its worst value, which is nearly all of them.
     */
    private int top(float[] logits, int offset, int vocab, int topN) {
        if (topN == 0) return 0;
        if (heap.length < topN) heap = new long[topN];
        int size = 0, v = 0;
        for (; v < vocab && size < topN; v++) {
            heap[size] = TopKTopPFilter.key(valueOf(logits[offset + v]), v);
            siftUp(size++);
        }
        for (int bound = v + F.loopBound(vocab - v); v < bound; v += F.length()) {
            float worst = valueOf(logits[offset + (int) heap[0]]);
            VectorMask<Float> candidates = FloatVector.fromArray(F, logits, offset + v).compare(VectorOperators.GE, worst);
            if (!candidates.anyTrue()) continue;
            for (int l = 0; l < F.length(); l++) if (candidates.laneIsSet(l)) offer(logits, offset, v + l, topN);
        }
        for (; v < vocab; v++) offer(logits, offset, v, topN);
        return size;
    }

    private void offer(float[] logits, int offset, int v, int size) {
        long k = TopKTopPFilter.key(valueOf(logits[offset + v]), v);
        if (k < heap[0]) {
            heap[0] = k;
            siftDown(size);
        }
    }

    // Max-heap on the key (the largest key is the worst token), so the root is the one to evict.
    private void siftUp(int i) {
        long x = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] >= x) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = x;
    }

    private void siftDown(int size) {
        long x = heap[0];
        int i = 0;
        for (int child; (child = 2 * i + 1) < size; i = child) {
            if (child + 1 < size && heap[child + 1] > heap[child]) child++;
            if (heap[child] <= x) break;
            heap[i] = heap[child];
        }
        heap[i] = x;
    }
}
