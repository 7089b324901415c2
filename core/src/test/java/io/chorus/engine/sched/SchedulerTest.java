package io.chorus.engine.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.kv.BlockPool;
import io.chorus.engine.kv.KvCacheManager;
import io.chorus.engine.request.OutputQueue;
import io.chorus.engine.request.RequestState;
import io.chorus.engine.request.Sequence;
import io.chorus.engine.runner.SamplingState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Exact per-step plans. Each plan entry reads "id:start+count", with "*" when it samples. */
class SchedulerTest {
    private static final int BS = 4;
    private Scheduler scheduler;
    private KvCacheManager kv;
    private long arrivals;

    private void setUp(int numBlocks, int maxNumSeqs, int maxBatched, SchedulingPolicy policy, boolean prefixCaching) {
        kv = new KvCacheManager(new BlockPool(numBlocks), BS, prefixCaching);
        scheduler = new Scheduler(new EngineConfig(maxNumSeqs, maxBatched, 1000, prefixCaching, policy, List.of()), kv);
    }

    private Sequence submit(String id, int promptLen, int priority, int n) {
        int[] prompt = new int[promptLen];
        for (int i = 0; i < promptLen; i++) prompt[i] = id.hashCode() * 31 + i;
        return submit(id, prompt, priority, n);
    }

    private Sequence submit(String id, int[] prompt, int priority, int n) {
        SamplingParams sp = SamplingParams.greedy(100).withN(n);
        EngineRequest req = new EngineRequest(id, prompt, sp, priority, null);
        RequestState r = new RequestState(req, arrivals++, 0, new OutputQueue(id, n, (x, i) -> {}));
        Sequence s = new Sequence(r, 0, SamplingState.seeded(sp, 0, 0), n);
        scheduler.add(s);
        return s;
    }

    /** Schedules one step, applies it as the engine loop would (sampling token 7), and describes the plan. */
    private List<String> step() {
        SchedulerOutput out = scheduler.schedule();
        List<String> plan = new ArrayList<>();
        for (ScheduledSeq w : out.seqs()) {
            plan.add(w.seq() + ":" + w.startPos() + "+" + w.numTokens() + (w.sample() ? "*" : ""));
            w.seq().setNumComputed(w.endPos());
            kv.cacheComputedBlocks(w.seq().blockTable(), w.seq().tokenArray(), w.seq().numComputed());
            if (w.sample()) w.seq().appendToken(7);
        }
        int total = out.seqs().stream().mapToInt(ScheduledSeq::numTokens).sum();
        assertThat(out.numTokens()).isEqualTo(total);
        lastCopies = out.copies();
        lastPreempted = out.preempted().stream().map(Object::toString).toList();
        return plan;
    }

    private List<BlockCopy> lastCopies;
    private List<String> lastPreempted;

    @Test
    void chunkedPrefillSplitsALongPromptAcrossSteps() {
        setUp(64, 8, 8, SchedulingPolicy.FCFS, false);
        submit("a", 20, 0, 1);
        assertThat(step()).containsExactly("a:0+8");
        assertThat(step()).containsExactly("a:8+8");
        assertThat(step()).containsExactly("a:16+4*");
        assertThat(step()).containsExactly("a:20+1*");
    }

    @Test
    void decodesGoFirstAndAPrefillChunkTakesWhatIsLeft() {
        setUp(64, 8, 10, SchedulingPolicy.FCFS, false);
        submit("a", 3, 0, 1);
        submit("b", 30, 0, 1);
        assertThat(step()).containsExactly("a:0+3*", "b:0+7");
        submit("c", 2, 0, 1);
        assertThat(step()).containsExactly("a:3+1*", "b:7+9");
        assertThat(step()).containsExactly("a:4+1*", "b:16+9");
        assertThat(step()).containsExactly("a:5+1*", "b:25+5*", "c:0+2*");
        assertThat(step()).containsExactly("a:6+1*", "b:30+1*", "c:2+1*");
    }

    @Test
    void nextToDecodesAPromptTakesAboutAsManyTokensAsTheyAreSoTheStepStaysShort() {
        setUp(256, 32, 512, SchedulingPolicy.FCFS, false);
        List<Sequence> decoders = new ArrayList<>();
        for (int i = 0; i < 20; i++) decoders.add(submit("d" + i, 2, 0, 1));
        assertThat(step()).hasSize(20); // 20 short prompts: all of the budget, no decodes yet
        submit("p", 100, 0, 1);
        // 20 decodes: the prompt gets 20 tokens a step, not the 492 left in the budget.
        List<String> plan = step();
        assertThat(plan).hasSize(21).endsWith("p:0+20");
        assertThat(step()).endsWith("p:20+20");
        for (Sequence d : decoders.subList(4, 20)) scheduler.remove(d);
        // 4 decodes: still at least 16 prompt tokens.
        assertThat(step()).containsExactly("d0:4+1*", "d1:4+1*", "d2:4+1*", "d3:4+1*", "p:40+16");
        for (Sequence d : decoders.subList(0, 4)) scheduler.remove(d);
        // Alone, the prompt takes the whole budget again.
        assertThat(step()).containsExactly("p:56+44*");
        assertThat(Scheduler.prefillBudget(0)).isEqualTo(Integer.MAX_VALUE);
        assertThat(Scheduler.prefillBudget(3)).isEqualTo(16);
        assertThat(Scheduler.prefillBudget(40)).isEqualTo(40);
    }

