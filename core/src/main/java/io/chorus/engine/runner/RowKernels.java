package io.chorus.engine.runner;

import io.chorus.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised passes over one row of logits, shared by the sampler, the filters and the logprobs:
 * at vocabulary 152k a scalar {@code Math.exp} per token alone costs about a millisecond, the
 * vector exp (VectorMath: the same bits compiled or not) a small fraction of that. NaN logits are never a maximum, never kept.
 * Stateless.
 */
final class RowKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private RowKernels() {}

    /** The largest non-NaN value of {@code a[off, off + n)}; -inf if there is none. */
    static float max(float[] a, int off, int n) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, off + i);
            m = m.blend(x, x.compare(VectorOperators.GT, m)); // NaN compares false
        }
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) if (a[off + i] > max) max = a[off + i];
        return max;
    }

    /** The lowest index i with {@code a[off + i] == value}, or -1. */
    static int firstIndexOf(float[] a, int off, int n, float value) {
        FloatVector v = FloatVector.broadcast(F, value);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            VectorMask<Float> eq = FloatVector.fromArray(F, a, off + i).compare(VectorOperators.EQ, v);
            if (eq.anyTrue()) return i + eq.firstTrue();
        }
        for (; i < n; i++) if (a[off + i] == value) return i;
        return -1;
    }

    /**
     * Writes {@code w[i] = exp((x[off + i] - max) * scale)} where {@code x >= low}, else 0 (NaN
     * included), for i in [0, n); returns the sum of w. {@code max} must be finite.
     */
    static double expWeights(float[] x, int off, int n, float max, float scale, float low, float[] w) {
        FloatVector vmax = FloatVector.broadcast(F, max), vscale = FloatVector.broadcast(F, scale);
        FloatVector vlow = FloatVector.broadcast(F, low), zero = FloatVector.zero(F);
        double sum = 0;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            VectorMask<Float> keep = v.compare(VectorOperators.GE, vlow);
            FloatVector e = zero.blend(VectorMath.exp(v.sub(vmax).mul(vscale)), keep);
            e.intoArray(w, i);
            sum += VectorMath.sum(e);
        }
        for (; i < n; i++) {
            float v = x[off + i];
            float e = v >= low ? VectorMath.exp((v - max) * scale) : 0f;
            w[i] = e;
            sum += e;
        }
        return sum;
    }

    /** The sum of {@code exp(x - max)} over the non-NaN values of {@code x[off, off + n)}; {@code max} finite. */
    static double expSum(float[] x, int off, int n, float max) {
        FloatVector vmax = FloatVector.broadcast(F, max), vlow = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector zero = FloatVector.zero(F);
        double sum = 0;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            VectorMask<Float> real = v.compare(VectorOperators.GE, vlow);
            sum += VectorMath.sum(zero.blend(VectorMath.exp(v.sub(vmax)), real));
        }
        for (; i < n; i++) {
            float v = x[off + i];
            if (v == v) sum += VectorMath.exp(v - max);
        }
        return sum;
    }

    /** How many values of {@code a[off, off + n)} are {@code >= value} (NaN never). */
    static int countAtLeast(float[] a, int off, int n, float value) {
        FloatVector v = FloatVector.broadcast(F, value);
        int count = 0, i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            count += FloatVector.fromArray(F, a, off + i).compare(VectorOperators.GE, v).trueCount();
        }
        for (; i < n; i++) if (a[off + i] >= value) count++;
        return count;
    }

    /** The sum of {@code w[from, to)} in double. */
    static double sum(float[] w, int from, int to) {
        FloatVector acc = FloatVector.zero(F);
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) acc = acc.add(FloatVector.fromArray(F, w, i));
        double s = VectorMath.sum(acc);
        for (; i < to; i++) s += w[i];
        return s;
    }

    /** The sum, in double, of the values of {@code w[0, n)} that are {@code >= t}. */
    static double sumAtLeast(float[] w, int n, float t) {
        FloatVector vt = FloatVector.broadcast(F, t), zero = FloatVector.zero(F);
        double s = 0;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, w, i);
            s += VectorMath.sum(zero.blend(v, v.compare(VectorOperators.GE, vt)));
        }
        for (; i < n; i++) if (w[i] >= t) s += w[i];
        return s;
    }
}
