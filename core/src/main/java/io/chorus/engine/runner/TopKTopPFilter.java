package io.chorus.engine.runner;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Turns one row of processed logits into the unnormalised sampling weights of vLLM's filters:
 * {@code exp((x - max) / T)} for the tokens that survive min_p, top_k and top_p, 0 for the rest.
 *
 * <ul>
 *   <li>min_p: keep {@code p >= minP * pMax}, i.e. {@code x >= max + T ln(minP)} (no softmax needed).
 *   <li>top_k: keep {@code x >= } the k-th largest logit (ties with it are kept, as in vLLM), found by
 *       partial selection with a size-k min-heap: one pass, no sort (a vector compare skips the
 *       lanes below the heap's minimum, nearly all of them once it is full).
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
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
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
        float scale = (float) (invT * BUCKETS_PER_NAT); // bucket = (max - x) * scale, truncated, in float everywhere
        double target = topP * total;
        // Usually the nucleus ends within a few nats of the top: if the tokens with weight >= e^-d
        // already hold the target mass (with a margin for float sums), the histogram may skip the
        // rest. Tokens below the floor come after every token above it in the order, so the buckets
        // before the crossing stay exact and the walk ends before reaching them.
        float floor = 0;
        for (int d = 4; d <= 16; d *= 2) {
            float t = (float) Math.exp(-d);
            if (RowKernels.sumAtLeast(w, vocab, t) >= target * (1 + 1e-4)) {
                floor = t;
                break;
            }
        }
        double kept = nucleus(logits, offset, vocab, max, scale, target, w, floor);
        return kept >= 0 ? kept : nucleus(logits, offset, vocab, max, scale, target, w, 0);
    }

    private static int bucket(float scaledDistance) {
        return (int) Math.min(BUCKETS - 1, scaledDistance);
    }

    /**
     * Zeroes the weights outside the nucleus of mass {@code target}, counting only weights at least
     * {@code floor} in the histogram; returns the kept sum, or -1 if that left the target out of reach.
     */
    private double nucleus(float[] logits, int offset, int vocab, float max, float scale, double target, float[] w, float floor) {
        Arrays.fill(mass, 0);
        for (int v = 0; v < vocab; v++) {
            float wv = w[v];
            if (wv > 0 && wv >= floor) mass[bucket((max - logits[offset + v]) * scale)] += wv;
        }
        double before = 0;
        int crossing = -1;
        for (int b = 0; b < BUCKETS; b++) {
            if (before + mass[b] >= target) {
                crossing = b;
                break;
            }
            before += mass[b];
        }
        if (crossing < 0) return floor > 0 ? -1 : RowKernels.sum(w, 0, vocab); // out of reach by rounding: keep everything

        int n = collectBucket(logits, offset, vocab, max, scale, crossing, w);
        Arrays.sort(candidates, 0, n); // best first: larger logit, then lower id
        long cutoff = candidates[0];
        double acc = before;
        for (int i = 0; i < n && acc < target; i++) {
            cutoff = candidates[i];
            acc += w[(int) cutoff];
        }
        return keepUpTo(logits, offset, vocab, w, cutoff);
    }

    /** Puts the keys of the kept tokens in bucket {@code b} into {@code candidates}; returns how many. */
    private int collectBucket(float[] logits, int offset, int vocab, float max, float scale, int b, float[] w) {
        // In float, (int) d == b exactly when b <= d < b + 1 (the last bucket: d >= b), so a vector
        // compare finds the bucket's tokens and only those lanes are visited one by one.
        float lo = b, hi = b == BUCKETS - 1 ? Float.POSITIVE_INFINITY : b + 1;
        FloatVector vmax = FloatVector.broadcast(F, max), vscale = FloatVector.broadcast(F, scale);
        FloatVector vlo = FloatVector.broadcast(F, lo), vhi = FloatVector.broadcast(F, hi);
        int n = 0, v = 0;
        for (int bound = F.loopBound(vocab); v < bound; v += F.length()) {
            FloatVector d = vmax.sub(FloatVector.fromArray(F, logits, offset + v)).mul(vscale);
            VectorMask<Float> in = d.compare(VectorOperators.GE, vlo).and(d.compare(VectorOperators.LT, vhi));
            if (!in.anyTrue()) continue;
            for (int l = 0; l < F.length(); l++) if (in.laneIsSet(l)) n = addCandidate(logits, offset, v + l, max, scale, b, w, n);
        }
        for (; v < vocab; v++) n = addCandidate(logits, offset, v, max, scale, b, w, n);
        return n;
    }

    private int addCandidate(float[] logits, int offset, int v, float max, float scale, int b, float[] w, int n) {
        float x = logits[offset + v];
        if (w[v] == 0 || bucket((max - x) * scale) != b) return n;
        if (n == candidates.length) candidates = Arrays.copyOf(candidates, n * 2);
        candidates[n] = key(x, v);
        return n + 1;
    }

    /** Zeroes every weight whose key is above {@code cutoff} (worse than it); returns the kept sum. */
    private static double keepUpTo(float[] logits, int offset, int vocab, float[] w, long cutoff) {
        int c = (int) cutoff;
        float xc = logits[offset + c];
        FloatVector vxc = FloatVector.broadcast(F, xc), zero = FloatVector.zero(F);
        double kept = 0;
        int v = 0;
        for (int bound = F.loopBound(vocab); v < bound; v += F.length()) {
            VectorMask<Float> keep = FloatVector.fromArray(F, logits, offset + v).compare(VectorOperators.GE, vxc);
            FloatVector k = zero.blend(FloatVector.fromArray(F, w, v), keep);
            k.intoArray(w, v);
            kept += k.reduceLanes(VectorOperators.ADD);
        }
        for (; v < vocab; v++) {
            if (logits[offset + v] >= xc) kept += w[v];
            else w[v] = 0;
        }
        // Ties with the cutoff logit after it in id order are worse than it: drop them too.
        for (int t = c + 1; t < vocab; ) {
            int i = RowKernels.firstIndexOf(logits, offset + t, vocab - t, xc);
            if (i < 0) break;
            kept -= w[t + i];
            w[t + i] = 0;
            t += i + 1;
        }
        return kept;
    }

    /** A sort key ascending from the best token: descending logit, then ascending id. */
    static long key(float x, int id) {
        int bits = Float.floatToRawIntBits(x);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // ascending with x as a signed int
        return ((long) ~ordered << 32) | id;
    }

    /**
     * The k-th largest non-NaN logit (-inf if there are fewer than k), by a size-k min-heap. Once the
     * heap is full a vector compare skips the (vast majority of) lanes below its minimum.
     */
    float kthLargest(float[] logits, int offset, int vocab, int k) {
        if (heap.length < k) heap = new float[Math.max(k, heap.length * 2)];
        int size = 0, v = 0;
        for (; v < vocab && size < k; v++) {
            float x = logits[offset + v];
            if (x != x) continue;
            heap[size] = x;
            siftUp(size++);
        }
        if (size < k) return Float.NEGATIVE_INFINITY;
        for (int bound = v + F.loopBound(vocab - v); v < bound; v += F.length()) {
            VectorMask<Float> above = FloatVector.fromArray(F, logits, offset + v).compare(VectorOperators.GT, heap[0]);
            if (!above.anyTrue()) continue;
            for (int l = 0; l < F.length(); l++) if (above.laneIsSet(l)) offer(logits[offset + v + l], k);
        }
        for (; v < vocab; v++) offer(logits[offset + v], k);
        return heap[0];
    }

    private void offer(float x, int k) {
        if (x > heap[0]) { // false for NaN
            heap[0] = x;
            siftDown(k);
        }
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