    @Test
    void aLongPromptNeverTakesTheBudgetOfRunningDecodes() {
        setUp(64, 8, 10, SchedulingPolicy.FCFS, false);
        Sequence b = submit("b", 3, 0, 1);
        submit("a", 3, 0, 1);
        assertThat(step()).containsExactly("b:0+3*", "a:0+3*");
        // A 20-token prompt arrives while a decodes: a keeps its one token every step.
        scheduler.remove(b);
        Sequence b2 = submit("b2", 20, 0, 1);
        assertThat(step()).containsExactly("a:3+1*", "b2:0+9");
        assertThat(b2.numComputed()).isEqualTo(9);
        assertThat(step()).containsExactly("a:4+1*", "b2:9+9");
    }

    @Test
    void honoursTheSequenceAndTokenBudgets() {
        setUp(64, 2, 5, SchedulingPolicy.FCFS, false);
        Sequence a = submit("a", 3, 0, 1);
        submit("b", 3, 0, 1);
        submit("c", 1, 0, 1);
        assertThat(step()).containsExactly("a:0+3*", "b:0+2");
        assertThat(step()).containsExactly("a:3+1*", "b:2+1*");
        scheduler.remove(a);
        assertThat(step()).containsExactly("b:3+1*", "c:0+1*");
        assertThat(scheduler.numRunning()).isEqualTo(2);
    }

