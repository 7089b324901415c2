package io.chorus.engine.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.SamplingParams;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogitsProcessorTest {
    private static final float NEG = Float.NEGATIVE_INFINITY;

    /** Applies the processor to {@code logits} for a sequence with {@code prompt} followed by {@code generated}. */
    private static float[] process(float[] logits, SamplingParams sp, int[] prompt, int[] generated, int[] eos) {
        SamplingState state = SamplingState.seeded(sp, 0, 0);
        int[] tokens = new int[prompt.length + generated.length];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(generated, 0, tokens, prompt.length, generated.length);
        state.observe(tokens, prompt.length, tokens.length);
        float[] out = logits.clone();
        new LogitsProcessor(eos).apply(out, 0, out.length, state, generated.length);
        return out;
    }

    @Test
    void biasThenRepetitionThenFrequencyAndPresence() {
        float[] logits = {2, -1, 0.5f, -3, 4, 1, 0, -0.5f};
        SamplingParams sp = SamplingParams.builder().repetitionPenalty(1.5).frequencyPenalty(0.5).presencePenalty(0.25)
                .logitBias(Map.of(2, 1f, 7, -2f, 99, 5f)).build(); // 99 is outside the vocabulary: ignored
        float[] out = process(logits, sp, new int[] {0, 3, 3}, new int[] {1, 4, 4, 5}, new int[0]);
        assertThat(out).containsExactly(
                2f / 1.5f,                         // prompt only: repetition penalty divides a positive logit
                -1f * 1.5f - 0.5f * 1 - 0.25f,     // generated once: multiplied (negative), then freq and presence
                0.5f + 1f,                         // unseen, biased
                -3f * 1.5f,                        // prompt twice: still once
                4f / 1.5f - 0.5f * 2 - 0.25f,      // generated twice
                1f / 1.5f - 0.5f * 1 - 0.25f,
                0f,
                -0.5f - 2f);
    }

    @Test
    void frequencyAndPresenceCountOnlyGeneratedTokens() {
        float[] logits = {1, 1, 1, 1};
        SamplingParams sp = SamplingParams.builder().frequencyPenalty(-0.5).presencePenalty(1).build();
        float[] out = process(logits, sp, new int[] {0, 0, 1}, new int[] {1, 2, 2, 2}, new int[0]);
        assertThat(out).containsExactly(1f, 1f + 0.5f - 1f, 1f + 1.5f - 1f, 1f);
    }

    @Test
    void repetitionPenaltyBelowOneRewardsSeenTokens() {
        float[] logits = {2, -2, 2};
        SamplingParams sp = SamplingParams.builder().repetitionPenalty(0.5).build();
        assertThat(process(logits, sp, new int[] {0}, new int[] {1}, new int[0])).containsExactly(4f, -1f, 2f);
    }

    @Test
    void minTokensMasksEosAndStopTokensAndAllowedIdsMaskTheRest() {
        float[] logits = {5, 4, 3, 2, 1, 0};
        SamplingParams sp = SamplingParams.builder().minTokens(2).stopTokenIds(List.of(3)).allowedTokenIds(List.of(5, 1, 3, 1)).build();
        assertThat(process(logits, sp, new int[] {0}, new int[] {2}, new int[] {1})).containsExactly(NEG, NEG, NEG, NEG, NEG, 0f);
        assertThat(process(logits, sp, new int[] {0}, new int[] {2, 2}, new int[] {1})).containsExactly(NEG, 4f, NEG, 2f, NEG, 0f);
        SamplingParams ignoring = sp.withIgnoreEos(true);
        assertThat(process(logits, ignoring, new int[] {0}, new int[] {2}, new int[] {1})).containsExactly(NEG, 4f, NEG, NEG, NEG, 0f);
    }

    @Test
    void countsUpdatedIncrementallyEqualCountsBuiltAtOnce() {
        SplittableRandom r = new SplittableRandom(3);
        int[] tokens = r.ints(500, 0, 200).toArray();
        TokenCounts once = new TokenCounts(), steps = new TokenCounts();
        once.update(tokens, 100, 500, true);
        for (int n = 1; n <= 500; n += r.nextInt(1, 40)) steps.update(tokens, 100, n, true);
        steps.update(tokens, 100, 500, true);
        assertThat(steps.size()).isEqualTo(once.size());
        for (int i = 0; i < once.size(); i++) {
            int id = once.id(i);
            int count = 0;
            boolean prompt = false;
            for (int p = 0; p < 500; p++) if (tokens[p] == id) { if (p < 100) prompt = true; else count++; }
            assertThat(once.outputCount(i)).isEqualTo(count).isEqualTo(steps.outputCount(i));
            assertThat(once.inPrompt(i)).isEqualTo(prompt).isEqualTo(steps.inPrompt(i));
            assertThat(steps.id(i)).isEqualTo(id);
        }
    }

    @Test
    void allowedTokenIdsAreNeverViolated() {
        SplittableRandom r = new SplittableRandom(9);
        List<Integer> allowed = List.of(3, 77, 150, 255);
        TemperatureSampler sampler = new TemperatureSampler();
        LogitsProcessor processor = new LogitsProcessor(new int[] {77});
        for (double t : new double[] {0, 0.5, 1.5, 5}) {
            SamplingParams sp = SamplingParams.builder().temperature(t).topP(0.95).allowedTokenIds(allowed)
                    .logitBias(Map.of(5, 100f)).seed(1L).build();
            SamplingState state = SamplingState.seeded(sp, 1, 0);
            for (int i = 0; i < 2_000; i++) {
                float[] logits = new float[256];
                for (int v = 0; v < 256; v++) logits[v] = (float) (r.nextGaussian() * 4);
                processor.apply(logits, 0, 256, state, 1);
                assertThat(allowed).contains(sampler.sample(logits, 0, 256, state));
            }
        }
    }
}
