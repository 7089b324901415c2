package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The full sampling parameter set and logprobs through the engine, alone and under batching. */
class SamplingEngineTest {
    private static final int VOCAB = 256;
    private static final int BS = 16;

    private static SamplingParams target() {
        return SamplingParams.builder().temperature(0.9).topK(50).topP(0.9).minP(0.02)
                .presencePenalty(0.3).frequencyPenalty(0.2).repetitionPenalty(1.1)
                .logitBias(Map.of(7, 2f, 9, -5f)).seed(1234L).maxTokens(30).logprobs(3).build();
    }

    /** Sixteen requests with random parameters, some seeded, some greedy, some with prompt logprobs. */
    private static List<EngineRequest> others(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<EngineRequest> out = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            SamplingParams.Builder b = SamplingParams.builder()
                    .temperature(r.nextInt(4) == 0 ? 0 : 0.3 + r.nextDouble() * 1.5)
                    .topK(r.nextBoolean() ? -1 : 1 + r.nextInt(100))
                    .topP(r.nextBoolean() ? 1 : 0.5 + r.nextDouble() * 0.5)
                    .minP(r.nextBoolean() ? 0 : r.nextDouble() * 0.2)
                    .presencePenalty(r.nextDouble() * 4 - 2).frequencyPenalty(r.nextDouble() * 4 - 2)
                    .repetitionPenalty(0.5 + r.nextDouble())
                    .seed(r.nextBoolean() ? null : r.nextLong())
                    .maxTokens(1 + r.nextInt(40))
                    .n(r.nextInt(4) == 0 ? 2 : 1)
                    .logprobs(r.nextBoolean() ? null : r.nextInt(6))
                    .promptLogprobs(r.nextInt(3) == 0 ? 2 : null)
                    .ignoreEos(true);
            if (r.nextInt(3) == 0) b.allowedTokenIds(List.of(r.nextInt(VOCAB), r.nextInt(VOCAB), r.nextInt(VOCAB)));
            if (r.nextBoolean()) b.logitBias(Map.of(r.nextInt(VOCAB), (float) (r.nextDouble() * 20 - 10)));
            out.add(new EngineRequest("o" + i, r.ints(1 + r.nextInt(60), 0, VOCAB).toArray(), b.build()));
        }
        return out;
    }

    private static Harness run(EngineConfig config, int numBlocks, List<EngineRequest> requests) {
        Harness h = new Harness(VOCAB, BS, numBlocks, config);
        for (EngineRequest r : requests) h.submit(r);
        h.runToCompletion(); // also checks that every block is free again
        return h;
    }

    private static List<TokenLogprobs> logprobs(Harness h, String id) {
        List<TokenLogprobs> out = new ArrayList<>();
        for (RequestOutput o : h.outputs.get(id)) if (o.logprobs() != null) out.addAll(Arrays.asList(o.logprobs()));
        return out;
    }

    @Test
    void aSeededRequestIsTheSameAloneAndInABatchOfSixteenOthers() {
        int[] prompt = new SplittableRandom(1).ints(37, 0, VOCAB).toArray();
        EngineRequest t = new EngineRequest("t", prompt, target());
        Harness alone = run(Harness.config(32, 64, 256, true), 64, List.of(t));
        int[] tokens = alone.tokens("t", 0);
        assertThat(tokens).hasSize(30);
        assertThat(tokens).doesNotContain(9); // biased by -5 below everything (fake logits are in [0, 8])

        List<EngineRequest> batch = new ArrayList<>(others(2));
        batch.add(7, t);
        for (EngineConfig config : List.of(Harness.config(32, 64, 256, true), Harness.config(8, 7, 256, false))) {
            Harness h = run(config, config.maxNumSeqs() == 8 ? 12 : 256, batch);
            assertThat(h.tokens("t", 0)).containsExactly(tokens);
            List<TokenLogprobs> a = logprobs(alone, "t"), b = logprobs(h, "t");
            assertThat(b).hasSize(30);
            for (int i = 0; i < 30; i++) {
                assertThat(b.get(i).logprob()).isEqualTo(a.get(i).logprob());
                assertThat(b.get(i).topIds()).containsExactly(a.get(i).topIds());
            }
            for (EngineRequest o : batch) {
                SamplingParams sp = o.sampling();
                for (int i = 0; i < sp.n(); i++) {
                    int[] out = h.tokens(o.requestId(), i);
                    assertThat(out).hasSize(sp.maxTokens());
                    if (!sp.allowedTokenIds().isEmpty()) assertThat(sp.allowedTokenIds()).containsAll(Arrays.stream(out).boxed().toList());
                }
            }
        }
    }

    @Test
    void logprobsAreTheLogSoftmaxOfTheModelsRawLogits() {
        int[] prompt = {5, 6, 7, 8, 9};
        // Penalties and bias change what is sampled but not the reported (raw) logprobs.
        SamplingParams sp = SamplingParams.builder().temperature(0.8).seed(3L).maxTokens(12).logprobs(5)
                .repetitionPenalty(1.3).logitBias(Map.of(1, 3f)).build();
        Harness h = run(Harness.config(8, 64, 256, true), 64, List.of(new EngineRequest("lp", prompt, sp)));
        int[] out = h.tokens("lp", 0);
        List<TokenLogprobs> lps = logprobs(h, "lp");
        assertThat(lps).hasSize(out.length);
        int[] seq = Arrays.copyOf(prompt, prompt.length + out.length);
        System.arraycopy(out, 0, seq, prompt.length, out.length);
        float[] logits = new float[VOCAB];
        for (int g = 0; g < out.length; g++) {
            FakeForwardPass.referenceLogits(seq, prompt.length + g, logits, VOCAB);
            double[] expected = logSoftmax(logits);
            TokenLogprobs lp = lps.get(g);
            assertThat(lp.tokenId()).isEqualTo(out[g]);
            assertThat((double) lp.logprob()).isCloseTo(expected[out[g]], within(1e-5));
            assertThat(lp.rank()).isEqualTo(rank(expected, out[g]));
            assertThat(lp.topIds()).hasSize(5);
            for (int k = 0; k < 5; k++) {
                assertThat((double) lp.topLogprobs()[k]).isCloseTo(expected[lp.topIds()[k]], within(1e-5));
                if (k > 0) assertThat(lp.topLogprobs()[k]).isLessThanOrEqualTo(lp.topLogprobs()[k - 1]);
            }
            assertThat(lp.topIds()[0]).isEqualTo(argmax(expected));
        }
        for (RequestOutput o : h.outputs.get("lp")) assertThat(o.promptLogprobs()).isNull();
    }

    @Test
    void promptLogprobsCoverEveryPromptTokenAcrossChunksAndSkipThePrefixCache() {
        int[] prompt = new SplittableRandom(4).ints(45, 0, VOCAB).toArray();
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(8, 7, 256, true));
        // The same prompt first, so its blocks are cached when the echo request arrives.
        h.submit(new EngineRequest("warm", prompt.clone(), SamplingParams.greedy(3)));
        h.runToCompletion();
        long hits = h.loop.stats().prefixCacheHits();
        SamplingParams sp = SamplingParams.builder().temperature(0).maxTokens(4).promptLogprobs(3).logprobs(1).build();
        h.submit(new EngineRequest("echo", prompt.clone(), sp));
        h.submit(new EngineRequest("echo-n", prompt.clone(), sp.toBuilder().temperature(1).seed(8L).n(3).build()));
        h.runToCompletion();
        assertThat(h.loop.stats().prefixCacheHits()).as("no prefix-cache hit for prompt logprobs").isEqualTo(hits);

        for (String id : List.of("echo", "echo-n")) {
            List<RequestOutput> outs = h.outputs.get(id);
            TokenLogprobs[] plp = outs.get(0).promptLogprobs();
            assertThat(plp).hasSize(prompt.length);
            assertThat(plp[0]).isNull();
            float[] logits = new float[VOCAB];
            for (int j = 1; j < prompt.length; j++) {
                FakeForwardPass.referenceLogits(prompt, j, logits, VOCAB);
                double[] expected = logSoftmax(logits);
                assertThat(plp[j].tokenId()).isEqualTo(prompt[j]);
                assertThat((double) plp[j].logprob()).as("prompt token %d", j).isCloseTo(expected[prompt[j]], within(1e-5));
                assertThat(plp[j].rank()).isEqualTo(rank(expected, prompt[j]));
                assertThat(plp[j].topIds()).hasSize(3).startsWith(argmax(expected));
            }
            assertThat(outs.subList(1, outs.size())).allMatch(o -> o.promptLogprobs() == null);
            assertThat(outs).filteredOn(o -> o.newTokenIds().length > 0).allMatch(o -> o.logprobs() != null && o.logprobs().length == 1);
        }
        assertThat(h.tokens("echo", 0)).containsExactly(h.tokens("warm", 0)[0], h.tokens("warm", 0)[1], h.tokens("warm", 0)[2],
                Harness.reference(prompt, SamplingParams.greedy(4), 0, 0, VOCAB, List.of())[3]);
    }

    @Test
    void promptLogprobsAreComputedInBoundedChunks() {
        int[] prompt = new SplittableRandom(5).ints(200, 0, VOCAB).toArray();
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(8, 256, 256, true));
        SamplingParams sp = SamplingParams.builder().temperature(0).maxTokens(2).promptLogprobs(0).build();
        h.submit(new EngineRequest("a", prompt, sp));
        h.submit(new EngineRequest("b", prompt.clone(), sp));
        h.submit(new EngineRequest("plain", prompt.clone(), SamplingParams.greedy(2)));
        h.runToCompletion();
        int cap = io.chorus.engine.sched.Scheduler.PROMPT_LOGPROBS_ROWS_PER_STEP;
        // First step: "a" is capped; "b" cannot start and nothing overtakes it (FCFS).
        assertThat(h.model.batchTokens.get(0)).isEqualTo(cap);
        assertThat(h.model.logitsRows()).as("each prompt row once, plus the sampled rows").isEqualTo(2 * 199 + 3 * 2);
        for (String id : List.of("a", "b")) {
            TokenLogprobs[] plp = h.outputs.get(id).get(0).promptLogprobs();
            assertThat(plp).hasSize(200);
            for (int j = 1; j < 200; j++) assertThat(plp[j].tokenId()).isEqualTo(prompt[j]);
            assertThat(h.tokens(id, 0)).containsExactly(h.tokens("plain", 0));
        }
    }

    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double sum = 0;
        for (float x : logits) sum += Math.exp(x - max);
        double[] out = new double[logits.length];
        for (int v = 0; v < logits.length; v++) out[v] = logits[v] - max - Math.log(sum);
        return out;
    }

    private static int rank(double[] lp, int token) {
        return (int) Arrays.stream(lp).filter(x -> x >= lp[token]).count();
    }

    private static int argmax(double[] x) {
        int best = 0;
        for (int v = 1; v < x.length; v++) if (x[v] > x[best]) best = v;
        return best;
    }
}