    @Test
    void priorityPolicyAdmitsLowestPriorityValueFirstThenEarliestArrival() {
        setUp(64, 1, 100, SchedulingPolicy.PRIORITY, false);
        submit("low", 2, 5, 1);
        submit("high", 2, 0, 1);
        submit("mid", 2, 1, 1);
        submit("high2", 2, 0, 1);
        List<String> admitted = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            List<String> plan = step();
            admitted.add(plan.getFirst());
            scheduler.remove(scheduler.running().getFirst());
        }
        assertThat(admitted).containsExactly("high:0+2*", "high2:0+2*", "mid:0+2*", "low:0+2*");
    }

    @Test
    void fcfsAdmitsInArrivalOrder() {
        setUp(64, 1, 100, SchedulingPolicy.FCFS, false);
        submit("low", 2, 5, 1);
        submit("high", 2, 0, 1);
        assertThat(step()).containsExactly("low:0+2*");
    }

    @Test
    void preemptsTheMostRecentlyAdmittedAndRequeuesItAtTheHead() {
        setUp(6, 8, 100, SchedulingPolicy.FCFS, false);
        Sequence a = submit("a", 8, 0, 1);
        Sequence b = submit("b", 8, 0, 1);
        Sequence c = submit("c", 8, 0, 1);
        assertThat(step()).containsExactly("a:0+8*", "b:0+8*", "c:0+8*");
        assertThat(kv.pool().numFreeBlocks()).isZero();
        submit("d", 2, 0, 1);

        assertThat(step()).containsExactly("a:8+1*", "b:8+1*");
        assertThat(lastPreempted).containsExactly("c");
        assertThat(a.blockTable().ids()).containsExactly(0, 1, 4);
        assertThat(b.blockTable().ids()).containsExactly(2, 3, 5);
        assertThat(c.numComputed()).isZero();
        assertThat(c.numTokens()).isEqualTo(9);
        assertThat(c.blockTable().ids()).isEmpty();
        assertThat(scheduler.waiting()).extracting(Object::toString).containsExactly("c", "d");
        assertThat(scheduler.preemptions()).isEqualTo(1);

        // No room for c (3 blocks), and d may not overtake it.
        assertThat(step()).containsExactly("a:9+1*", "b:9+1*");
        scheduler.remove(a);
        assertThat(step()).containsExactly("b:10+1*", "c:0+9*");
        assertThat(c.blockTable().ids()).containsExactly(0, 1, 4); // a freed tail first onto the head: original order
    }

    @Test
    void aStepThatPreemptedAdmitsNothingEvenWhenTheVictimWouldFitAgain() {
        // A small token budget: after preempting b, a chunk of b's recomputation (3 tokens, one block)
        // would fit in the block b just freed. Admitting it in the same step would only thrash.
        setUp(3, 8, 4, SchedulingPolicy.FCFS, false);
        Sequence a = submit("a", 4, 0, 1);
        Sequence b = submit("b", 4, 0, 1);
        assertThat(step()).containsExactly("a:0+4*");
        assertThat(step()).containsExactly("a:4+1*", "b:0+3");
        assertThat(step()).containsExactly("a:5+1*", "b:3+1*");
        assertThat(kv.pool().numFreeBlocks()).isZero();

        assertThat(step()).containsExactly("a:6+1*"); // b needs a second block: b is the victim
        assertThat(lastPreempted).containsExactly("b");
        assertThat(b.status()).isEqualTo(Sequence.Status.WAITING);
        assertThat(b.numComputed()).isZero();
        assertThat(b.blockTable().ids()).isEmpty();
        assertThat(kv.pool().numFreeBlocks()).isEqualTo(1);
        assertThat(scheduler.waiting()).extracting(Object::toString).containsExactly("b");
        assertThat(a.blockTable().ids()).hasSize(2);

        assertThat(step()).containsExactly("a:7+1*", "b:0+3"); // the next step takes it back
    }

    @Test
    void preemptsTheRequestThatMustMakeRoomItself() {
        setUp(4, 8, 100, SchedulingPolicy.FCFS, false);
        Sequence a = submit("a", 8, 0, 1);
        Sequence b = submit("b", 8, 0, 1);
        assertThat(step()).containsExactly("a:0+8*", "b:0+8*");
        assertThat(step()).containsExactly("a:8+1*");
        assertThat(lastPreempted).containsExactly("b");
        assertThat(b.status()).isEqualTo(Sequence.Status.WAITING);
        assertThat(a.blockTable().ids()).containsExactly(0, 1, 2);
    }

    @Test
    void priorityPolicyPreemptsTheLeastImportantEvenIfAlreadyScheduled() {
        setUp(4, 8, 100, SchedulingPolicy.PRIORITY, false);
        Sequence low = submit("low", 3, 5, 1);
        Sequence high = submit("high", 12, 0, 1);
        assertThat(step()).containsExactly("high:0+12*", "low:0+3*");
        // low decodes in place (position 3 in block 0); high needs a fourth block: low's work is withdrawn.
        assertThat(step()).containsExactly("high:12+1*");
        assertThat(lastPreempted).containsExactly("low");
        assertThat(low.numComputed()).isZero();
        assertThat(low.numTokens()).isEqualTo(4);
        assertThat(high.blockTable().numBlocks()).isEqualTo(4);
    }

    @Test
    void admissionStartsAfterTheCachedPrefix() {
        setUp(64, 8, 100, SchedulingPolicy.FCFS, true);
        int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        Sequence a = submit("a", prompt, 0, 1);
        assertThat(step()).containsExactly("a:0+12*");
        submit("b", prompt, 0, 1);
        int[] shorter = {1, 2, 3, 4, 5, 6, 7};
        submit("c", shorter, 0, 1);
        assertThat(step()).containsExactly("a:12+1*", "b:8+4*", "c:4+3*");
        assertThat(scheduler.prefixCacheQueries()).isEqualTo(12 + 12 + 7);
        assertThat(scheduler.prefixCacheHits()).isEqualTo(8 + 4);
        assertThat(a.blockTable().ids()[0]).isEqualTo(0);
    }

    @Test
    void planCarriesTheCopyForASharedPartialBlock() {
        setUp(8, 8, 100, SchedulingPolicy.FCFS, false);
        Sequence parent = submit("p", 6, 0, 2);
        assertThat(step()).containsExactly("p#0:0+5");
        List<Sequence> children = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Sequence child = new Sequence(parent, i, parent.sampling());
            kv.fork(parent.blockTable(), child.blockTable());
            children.add(child);
        }
        scheduler.replaceWithChildren(parent, children);
        assertThat(step()).containsExactly("p#0:5+1*", "p#1:5+1*");
        assertThat(lastCopies).containsExactly(new BlockCopy(1, 2));
        assertThat(children.get(0).blockTable().ids()).containsExactly(0, 2);
        assertThat(children.get(1).blockTable().ids()).containsExactly(0, 1);
    }

    @Test
    void rejectsWhatCanNeverRun() {
        setUp(4, 2, 100, SchedulingPolicy.FCFS, false);
        assertThatThrownBy(() -> scheduler.checkAdmissible(990, 11, 1))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("this model's maximum context length is 1000 tokens, but 990 prompt tokens plus max_tokens 11 = 1001");
        assertThatThrownBy(() -> scheduler.checkAdmissible(10, 7, 1))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("10 prompt tokens plus max_tokens 7 need 5 KV-cache blocks, but the cache has only 4 (16 tokens)");
        assertThatThrownBy(() -> scheduler.checkAdmissible(1, 1, 3)).hasMessage("n = 3 exceeds max-num-seqs 2");
        scheduler.checkAdmissible(10, 6, 2);
    }
}
