package io.chorus.model;

/**
 * Routes a step's tokens to experts and groups them by expert. For each token: probabilities
 * {@code p = softmax(router logits)} over all experts, the {@code k} experts of largest logit (ties
 * to the lower expert id; the order of the logits is that of the probabilities, and comparing the
 * logits themselves cannot create ties by rounding), weighted by their p, rescaled to sum 1 when
 * the model renormalises. Then a counting sort by expert: expert e's assignments are
 * [{@link #start}(e), {@link #end}(e)) of {@link #tokens} / {@link #weights}, tokens in ascending
 * order, so each expert's weights can be read once for all tokens routed to it.
 *
 * <p>Implementation notes: one instance per model, used by the engine thread only. Buffers grow
 * to the largest step seen and are reused; {@link #route} allocates nothing once they have grown.
 * Between two calls the arrays hold the last step's routing.
 */
final class ExpertRouter {
    private final int experts;
    private final int k;
    private final boolean normalize;
    private final int[] start;                // [experts + 1] offsets into tokens/weights
    private int[] chosen = new int[0];        // [tokens][k] expert ids, in order of decreasing logit
    private float[] chosenWeight = new float[0]; // [tokens][k]
    private int[] tokens = new int[0];        // [tokens * k] grouped by expert
    private float[] weights = new float[0];   // [tokens * k] grouped by expert
    private final float[] prob;               // [experts] one token's softmax
    private int numTokens;

    ExpertRouter(int experts, int k, boolean normalize) {
        if (k <= 0 || k > experts) throw new IllegalArgumentException(k + " of " + experts + " experts");
        this.experts = experts;
        this.k = k;
        this.normalize = normalize;
        this.start = new int[experts + 1];
        this.prob = new float[experts];
    }

    /** Routes tokens [0, T) from their router logits, logits[t * experts + e]. */
    void route(float[] logits, int T) {
        if (chosen.length < T * k) {
            int n = Math.max(T * k, chosen.length * 2);
            chosen = new int[n];
            chosenWeight = new float[n];
            tokens = new int[n];
            weights = new float[n];
        }
        numTokens = T;
        java.util.Arrays.fill(start, 0);
        for (int t = 0; t < T; t++) {
            int o = t * experts;
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) max = Math.max(max, logits[o + e]);
            float sum = 0;
            for (int e = 0; e < experts; e++) {
                prob[e] = (float) Math.exp(logits[o + e] - max);
                sum += prob[e];
            }
            float picked = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < experts; e++) {
                    if (taken(t, j, e)) continue;
                    if (best < 0 || logits[o + e] > logits[o + best]) best = e;
                }
                chosen[t * k + j] = best;
                float p = prob[best] / sum;
                chosenWeight[t * k + j] = p;
                picked += p;
                start[best + 1]++;
            }
            if (normalize) for (int j = 0; j < k; j++) chosenWeight[t * k + j] /= picked;
        }
        // Counts to offsets, shifted by one so that start[e + 1] is expert e's fill cursor: once every
        // assignment is placed it has advanced to e's end, which is where e + 1 starts.
        for (int e = 0; e < experts; e++) start[e + 1] += start[e];
        for (int e = experts; e > 0; e--) start[e] = start[e - 1];
        start[0] = 0;
        for (int t = 0; t < T; t++) {
            for (int j = 0; j < k; j++) {
                int e = chosen[t * k + j];
                int slot = start[e + 1]++;
                tokens[slot] = t;
                weights[slot] = chosenWeight[t * k + j];
            }
        }
    }

    private boolean taken(int t, int j, int e) {
        for (int i = 0; i < j; i++) if (chosen[t * k + i] == e) return true;
        return false;
    }

    int experts() { return experts; }
    int used() { return k; }
    int numTokens() { return numTokens; }

    /** First assignment of expert e in {@link #tokens} / {@link #weights}. */
    int start(int e) { return start[e]; }

    /** One past the last assignment of expert e. */
    int end(int e) { return start[e + 1]; }

    /** Token of each assignment, grouped by expert (read [start(e), end(e))). */
    int[] tokens() { return tokens; }

    /** Routing weight of each assignment, grouped by expert. */
    float[] weights() { return weights; }

    /** The j-th expert token t chose (j = 0 has the largest logit). */
    int chosen(int t, int j) { return chosen[t * k + j]; }

    /** The weight of token t's j-th expert. */
    float weight(int t, int j) { return chosenWeight[t * k + j]; }
}
