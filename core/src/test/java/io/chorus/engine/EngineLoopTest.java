package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.Sampler;
import io.chorus.engine.runner.TemperatureSampler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class EngineLoopTest {
    private static final int VOCAB = 256;
    private static final int BS = 16;

    /** A prompt and its sampling: prompts share prefixes so the prefix cache has something to find. */
    record Job(String id, int[] prompt, SamplingParams sp, long seed) {}

    private static List<Job> workload(int count, long seed, boolean sampled) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] bases = new int[4][48];
        for (int[] b : bases) for (int i = 0; i < b.length; i++) b[i] = r.nextInt(VOCAB);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int len = 1 + r.nextInt(80);
            int[] p = new int[len];
            int[] base = bases[r.nextInt(bases.length)];
            int shared = r.nextInt(Math.min(len, base.length) + 1);
            for (int k = 0; k < len; k++) p[k] = k < shared ? base[k] : r.nextInt(VOCAB);
            int maxTokens = 1 + r.nextInt(40);
            long s = 1000 + i;
            SamplingParams sp = sampled ? SamplingParams.random(0.8, s, maxTokens) : SamplingParams.greedy(maxTokens);
            jobs.add(new Job("r" + i, p, sp, s));
        }
        return jobs;
    }

    private static Harness run(List<Job> jobs, int numBlocks, EngineConfig config) {
        Harness h = new Harness(VOCAB, BS, numBlocks, config);
        for (Job j : jobs) h.submit(new EngineRequest(j.id(), j.prompt(), j.sp()));
        h.runToCompletion();
        return h;
    }

    private static void assertMatchesReference(Harness h, List<Job> jobs) {
        for (Job j : jobs) {
            for (int i = 0; i < j.sp().n(); i++) {
                int[] expected = Harness.reference(j.prompt(), j.sp(), j.seed(), i, VOCAB, h.config.eosTokenIds());
                assertThat(h.tokens(j.id(), i)).as("tokens of %s#%d", j.id(), i).containsExactly(expected);
                RequestOutput last = h.last(j.id(), i);
                assertThat(last.finishReason()).isEqualTo(FinishReason.LENGTH);
                assertThat(last.generationTokens()).isEqualTo(j.sp().maxTokens());
                assertThat(last.promptTokens()).isEqualTo(j.prompt().length);
            }
            assertThat(h.finals(j.id())).hasSize(j.sp().n());
        }
    }

    @Test
    void greedyOutputIsTheSameAloneAndAmong31Others() {
        List<Job> jobs = workload(32, 1, false);
        for (Job j : jobs.subList(0, 4)) {
            Harness alone = run(List.of(j), 64, Harness.config(32, 256, 256, true));
            assertMatchesReference(alone, List.of(j));
        }
        Harness batch = run(jobs, 256, Harness.config(32, 256, 256, true));
        assertMatchesReference(batch, jobs);
        assertThat(batch.model.batchTokens).allMatch(t -> t <= 256);
        EngineStats stats = batch.loop.stats();
        assertThat(stats.finishedLength()).isEqualTo(32);
        assertThat(stats.generationTokens()).isEqualTo(jobs.stream().mapToInt(j -> j.sp().maxTokens()).sum());
        assertThat(stats.promptTokens()).isEqualTo(jobs.stream().mapToInt(j -> j.prompt().length).sum());
        assertThat(stats.kvUsage()).isZero();
        assertThat(stats.running()).isZero();
        assertThat(stats.prefixCacheHits()).isPositive();
        assertThat(batch.model.logitsRows()).as("logits only for sampled rows").isEqualTo(stats.generationTokens());
        assertThat(stats.steps()).isEqualTo(batch.model.batchTokens.size());
        assertThat(stats.lastForwardNanos()).isPositive();
        assertThat(stats.lastScheduleNanos()).isPositive();
        assertThat(stats.lastStepSeqs()).isPositive();
        // Batch-size figures travel in the stats, so nobody needs to poll lastStepSeqs.
        assertThat(stats.totalStepTokens()).isEqualTo(batch.model.batchTokens.stream().mapToLong(Integer::longValue).sum());
        assertThat(stats.totalStepSeqs()).isEqualTo(batch.model.batchSeqs.stream().mapToLong(Integer::longValue).sum());
        assertThat(stats.maxStepSeqs()).isEqualTo(batch.model.batchSeqs.stream().mapToInt(Integer::intValue).max().orElseThrow());
        assertThat(stats.maxStepSeqs()).isGreaterThan(1);
    }

    @ParameterizedTest(name = "prefix caching {0}, chunk {1}")
    @CsvSource({"true,1", "false,1", "true,7", "false,7", "true,16", "false,16", "true,64", "false,64", "false,4096"})
    void greedyOutputDoesNotDependOnPrefixCachingOrChunkSize(boolean prefixCaching, int chunk) {
        List<Job> jobs = workload(chunk == 1 ? 12 : 32, 2, false);
        Harness h = run(jobs, 256, Harness.config(32, chunk, 256, prefixCaching));
        assertMatchesReference(h, jobs);
        assertThat(h.model.batchTokens).allMatch(t -> t <= chunk);
        if (prefixCaching) assertThat(h.loop.stats().prefixCacheHits()).isPositive();
        else assertThat(h.loop.stats().prefixCacheHits()).isZero();
    }

    @ParameterizedTest(name = "prefix caching {0}")
    @CsvSource({"true", "false"})
    void greedyOutputSurvivesPreemptionAndRecompute(boolean prefixCaching) {
        List<Job> jobs = workload(16, 3, false);
        // 9 blocks of 16 tokens: the longest job (80 + 40 tokens) fits alone, a few do not fit together.
        Harness h = run(jobs, 9, Harness.config(16, 64, 256, prefixCaching));
        assertMatchesReference(h, jobs);
        assertThat(h.loop.stats().preemptions()).isPositive();
    }

    @Test
    void seededSamplingIsTheSameAloneAndInABatch() {
        List<Job> jobs = workload(24, 4, true);
        Harness alone = run(List.of(jobs.get(5)), 64, Harness.config(32, 64, 256, true));
        assertMatchesReference(alone, List.of(jobs.get(5)));
        Harness batch = run(jobs, 256, Harness.config(32, 64, 256, true));
        assertMatchesReference(batch, jobs);
        Harness tight = run(jobs, 9, Harness.config(8, 7, 256, false));
        assertMatchesReference(tight, jobs);
        assertThat(tight.loop.stats().preemptions()).isPositive();
    }

    @ParameterizedTest(name = "prompt {0}, blocks {1}")
    @CsvSource({"21,64", "16,64", "17,64", "1,64", "40,12"})
    void parallelSamplingSharesThePromptAndCopiesTheSharedPartialBlock(int promptLen, int numBlocks) {
        SplittableRandom r = new SplittableRandom(promptLen);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int[] p = r.ints(promptLen, 0, VOCAB).toArray();
            jobs.add(new Job("n" + i, p, SamplingParams.random(1.0, 77L + i, 20 + i).withN(4), 77L + i));
        }
        Harness h = run(jobs, numBlocks, Harness.config(16, 64, 256, true));
        assertMatchesReference(h, jobs);
        for (Job j : jobs) {
            List<int[]> outs = new ArrayList<>();
            for (int i = 0; i < 4; i++) outs.add(h.tokens(j.id(), i));
            assertThat(outs.stream().map(java.util.Arrays::toString).distinct().count()).as("children diverge").isGreaterThan(1);
        }
        if (promptLen % BS != 1 && promptLen > 1 && numBlocks == 64) assertThat(h.model.blockCopies()).isPositive();
    }

    @Test
    void abortFreesBlocksAtTheNextStepWhereverTheRequestIs() {
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(4, 32, 256, true));
        int[] p = new SplittableRandom(5).ints(50, 0, VOCAB).toArray();
        h.submit(new EngineRequest("running", p, SamplingParams.greedy(100)));
        h.submit(new EngineRequest("prefilling", p.clone(), SamplingParams.greedy(100)));
        h.submit(new EngineRequest("waiting", p.clone(), SamplingParams.greedy(100)));
        h.submit(new EngineRequest("forking", p.clone(), SamplingParams.greedy(100).withN(3)));
        h.submit(new EngineRequest("kept", new int[] {1, 2, 3}, SamplingParams.greedy(5)));
        for (int i = 0; i < 3; i++) h.loop.step();
        assertThat(h.loop.scheduler().kv().pool().numFreeBlocks()).isLessThan(64);
        for (String id : List.of("running", "prefilling", "waiting", "forking")) h.loop.abort(id);
        h.loop.abort("no-such-request");
        h.runToCompletion();
        for (String id : List.of("running", "prefilling", "waiting")) {
            assertThat(h.last(id, 0).finishReason()).isEqualTo(FinishReason.ABORT);
        }
        assertThat(h.finals("forking")).extracting(RequestOutput::index).containsExactly(0, 1, 2);
        assertThat(h.finals("forking")).allMatch(o -> o.finishReason() == FinishReason.ABORT);
        assertThat(h.tokens("kept", 0)).containsExactly(
                Harness.reference(new int[] {1, 2, 3}, SamplingParams.greedy(5), 0, 0, VOCAB, List.of()));
        assertThat(h.loop.stats().finishedAbort()).isEqualTo(6);
    }

    @Test
    void abortAfterForkEndsEveryChild() {
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(8, 64, 256, true));
        h.submit(new EngineRequest("f", new SplittableRandom(6).ints(20, 0, VOCAB).toArray(),
                SamplingParams.random(1.0, 3L, 50).withN(3)));
        for (int i = 0; i < 4; i++) h.loop.step();
        h.loop.abort("f");
        h.runToCompletion();
        assertThat(h.finals("f")).extracting(RequestOutput::index).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(h.tokens("f", 0)).isNotEmpty();
    }

    @Test
    void abortingOneCompletionEndsOnlyThatChildAndFreesItsBlocks() {
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(8, 64, 256, true));
        int[] p = new SplittableRandom(8).ints(20, 0, VOCAB).toArray();
        SamplingParams sp = SamplingParams.random(1.0, 5L, 30).withN(3).withIgnoreEos(true);
        RequestHandle handle = h.submit(new EngineRequest("one", p, sp));
        for (int i = 0; i < 6; i++) h.loop.step();
        handle.abort(1);
        h.loop.step();
        int usedAfterAbort = h.loop.scheduler().kv().pool().numBlocks() - h.loop.scheduler().kv().pool().numFreeBlocks();
        h.runToCompletion();
        assertThat(h.last("one", 1).finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(h.tokens("one", 1).length).isBetween(1, 29);
        for (int i : new int[] {0, 2}) {
            assertThat(h.last("one", i).finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(h.tokens("one", i)).containsExactly(Harness.reference(p, sp, 5L, i, VOCAB, List.of()));
        }
        assertThat(usedAfterAbort).isPositive();
        assertThat(h.loop.stats().finishedAbort()).isEqualTo(1);
    }

    @Test
    void aForwardErrorFailsItsBatchAndTheLoopGoesOn() {
        // Three sequence slots: a and b (two children) share the batch that fails; c waits.
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(3, 64, 256, true));
        h.model.failOn(call -> call == 2);
        int[] p = new SplittableRandom(7).ints(30, 0, VOCAB).toArray();
        h.submit(new EngineRequest("a", p, SamplingParams.greedy(10)));
        h.submit(new EngineRequest("b", p.clone(), SamplingParams.greedy(10).withN(2)));
        h.submit(new EngineRequest("c", p.clone(), SamplingParams.greedy(10)));
        h.runToCompletion();
        assertThat(h.last("a", 0).finishReason()).isEqualTo(FinishReason.ERROR);
        assertThat(h.last("a", 0).error()).as("clients see a fixed message, the log has the cause").isEqualTo(EngineLoop.ENGINE_ERROR);
        assertThat(h.finals("b")).hasSize(2).allMatch(o -> o.finishReason() == FinishReason.ERROR);
        assertThat(h.tokens("c", 0)).containsExactly(Harness.reference(p, SamplingParams.greedy(10), 0, 0, VOCAB, List.of()));
        assertThat(h.loop.stats().finishedError()).isEqualTo(3);

        h.submit(new EngineRequest("after", p.clone(), SamplingParams.greedy(10)));
        h.runToCompletion();
        assertThat(h.tokens("after", 0)).containsExactly(h.tokens("c", 0));
    }

    /** Samples as usual, but fails the third time it samples for a request seeded {@code poisonSeed}. */
    private static Sampler failingOnThirdToken(long poisonSeed, int badToken) {
        TemperatureSampler real = new TemperatureSampler();
        int[] calls = {0};
        return (logits, offset, vocab, state) -> {
            int t = real.sample(logits, offset, vocab, state);
            if (Long.valueOf(poisonSeed).equals(state.params().seed()) && ++calls[0] == 3) {
                if (badToken == 0) throw new IllegalStateException("injected sampler fault");
                return badToken;
            }
            return t;
        };
    }

    @ParameterizedTest(name = "bad token {0}")
    @CsvSource({"0", "256", "-5"}) // 0: the sampler throws; otherwise it returns an id outside the vocabulary
    void aSamplerFaultFailsOnlyItsRequestAndEveryBlockIsFreed(int badToken) {
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(8, 256, 256, true), failingOnThirdToken(13, badToken));
        int[] p = new SplittableRandom(9).ints(20, 0, VOCAB).toArray();
        SamplingParams poisoned = SamplingParams.random(0.8, 13L, 10);
        h.submit(new EngineRequest("a", p, SamplingParams.greedy(10)));
        h.submit(new EngineRequest("poison", p.clone(), poisoned));
        h.submit(new EngineRequest("b", p.clone(), SamplingParams.greedy(10).withN(2)));
        h.runToCompletion(); // asserts every block free and nothing running or waiting

        assertThat(h.finals("poison")).hasSize(1);
        assertThat(h.last("poison", 0).finishReason()).isEqualTo(FinishReason.ERROR);
        assertThat(h.last("poison", 0).error()).isEqualTo(EngineLoop.ENGINE_ERROR);
        assertThat(h.tokens("poison", 0)).hasSize(2);
        int[] greedy = Harness.reference(p, SamplingParams.greedy(10), 0, 0, VOCAB, List.of());
        assertThat(h.tokens("a", 0)).containsExactly(greedy);
        assertThat(h.tokens("b", 0)).containsExactly(greedy);
        assertThat(h.tokens("b", 1)).containsExactly(greedy);
        assertThat(h.last("a", 0).finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(h.loop.stats().finishedError()).isEqualTo(1);
        assertThat(h.loop.stats().finishedLength()).isEqualTo(3);
    }

    @Test
    void stopsOnEosAndStopTokensButNotBeforeMinTokens() {
        int[] p = {5, 6, 7};
        int[] free = Harness.reference(p, SamplingParams.greedy(10), 0, 0, VOCAB, List.of());
        int eos = free[3];
        EngineConfig cfg = new EngineConfig(8, 64, 256, true, SchedulingPolicy.FCFS, List.of(eos));
        Harness h = new Harness(VOCAB, BS, 64, cfg);
        h.submit(new EngineRequest("eos", p, SamplingParams.greedy(10)));
        h.submit(new EngineRequest("ignore", p, SamplingParams.greedy(10).withIgnoreEos(true)));
        h.submit(new EngineRequest("stop", p, SamplingParams.greedy(10).withIgnoreEos(true).withStopTokenIds(List.of(free[1]))));
        h.submit(new EngineRequest("min", p, SamplingParams.greedy(10).withMinTokens(5)));
        h.runToCompletion();
        assertThat(h.tokens("eos", 0)).containsExactly(free[0], free[1], free[2], eos);
        assertThat(h.last("eos", 0).finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(h.last("eos", 0).stopTokenId()).isNull();
        assertThat(h.tokens("ignore", 0)).hasSize(10);
        assertThat(h.last("stop", 0).stopTokenId()).isEqualTo(free[1]);
        assertThat(h.tokens("stop", 0)).containsExactly(free[0], free[1]);
        int[] min = h.tokens("min", 0);
        assertThat(min).startsWith(free[0], free[1], free[2]);
        assertThat(java.util.Arrays.copyOf(min, 5)).as("no EOS before min_tokens").doesNotContain(eos);
        assertThat(min).containsExactly(Harness.reference(p, SamplingParams.greedy(10).withMinTokens(5), 0, 0, VOCAB, List.of(eos)));
        assertThat(h.loop.stats().finishedStop() + h.loop.stats().finishedLength()).isEqualTo(4);
    }

    @Test
    void aRequestPastItsDeadlineIsAborted() {
        Harness h = new Harness(VOCAB, BS, 64, Harness.config(8, 64, 256, true));
        h.submit(new EngineRequest("late", new int[] {1, 2}, SamplingParams.greedy(5), 0, Instant.now().minusSeconds(1)));
        h.runToCompletion();
        assertThat(h.last("late", 0).finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(h.tokens("late", 0)).isEmpty();
    }

    @Test
    void rejectsRequestsThatCanNeverRun() {
        Harness h = new Harness(VOCAB, BS, 4, Harness.config(2, 64, 100, true));
        assertThatThrownBy(() -> h.submit(new EngineRequest("long", new int[90], SamplingParams.greedy(11))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("maximum context length is 100");
        assertThatThrownBy(() -> h.submit(new EngineRequest("big", new int[60], SamplingParams.greedy(5))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("need 5 KV-cache blocks, but the cache has only 4");
        assertThatThrownBy(() -> h.submit(new EngineRequest("wide", new int[3], SamplingParams.greedy(5).withN(3))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("max-num-seqs");
        assertThatThrownBy(() -> h.submit(new EngineRequest("vocab", new int[] {VOCAB}, SamplingParams.greedy(5))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> new EngineRequest("empty", new int[0], SamplingParams.greedy(5)))
                .isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> SamplingParams.greedy(0)).isInstanceOf(InvalidRequestException.class);
        h.submit(new EngineRequest("dup", new int[] {1}, SamplingParams.greedy(2)));
        assertThatThrownBy(() -> h.submit(new EngineRequest("dup", new int[] {1}, SamplingParams.greedy(2))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("already in use");
        h.runToCompletion();
        h.submit(new EngineRequest("dup", new int[] {1}, SamplingParams.greedy(2)));
        h.runToCompletion();
    }
}
