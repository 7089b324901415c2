package io.chorus.engine.runner;

import io.chorus.engine.api.TokenLogprobs;
import java.util.List;

/**
 * What one step produced, for each sequence of its plan in order: the sampled token (or -1), its
 * logprobs when asked, the prompt logprobs its prefill chunk computed when asked, and how long the
 * model's forward pass took. Immutable: the engine loop applies it to the requests; the runner never
 * touches request state itself.
 *
 * <p>Only what a request asked for is allocated: without logprobs a step costs this object and the
 * array of sampled ids.
 */
public final class StepResult {
    private final int[] sampled;
    private final TokenLogprobs[] logprobs;            // null when no sequence asked
    private final List<TokenLogprobs>[] promptLogprobs; // null when no sequence asked
    private final int[] promptLogprobsFrom;
    private final long modelNanos;
    private final float[][] embeddings;                 // null when no embedding request finished its prefill

    StepResult(int[] sampled, TokenLogprobs[] logprobs, List<TokenLogprobs>[] promptLogprobs, int[] promptLogprobsFrom, long modelNanos) {
        this(sampled, logprobs, promptLogprobs, promptLogprobsFrom, modelNanos, null);
    }

    StepResult(int[] sampled, TokenLogprobs[] logprobs, List<TokenLogprobs>[] promptLogprobs, int[] promptLogprobsFrom, long modelNanos,
               float[][] embeddings) {
        this.embeddings = embeddings;
        this.sampled = sampled;
        this.logprobs = logprobs;
        this.promptLogprobs = promptLogprobs;
        this.promptLogprobsFrom = promptLogprobsFrom;
        this.modelNanos = modelNanos;
    }

    /** Sequences in the step's plan. */
    public int numSeqs() { return sampled.length; }

    /** The token sampled for sequence {@code i}, or -1 when it did not sample this step. */
    public int sampled(int i) { return sampled[i]; }

    /** Logprobs of the token sampled for sequence {@code i}, or null when none were asked (or it did not sample). */
    public TokenLogprobs logprobs(int i) { return logprobs == null ? null : logprobs[i]; }

    /**
     * Prompt logprobs computed for sequence {@code i} this step, for consecutive prompt positions
     * starting at {@link #promptLogprobsFrom(int)}; empty when none.
     */
    public List<TokenLogprobs> promptLogprobs(int i) {
        return promptLogprobs == null || promptLogprobs[i] == null ? List.of() : promptLogprobs[i];
    }

    /** The prompt position that {@code promptLogprobs(i).get(0)} describes (at least 1). */
    public int promptLogprobsFrom(int i) { return promptLogprobsFrom == null ? 0 : promptLogprobsFrom[i]; }

    /** The finished embedding of sequence {@code i} (its prefill ended this step), or null. */
    public float[] embedding(int i) { return embeddings == null ? null : embeddings[i]; }

    /** Time inside the model's forward pass alone. */
    public long modelNanos() { return modelNanos; }
}
