package io.chorus.engine.runner;

/** Picks the next token from one row of logits. */
@FunctionalInterface
public interface Sampler {
    /** Samples from {@code logits[offset, offset + vocab)}; may modify that row. */
    int sample(float[] logits, int offset, int vocab, SamplingState state);
}
