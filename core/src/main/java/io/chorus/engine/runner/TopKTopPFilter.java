package io.chorus.engine.runner;

import java.util.Arrays;

/**
 * Turns one row of processed logits into the unnormalised sampling weights of vLLM's filters:
 * {@code exp((x - max) / T)} for the tokens that survive min_p, top_k and top_p, 0 for the rest.
 *
 * <ul>
 *   <li>min_p: keep {@code p >= minP * pMax}, i.e. {@code x >= max + T ln(minP)} (no softmax needed).
 *   <li>top_k: keep {@code x >= } the k-th largest logit (ties with it are kept, as in vLLM), found by
 *       partial selection with a size-k min-heap: one pass, no sort.
 *   <li>top_p: over what min_p and top_k kept, keep the most likely tokens while the mass before them
 *       is below {@code p} (so at least one). Ties in the logit are ordered by lower token id first.
 *       Instead of sorting the vocabulary, one pass builds a histogram of mass over fine buckets of
 *       {@code (max - x) / T}; only the bucket where the cumulative mass crosses {@code p} is sorted.
 *       Bucketing is monotone in x, so the result is exactly that of a full sort. Worst case (nearly
 *       flat distributions, where most tokens share a bucket) degrades to a sort of that bucket.
 * </ul>
 *
 * <p>Implementation notes: owns its scratch (heap, histogram, candidate keys), reused for every row
 * and grown only when a larger k or bucket is seen, so it allocates nothing per token. One instance
 * per sampler; engine loop thread only.
 */
public final class TopKTopPFilter {
    private static final int BUCKETS = 1024;
    private static final double BUCKETS_PER_NAT = 32; // buckets cover 32 nats below the top token; the last takes the rest

    private float[] heap = new float[64];
    private final double[] mass = new double[BUCKETS];
    private long[] candidates = new long[1024];

    /**
     * Writes the kept weights of {@code logits[offset, offset + vocab)} into {@code w[0, vocab)} and
     * returns their sum (at least 1: the top token, whose weight is 1, is always kept). {@code max} is
     * the row's largest (finite or +inf excluded) logit; {@code temperature > 0}.
     */
    public double weights(float[] logits, int offset, int vocab, float max, double temperature,
                          int topK, double topP, double minP, float[] w) {
        float low = Float.NEGATIVE_INFINITY;
        if (minP > 0) low = (float) (max + temperature * Math.log(minP));
        if (topK > 0 && topK < vocab) low = Math.max(low, kthLargest(logits, offset, vocab, topK));
        double invT = 1.0 / temperature;
        double total = RowKernels.expWeights(logits, offset, vocab, max, (float) invT, low, w);
        if (topP >= 1) return total;
        Arrays.fill(mass, 0);
        for (int v = 0; v < vocab; v++) {
            if (w[v] != 0) mass[bucket((max - logits[offset + v]) * invT)] += w[v];
        }
        return nucleus(logits, offset, vocab, max, invT, topP * total, w);
    }

    private static int bucket(double d) {
        return (int) Math.min(BUCKETS - 1, d * BUCKETS_PER_NAT);
    }

    /** Zeroes the weights outside the nucleus of mass {@code target}; returns the kept sum. */
    private double nucleus(float[] logits, int offset, int vocab, float max, double invT, double target, float[] w) {
        double before = 0;
        int crossing = -1;
        for (int b = 0; b < BUCKETS; b++) {
            if (before + mass[b] >= target) {
                crossing = b;
                break;
            }
            before += mass[b];
        }
        if (crossing < 0) return RowKernels.sum(w, 0, vocab); // rounding left the target out of reach: keep everything

        int n = 0;
        for (int v = 0; v < vocab; v++) {
            float x = logits[offset + v];
            if (w[v] != 0 && bucket((max - x) * invT) == crossing) {
                if (n == candidates.length) candidates = Arrays.copyOf(candidates, n * 2);
                candidates[n++] = key(x, v);
            }
        }
        Arrays.sort(candidates, 0, n); // best first: larger logit, then lower id
        long cutoff = candidates[0];
        double acc = before;
        for (int i = 0; i < n && acc < target; i++) {
            cutoff = candidates[i];
            acc += w[(int) cutoff];
        }
        double kept = 0;
        for (int v = 0; v < vocab; v++) {
            if (w[v] == 0) continue;
            if (key(logits[offset + v], v) > cutoff) w[v] = 0;
            else kept += w[v];
        }
        return kept;
    }

    /** A sort key ascending from the best token: descending logit, then ascending id. */
    static long key(float x, int id) {
        int bits = Float.floatToRawIntBits(x);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // ascending with x as a signed int
        return ((long) ~ordered << 32) | id;
    }

    /** The k-th largest non-NaN logit (-inf if there are fewer than k), by a size-k min-heap. */
    float kthLargest(float[] logits, int offset, int vocab, int k) {
        if (heap.length < k) heap = new float[Math.max(k, heap.length * 2)];
        int size = 0;
        for (int v = 0; v < vocab; v++) {
            float x = logits[offset + v];
            if (x != x) continue;
            if (size < k) {
                heap[size] = x;
                siftUp(size++);
            } else if (x > heap[0]) {
                heap[0] = x;
                siftDown(k);
            }
        }
        return size < k ? Float.NEGATIVE_INFINITY : heap[0];
    }

    private void siftUp(int i) {
        float x = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= x) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = x;
    }

    private void siftDown(int size) {
        float x = heap[0];
        int i = 0;
        for (int child; (child = 2 * i + 1) < size; i = child) {
            if (child + 1 < size && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= x) break;
            heap[i] = heap[child];
        }
        heap[i] = x;
    }
}
