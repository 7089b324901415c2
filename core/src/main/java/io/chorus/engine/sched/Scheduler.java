package io.chorus.engine.sched;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.kv.CacheHit;
import io.chorus.engine.kv.KvCacheManager;
import io.chorus.engine.request.Sequence;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides, each step, how many tokens each sequence computes, under the token budget
 * ({@code maxNumBatchedTokens}) and the sequence budget ({@code maxNumSeqs}).
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>One rule: a scheduled sequence's computed tokens catch up towards its known tokens, by as
 *       many as the budget allows. A new prompt is a long catch-up (split across steps when over the
 *       budget: chunked prefill), a prefix-cache hit starts it further along, a decode is a
 *       catch-up of one, and a preempted sequence starts again from 0.
 *   <li>Order within a step: running decodes, then running prefills, both in admission order, then
 *       waiting sequences in queue order. Nothing waiting is admitted in a step that preempted, nor
 *       past a waiting sequence that does not fit (no overtaking).
 *   <li>Out of blocks: the most recently admitted running sequence (priority policy: the one with
 *       the largest (priority, arrival)) is preempted: its blocks are freed, its computed tokens
 *       reset to 0, and it goes back to the head of the waiting queue. If it had been scheduled
 *       earlier in this step, that work is withdrawn.
 *   <li>{@code running} is in admission order and holds exactly the sequences with blocks;
 *       {@code runningSlots} is the sum of their {@link Sequence#seqSlots()}, at most maxNumSeqs.
 *   <li>Prompt logprobs need a logits row (a vocabulary of floats) per prompt token, so sequences
 *       that want them compute at most {@link #PROMPT_LOGPROBS_ROWS_PER_STEP} tokens per step
 *       between them, which bounds the logits buffer; and they skip the prefix cache, whose
 *       positions would have no logits. Embedding requests skip it too (every position is pooled).
 *   <li>Engine loop thread only, except {@link #checkAdmissible}, a pure function of the
 *       immutable configuration that any thread may call.
 * </ul>
 */
public final class Scheduler {
    /** Most tokens per step, over all sequences computing prompt logprobs (128 rows x 152k vocab = 78 MB of logits). */
    public static final int PROMPT_LOGPROBS_ROWS_PER_STEP = 128;

    private final EngineConfig config;
    private final KvCacheManager kv;
    private final WaitingQueue waiting;
    private final List<Sequence> running = new ArrayList<>();
    private int runningSlots;

    private long prefixCacheQueries;
    private long prefixCacheHits;
    private long preemptions;

    public Scheduler(EngineConfig config, KvCacheManager kv) {
        this.config = config;
        this.kv = kv;
        this.waiting = new WaitingQueue(config.policy());
    }

    /**
     * Rejects a request that could never run: longer than maxModelLen, needing more blocks at once than
     * the whole cache (all its positions', or with a sliding window on every layer those of a window
     * and a step), or more parallel completions than maxNumSeqs.
     */
    public void checkAdmissible(int promptLen, int maxTokens, int n) {
        long total = (long) promptLen + maxTokens;
        if (total > config.maxModelLen()) {
            throw new InvalidRequestException("this model's maximum context length is " + config.maxModelLen()
                    + " tokens, but " + promptLen + " prompt tokens plus max_tokens " + maxTokens + " = " + total);
        }
        long blocks = kv.maxBlocksHeld(total, config.maxNumBatchedTokens());
        if (blocks > kv.pool().numBlocks()) {
            throw new InvalidRequestException(promptLen + " prompt tokens plus max_tokens " + maxTokens
                    + " need " + blocks + " KV-cache blocks, but the cache has only " + kv.pool().numBlocks()
                    + " (" + (long) kv.pool().numBlocks() * kv.blockSize() + " tokens)");
        }
        if (n > config.maxNumSeqs()) {
            throw new InvalidRequestException("n = " + n + " exceeds max-num-seqs " + config.maxNumSeqs());
        }
    }

    /** Queues a new sequence for admission. */
    public void add(Sequence s) {
        s.setStatus(Sequence.Status.WAITING);
        waiting.add(s);
    }

    /** Takes {@code s} out of scheduling (finished or aborted) and frees its blocks. */
    public void remove(Sequence s) {
        if (s.status() == Sequence.Status.RUNNING) {
            running.remove(s);
            runningSlots -= s.seqSlots();
        } else if (s.status() == Sequence.Status.WAITING) {
            waiting.remove(s);
        }
        kv.free(s.blockTable());
        s.setStatus(Sequence.Status.FINISHED);
    }

    /** Replaces running fork parent {@code parent} by its children (which already share its blocks). */
    public void replaceWithChildren(Sequence parent, List<Sequence> children) {
        int at = running.indexOf(parent);
        if (at < 0) throw new IllegalStateException(parent + " is not running");
        running.remove(at);
        running.addAll(at, children);
        runningSlots += children.size() - parent.seqSlots();
        kv.free(parent.blockTable());
        parent.setStatus(Sequence.Status.FINISHED);
    }

    /** Prompt tokens a step takes alongside decodes, at least: a few tokens ride along almost free. */
    static final int MIN_PREFILL_WITH_DECODES = 16;

    /**
     * Prompt tokens this step may take when {@code decoding} sequences decode in it. Alone, a prompt
     * gets the whole token budget. Next to decodes, it gets about as many tokens as they are (at
     * least {@link #MIN_PREFILL_WITH_DECODES}): the step then costs at most about twice a pure decode
     * step, so a prompt arriving delays every running stream's next token by a step's time, not by its
     * whole prefill (chunked prefill spreads it over the following steps).
     */
    static int prefillBudget(int decoding) {
        return decoding == 0 ? Integer.MAX_VALUE : Math.max(decoding, MIN_PREFILL_WITH_DECODES);
    }

    public SchedulerOutput schedule() {
        int budget = config.maxNumBatchedTokens();
        int promptRows = PROMPT_LOGPROBS_ROWS_PER_STEP;
        Map<Sequence, ScheduledSeq> planned = new IdentityHashMap<>();
        List<ScheduledSeq> order = new ArrayList<>();
        List<BlockCopy> copies = new ArrayList<>();
        List<Sequence> preempted = new ArrayList<>();

        List<Sequence> snapshot = List.copyOf(running);
        int prefillBudget = Integer.MAX_VALUE;
        for (int pass = 0; pass < 2; pass++) {
            boolean decodes = pass == 0;
            if (!decodes) prefillBudget = prefillBudget(order.size());
            for (Sequence s : snapshot) {
                if (budget == 0 || prefillBudget == 0) break;
                if (s.status() != Sequence.Status.RUNNING || planned.containsKey(s)) continue;
                int remaining = s.numTokens() - s.numComputed();
                if (remaining <= 0 || (remaining == 1) != decodes) continue;
                int numNew = Math.min(remaining, decodes ? budget : Math.min(budget, prefillBudget));
                if (s.needsPromptLogprobs()) {
                    if (promptRows == 0) continue;
                    numNew = Math.min(numNew, promptRows);
                }
                int start = s.numComputed();
                while (!kv.canAllocate(s.blockTable(), CacheHit.NONE, start, start + numNew)) {
                    Sequence victim = pickVictim();
                    ScheduledSeq withdrawn = planned.remove(victim);
                    if (withdrawn != null) {
                        order.remove(withdrawn);
                        budget += withdrawn.numTokens();
                    }
                    preempt(victim, copies);
                    preempted.add(victim);
                    if (victim == s) break;
                }
                if (s.status() != Sequence.Status.RUNNING) continue;
                kv.allocate(s.blockTable(), CacheHit.NONE, start, start + numNew, copies);
                if (s.needsPromptLogprobs()) promptRows -= numNew;
                ScheduledSeq work = plan(s, start, numNew);
                planned.put(s, work);
                order.add(work);
                budget -= numNew;
                if (!decodes) prefillBudget -= numNew;
            }
        }
        List<ScheduledSeq> decodesAndPrefills = new ArrayList<>(order);

        while (preempted.isEmpty() && budget > 0 && prefillBudget > 0 && !waiting.isEmpty()) {
            Sequence s = waiting.peek();
            if (runningSlots + s.seqSlots() > config.maxNumSeqs()) break;
            // Prompt logprobs need logits for every prompt position, so a cache hit would lose some.
            CacheHit hit = s.skipsPrefixCache() ? CacheHit.NONE : kv.findCachedPrefix(s.tokenArray(), s.numTokens());
            int start = hit.numTokens();
            int numNew = Math.min(s.numTokens() - start, Math.min(budget, prefillBudget));
            if (s.needsPromptLogprobs()) {
                if (promptRows == 0) break;
                numNew = Math.min(numNew, promptRows);
            }
            if (!kv.canAllocate(s.blockTable(), hit, start, start + numNew)) break;
            kv.allocate(s.blockTable(), hit, start, start + numNew, copies);
            waiting.poll();
            if (!s.skipsPrefixCache()) prefixCacheQueries += s.numTokens();
            prefixCacheHits += start;
            if (s.needsPromptLogprobs()) promptRows -= numNew;
            s.setNumComputed(start);
            s.setStatus(Sequence.Status.RUNNING);
            running.add(s);
            runningSlots += s.seqSlots();
            decodesAndPrefills.add(plan(s, start, numNew));
            budget -= numNew;
            prefillBudget -= numNew;
        }
        return new SchedulerOutput(decodesAndPrefills, copies, preempted, config.maxNumBatchedTokens() - budget);
    }

    private ScheduledSeq plan(Sequence s, int start, int numNew) {
        boolean sample = start + numNew == s.numTokens() && !s.isForkParent();
        return new ScheduledSeq(s, start, numNew, s.blockTable().ids(), sample);
    }

    private Sequence pickVictim() {
        if (config.policy() == SchedulingPolicy.FCFS) return running.getLast();
        Sequence victim = running.getFirst();
        for (Sequence s : running) {
            int c = Integer.compare(s.priority(), victim.priority());
            if (c > 0 || (c == 0 && s.arrivalOrder() >= victim.arrivalOrder())) victim = s;
        }
        return victim;
    }

    private void preempt(Sequence victim, List<BlockCopy> copies) {
        int[] ids = victim.blockTable().ids();
        copies.removeIf(c -> contains(ids, c.dst()));
        running.remove(victim);
        runningSlots -= victim.seqSlots();
        kv.free(victim.blockTable());
        victim.setNumComputed(0);
        victim.setStatus(Sequence.Status.WAITING);
        waiting.addPreempted(victim);
        preemptions++;
    }

    private static boolean contains(int[] ids, int b) {
        for (int id : ids) if (id == b) return true;
        return false;
    }

    public List<Sequence> running() { return List.copyOf(running); }

    public List<Sequence> waiting() { return waiting.view(); }

    public int numRunning() { return running.size(); }

    public int numWaiting() { return waiting.size(); }

    public boolean hasWork() { return !running.isEmpty() || !waiting.isEmpty(); }

    public KvCacheManager kv() { return kv; }

    public long prefixCacheQueries() { return prefixCacheQueries; }

    public long prefixCacheHits() { return prefixCacheHits; }

    public long preemptions() { return preemptions; }
}
