package io.chorus.engine.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.SamplingParams;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
    @Test
    void greedyTakesTheLowestIdAmongTiesAndIgnoresNaN() {
        GreedySampler g = new GreedySampler();
        SamplingState s = new SamplingState(SamplingParams.greedy(1), new SplittableRandom(0));
        assertThat(g.sample(new float[] {9, 1, 3, 3, 0}, 1, 4, s)).isEqualTo(1);
        assertThat(g.sample(new float[] {Float.NaN, 2, Float.NaN, 2}, 0, 4, s)).isEqualTo(1);
        assertThat(g.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 0, 2, s)).isZero();
    }

    @Test
    void temperatureZeroIsGreedy() {
        SamplingState s = SamplingState.seeded(SamplingParams.random(0, 1L, 5), 1, 0);
        assertThat(new TemperatureSampler().sample(new float[] {1, 5, 5, 2}, 0, 4, s)).isEqualTo(1);
    }

    @Test
    void aTinyTemperatureIsGreedyAndAHugeOneIsUniform() {
        TemperatureSampler t = new TemperatureSampler();
        SamplingState tiny = SamplingState.seeded(SamplingParams.random(1e-9, 1L, 5), 1, 0);
        for (int i = 0; i < 100; i++) assertThat(t.sample(new float[] {1, 5, 5.0001f, 2}, 0, 4, tiny)).isEqualTo(2);
        SamplingState huge = SamplingState.seeded(SamplingParams.random(1e30, 1L, 5), 1, 0);
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[t.sample(new float[] {1, 50, -50, 2}, 0, 4, huge)]++;
        for (int c : counts) assertThat(c).isBetween(800, 1200);
    }

    @Test
    void seededSamplingIsReproducibleAndFollowsTheSoftmax() {
        float[] logits = {0, (float) Math.log(2), (float) Math.log(4), Float.NEGATIVE_INFINITY, Float.NaN};
        TemperatureSampler t = new TemperatureSampler();
        SamplingParams sp = SamplingParams.random(1.0, 42L, 5);
        SamplingState a = SamplingState.seeded(sp, 42, 0), b = SamplingState.seeded(sp, 42, 0);
        int[] counts = new int[5];
        for (int i = 0; i < 70_000; i++) {
            int x = t.sample(logits, 0, 5, a);
            assertThat(t.sample(logits, 0, 5, b)).isEqualTo(x);
            counts[x]++;
        }
        assertThat(counts[3]).isZero();
        assertThat(counts[4]).isZero();
        assertThat(counts[0]).isBetween(9_000, 11_000);
        assertThat(counts[1]).isBetween(19_000, 21_000);
        assertThat(counts[2]).isBetween(39_000, 41_000);
    }

    @Test
    void completionsOfOneRequestGetDifferentStreams() {
        SamplingParams sp = SamplingParams.random(1.0, 7L, 5);
        assertThat(SamplingState.seeded(sp, 7, 0).random().nextLong())
                .isNotEqualTo(SamplingState.seeded(sp, 7, 1).random().nextLong());
    }
}
