package io.chorus.engine.runner;

import io.chorus.engine.api.SamplingParams;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * One sequence's sampling state: its parameters and its own random generator, so its tokens do not
 * depend on what else is in the batch. Touched only by the engine loop thread.
 */
public final class SamplingState {
    private final SamplingParams params;
    private final RandomGenerator random;

    public SamplingState(SamplingParams params, RandomGenerator random) {
        this.params = params;
        this.random = random;
    }

    /** The state of completion {@code index} of a request seeded with {@code seed}: seed + index. */
    public static SamplingState seeded(SamplingParams params, long seed, int index) {
        return new SamplingState(params, new SplittableRandom(seed + index));
    }

    public SamplingParams params() { return params; }

    public RandomGenerator random() { return random; }
}
