package io.chorus.engine;

import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineSnapshot;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.engine.request.OutputQueue;
import io.chorus.engine.request.RequestState;
import io.chorus.engine.request.Sequence;
import io.chorus.engine.runner.ModelRunner;
import io.chorus.engine.runner.SamplingState;
import io.chorus.engine.runner.StepResult;
import io.chorus.engine.sched.ScheduledSeq;
import io.chorus.engine.sched.Scheduler;
import io.chorus.engine.sched.SchedulerOutput;
import io.chorus.structured.CompiledGrammar;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The engine loop: one thread that owns the scheduler, the KV cache and the model runner, and runs
 * step after step: drain submissions and aborts, schedule, run, apply the results, publish outputs
 * and stats.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>Threads: {@link #submit}, {@link #abort}, {@link #stats}, {@link #snapshot} and {@link #close}
 *       may be called from any thread; they touch only {@code commands} (a thread-safe queue),
 *       {@code liveIds} (a concurrent set used to reject duplicate ids), the immutable config, and the
 *       volatiles {@code stats}, {@code snapshot} and {@code snapshotWanted}. Everything else (scheduler, cache, runner, {@code requests}, counters) is
 *       touched only by the loop thread, or by the test thread that drives {@link #step()} when no
 *       loop thread was started.
 *   <li>Between steps: every request in {@code requests} has at least one live sequence, each of
 *       them waiting or running in the scheduler; a finished sequence holds no block. So when
 *       {@code requests} is empty every block is free.
 *   <li>The runner returns one immutable {@link StepResult} per step (sampled ids, logprobs, prompt
 *       logprobs, model time); the loop applies it. Logprobs travel with the token they describe, and
 *       a request's prompt logprobs go out once, on its first token's output.
 *   <li>Idle: the loop blocks on {@code commands} (woken at once by a submission) and publishes
 *       nothing while nothing changes; {@link #stats} carries the batch-size figures, so nobody
 *       needs to poll it.
 *   <li>Snapshots (every live sequence's phase and progress) are built after a step only while a
 *       reader asked for one within {@link #SNAPSHOT_WATCH_NANOS}, and once per idle period, so an
 *       unwatched loop never builds them and an idle one always shows its true, empty state.
 *   <li>A failing forward pass fails the requests in that step's batch (ERROR output, blocks freed);
 *       the loop goes on. A failure while sampling one sequence fails only that sequence's request. An unexpected failure anywhere else in a step fails every live request.
 * </ul>
 */
public final class EngineLoop implements EngineClient {
    private static final Logger LOG = Logger.getLogger(EngineLoop.class.getName());
    private static final int[] NO_TOKENS = new int[0];

    private sealed interface Command permits Submit, Abort {}
    private record Submit(EngineRequest request, OutputQueue output, long arrivalNanos, CompiledGrammar grammar) implements Command {}
    private record Abort(String requestId, int index) implements Command {} // index -1: every completion

    private final EngineConfig config;
    private final int vocab;
    private final Scheduler scheduler;
    private final ModelRunner runner;
    private final Set<Integer> eos;
    private final LinkedBlockingQueue<Command> commands = new LinkedBlockingQueue<>();
    private final Set<String> liveIds = ConcurrentHashMap.newKeySet();
    private volatile EngineStats stats = EngineStats.EMPTY;
    private volatile EngineSnapshot snapshot;
    private volatile long snapshotWanted; // nanoTime of the latest snapshot() call
    private volatile boolean closed;
    private Thread thread;

    // Loop thread only.
    private final Map<String, RequestState> requests = new HashMap<>();
    private final SplittableRandom seeds = new SplittableRandom();
    private long arrivals;
    private boolean idlePublished;
    private long promptTokens, generationTokens, steps;
    private long finishedStop, finishedLength, finishedAbort, finishedError;

    /** A loop over parts built by {@link Engine}; nothing runs until {@link #startThread} or {@link #step}. */
    EngineLoop(EngineConfig config, Scheduler scheduler, ModelRunner runner) {
        this.config = config;
        this.vocab = runner.model().vocabSize();
        this.scheduler = scheduler;
        this.runner = runner;
        this.eos = Set.copyOf(config.eosTokenIds());
        long now = System.nanoTime();
        this.snapshotWanted = now - 2 * SNAPSHOT_WATCH_NANOS;
        this.snapshot = takeSnapshot(now);
    }

    /** Starts the loop on its own thread. */
    EngineLoop startThread() {
        thread = Thread.ofPlatform().name("chorus-engine").daemon(true).start(this::run);
        return this;
    }

    // ---- client side (any thread) ----

    @Override
    public RequestHandle submit(EngineRequest request) {
        if (closed) throw new IllegalStateException("the engine is closed");
        SamplingParams sp = request.sampling();
        int[] prompt = request.promptTokenIds();
        scheduler.checkAdmissible(prompt.length, sp.maxTokens(), sp.n());
        for (int t : prompt) {
            if (t < 0 || t >= vocab) throw new InvalidRequestException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
        }
        CompiledGrammar grammar = null;
        if (sp.grammar() != null) { // compiled here, on the caller's thread: a bad grammar is the caller's error
            if (runner.structured() == null) {
                throw new InvalidRequestException("this engine cannot constrain output: it was started without the model's vocabulary");
            }
            grammar = runner.structured().compile(sp.grammar());
        }
        if (!liveIds.add(request.requestId())) {
            throw new InvalidRequestException("request id " + request.requestId() + " is already in use");
        }
        OutputQueue out = new OutputQueue(request.requestId(), sp.n(), (id, index) -> commands.add(new Abort(id, index)));
        Submit command = new Submit(request, out, System.nanoTime(), grammar);
        commands.add(command);
        if (closed && commands.remove(command)) { // lost a race with close(): nobody would serve it
            liveIds.remove(request.requestId());
            throw new IllegalStateException("the engine is closed");
        }
        return out;
    }

    @Override
    public void abort(String requestId) {
        commands.add(new Abort(requestId, -1));
    }

    @Override
    public EngineStats stats() { return stats; }

    /** How long after a {@link #snapshot} call the loop keeps building snapshots after each step. */
    static final long SNAPSHOT_WATCH_NANOS = TimeUnit.SECONDS.toNanos(3);

    @Override
    public EngineSnapshot snapshot() {
        snapshotWanted = System.nanoTime();
        return snapshot;
    }

    @Override
    public void close() {
        closed = true;
        Thread t = thread;
        if (t == null) return;
        t.interrupt();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        // The loop thread is gone: this thread now owns the state; serve what raced with the shutdown.
        drainCommands();
        for (RequestState r : List.copyOf(requests.values())) finishRequest(r, FinishReason.ABORT, null);
    }

    // ---- loop side ----

    private void run() {
        while (!closed) {
            try {
                if (!step()) {
                    // Nothing to run: block until a command arrives (no request alive), or re-check
                    // deadlines now and then while requests wait for room in the cache.
                    Command c = requests.isEmpty() ? commands.take() : commands.poll(50, TimeUnit.MILLISECONDS);
                    if (c != null) {
                        handle(c);
                        idlePublished = false;
                    }
                }
            } catch (InterruptedException e) {
                if (!closed) LOG.warning("engine loop interrupted");
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "engine step failed; failing every live request", e);
                failAll(e);
            }
        }
        drainCommands();
        for (RequestState r : List.copyOf(requests.values())) finishRequest(r, FinishReason.ABORT, null);
        publishStats(0, 0, 0, 0, 0);
    }

    /**
     * One step: drain commands, schedule, run, apply. Returns false when there was nothing to run.
     * Called by the loop thread, or directly by a test when no thread was started.
     */
    public boolean step() {
        long t0 = System.nanoTime();
        drainCommands();
        expireDeadlines();
        if (!scheduler.hasWork()) {
            if (!idlePublished) { // once per idle period: an idle loop allocates and publishes nothing
                publishStats(0, 0, 0, 0, 0);
                idlePublished = true;
            }
            return false;
        }
        idlePublished = false;
        SchedulerOutput plan = scheduler.schedule();
        if (plan.isEmpty()) {
            publishStats(0, 0, System.nanoTime() - t0, 0, 0);
            return false;
        }
        long t1 = System.nanoTime();
        StepResult result;
        try {
            result = runner.execute(plan);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "forward pass failed; failing the requests in its batch", e);
            failPlan(plan, e);
            long t2 = System.nanoTime();
            steps++;
            publishStats(plan.numTokens(), plan.seqs().size(), t1 - t0, t2 - t1, 0);
            return true;
        }
        long t2 = System.nanoTime();
        apply(plan, result, t2);
        steps++;
        publishStats(plan.numTokens(), plan.seqs().size(), (t1 - t0) + (System.nanoTime() - t2), t2 - t1, result.modelNanos());
        return true;
    }

    private void drainCommands() {
        for (Command c; (c = commands.poll()) != null; ) {
            handle(c);
            idlePublished = false;
        }
    }

    private void handle(Command c) {
        switch (c) {
            case Submit s -> admit(s);
            case Abort a -> {
                RequestState r = requests.get(a.requestId());
                if (r == null) return;
                if (a.index() < 0) {
                    finishRequest(r, FinishReason.ABORT, null);
                } else {
                    // One completion of n: its children exist once it has produced anything to stop on.
                    for (Sequence s : List.copyOf(r.live())) {
                        if (!s.isForkParent() && s.index() == a.index()) finishSequence(s, FinishReason.ABORT, null);
                    }
                }
            }
        }
    }

    private void admit(Submit s) {
        EngineRequest req = s.request();
        RequestState r = new RequestState(req, arrivals++, s.arrivalNanos(), s.output(), s.grammar());
        SamplingParams sp = req.sampling();
        long seed = sp.seed() != null ? sp.seed() : seeds.nextLong();
        int n = sp.n();
        if (n > 1 && req.promptTokenIds().length > 1) {
            r.live().add(new Sequence(r, 0, SamplingState.seeded(sp, seed, 0, s.grammar()), n));
        } else {
            for (int i = 0; i < n; i++) r.live().add(new Sequence(r, i, SamplingState.seeded(sp, seed, i, s.grammar()), 1));
        }
        requests.put(req.requestId(), r);
        promptTokens += req.promptTokenIds().length;
        for (Sequence seq : r.live()) scheduler.add(seq);
    }

    private void expireDeadlines() {
        Instant now = null;
        List<RequestState> expired = null; // allocated only when something expires: this runs every step
        for (RequestState r : requests.values()) {
            Instant deadline = r.request().deadline();
            if (deadline == null) continue;
            if (now == null) now = Instant.now();
            if (now.isAfter(deadline)) {
                if (expired == null) expired = new ArrayList<>();
                expired.add(r);
            }
        }
        if (expired != null) for (RequestState r : expired) finishRequest(r, FinishReason.ABORT, null);
    }

    private void apply(SchedulerOutput plan, StepResult result, long now) {
        List<ScheduledSeq> seqs = plan.seqs();
        for (int i = 0; i < seqs.size(); i++) {
            ScheduledSeq w = seqs.get(i);
            Sequence s = w.seq();
            if (s.status() == Sequence.Status.FINISHED) continue; // its request failed earlier in this loop
            if (result.sampled(i) == ModelRunner.FAILED) {
                finishRequest(s.request(), FinishReason.ERROR, ENGINE_ERROR); // this request only; blocks freed
                continue;
            }
            if (s.pool() != null) { // an embedding request: done once its prefill is
                s.setNumComputed(w.endPos());
                float[] embedding = result.embedding(i);
                if (embedding != null) {
                    RequestState r = s.request();
                    r.output().offer(new RequestOutput(s.requestId(), s.index(), NO_TOKENS, FinishReason.STOP, null,
                            s.promptLen(), 0, r.timings(now), null, null, null, embedding));
                    count(FinishReason.STOP, 1);
                    finishSequence(s); // its blocks are freed at once
                }
                continue;
            }
            List<TokenLogprobs> prompt = result.promptLogprobs(i);
            for (int k = 0; k < prompt.size(); k++) s.request().setPromptLogprobs(result.promptLogprobsFrom(i) + k, prompt.get(k));
            s.setNumComputed(w.endPos());
            scheduler.kv().cacheComputedBlocks(s.blockTable(), s.tokenArray(), s.numComputed());
            scheduler.kv().releaseOutsideWindow(s.blockTable(), s.numComputed());
            if (s.isForkParent()) {
                if (s.numComputed() == s.numTokens()) fork(s);
            } else if (result.sampled(i) >= 0) {
                appendAndCheck(s, result.sampled(i), result.logprobs(i), now);
            } else if (result.sampled(i) == ModelRunner.GRAMMAR_COMPLETE) {
                finishSequence(s, FinishReason.STOP, null); // the grammar is matched and allows nothing more
            } else if (result.sampled(i) == ModelRunner.GRAMMAR_DEAD_END) {
                finishSequence(s, FinishReason.ERROR, GRAMMAR_DEAD_END);
            }
        }
    }

    private void fork(Sequence parent) {
        RequestState r = parent.request();
        SamplingParams sp = r.request().sampling();
        List<Sequence> children = new ArrayList<>(parent.forkInto());
        long seed = sp.seed() != null ? sp.seed() : seeds.nextLong();
        for (int i = 0; i < parent.forkInto(); i++) {
            Sequence child = new Sequence(parent, i, SamplingState.seeded(sp, seed, i, r.grammar())); // each child: its own matcher at the start
            scheduler.kv().fork(parent.blockTable(), child.blockTable());
            children.add(child);
        }
        scheduler.replaceWithChildren(parent, children);
        r.live().remove(parent);
        r.live().addAll(children);
    }

    private void appendAndCheck(Sequence s, int token, TokenLogprobs logprobs, long now) {
        RequestState r = s.request();
        SamplingParams sp = r.request().sampling();
        s.appendToken(token);
        generationTokens++;
        r.markFirstToken(now);
        int generated = s.numGenerated();
        FinishReason reason = null;
        Integer stopToken = null;
        if (generated >= sp.minTokens()) {
            if (!sp.ignoreEos() && eos.contains(token)) {
                reason = FinishReason.STOP;
            } else if (sp.stopTokenIds().contains(token)) {
                reason = FinishReason.STOP;
                stopToken = token;
            }
        }
        if (reason == null && (generated >= sp.maxTokens() || s.numTokens() >= config.maxModelLen())) {
            reason = FinishReason.LENGTH;
        }
        long finish = reason == null ? 0 : now;
        r.output().offer(new RequestOutput(s.requestId(), s.index(), new int[] {token}, reason, stopToken,
                s.promptLen(), generated, r.timings(finish), null,
                logprobs == null ? null : new TokenLogprobs[] {logprobs}, r.takePromptLogprobs()));
        if (reason != null) {
            count(reason, 1);
            finishSequence(s);
        }
    }

    private void finishSequence(Sequence s) {
        scheduler.remove(s);
        RequestState r = s.request();
        r.live().remove(s);
        if (r.live().isEmpty()) {
            requests.remove(r.request().requestId());
            liveIds.remove(r.request().requestId());
        }
    }

    /** Ends every live sequence of {@code r} with {@code reason} (ABORT or ERROR), one final event per completion. */
    private void finishRequest(RequestState r, FinishReason reason, String error) {
        for (Sequence s : List.copyOf(r.live())) finishSequence(s, reason, error);
    }

    /** Ends one live sequence (a fork parent: every completion it stands for) with a final event each. */
    private void finishSequence(Sequence s, FinishReason reason, String error) {
        RequestState r = s.request();
        long now = System.nanoTime();
        int outputs = s.isForkParent() ? s.forkInto() : 1;
        for (int k = 0; k < outputs; k++) {
            int index = s.isForkParent() ? k : s.index();
            r.output().offer(new RequestOutput(s.requestId(), index, NO_TOKENS, reason, null,
                    s.promptLen(), s.numGenerated(), r.timings(now), error, null, null));
        }
        count(reason, outputs);
        finishSequence(s);
    }

    /** What a client is told when the engine fails on its request; the exception itself is only logged. */
    static final String GRAMMAR_DEAD_END = "the output constraint allows no token here (no token of the vocabulary continues it)";
    static final String ENGINE_ERROR = "the engine failed while running this request; see the server log";

    private void failPlan(SchedulerOutput plan, Throwable e) {
        String message = ENGINE_ERROR;
        Set<RequestState> affected = new LinkedHashSet<>();
        for (ScheduledSeq w : plan.seqs()) affected.add(w.seq().request());
        for (RequestState r : affected) {
            if (requests.get(r.request().requestId()) == r) finishRequest(r, FinishReason.ERROR, message);
        }
    }

    private void failAll(Throwable e) {
        String message = ENGINE_ERROR;
        for (RequestState r : List.copyOf(requests.values())) finishRequest(r, FinishReason.ERROR, message);
    }

    private void count(FinishReason reason, int k) {
        switch (reason) {
            case STOP -> finishedStop += k;
            case LENGTH -> finishedLength += k;
            case ABORT -> finishedAbort += k;
            case ERROR -> finishedError += k;
        }
    }

    private long totalScheduleNanos, totalForwardNanos, totalModelNanos; // over steps that ran a batch
    private long totalStepSeqs, totalStepTokens;
    private int maxStepSeqs;

    private void publishStats(int tokens, int seqs, long scheduleNanos, long forwardNanos, long modelNanos) {
        EngineStats last = stats;
        boolean ran = seqs > 0;
        if (ran) {
            totalScheduleNanos += scheduleNanos;
            totalForwardNanos += forwardNanos;
            totalModelNanos += modelNanos;
            totalStepSeqs += seqs;
            totalStepTokens += tokens;
            maxStepSeqs = Math.max(maxStepSeqs, seqs);
        }
        stats = new EngineStats(scheduler.numRunning(), scheduler.numWaiting(), scheduler.kv().pool().usage(),
                scheduler.prefixCacheQueries(), scheduler.prefixCacheHits(), promptTokens, generationTokens,
                finishedStop, finishedLength, finishedAbort, finishedError, scheduler.preemptions(), steps,
                ran ? tokens : last.lastStepTokens(), ran ? seqs : last.lastStepSeqs(),
                ran ? scheduleNanos : last.lastScheduleNanos(), ran ? forwardNanos : last.lastForwardNanos(),
                totalScheduleNanos, totalForwardNanos, totalModelNanos, maxStepSeqs, totalStepSeqs, totalStepTokens);
        long now = System.nanoTime();
        if (!scheduler.hasWork() || now - snapshotWanted < SNAPSHOT_WATCH_NANOS) snapshot = takeSnapshot(now);
    }

    /** Every live sequence with the stats just published; loop thread only. */
    private EngineSnapshot takeSnapshot(long now) {
        List<EngineSnapshot.SequenceStatus> seqs = new ArrayList<>(Math.min(EngineSnapshot.MAX_LISTED, scheduler.numRunning() + scheduler.numWaiting()));
        for (Sequence s : scheduler.running()) {
            if (seqs.size() == EngineSnapshot.MAX_LISTED) break;
            // A decoding sequence has all but its newest token computed; more than that to catch up
            // (or a prompt not computed yet) is prefill, including recompute after a preemption.
            boolean prefill = s.numComputed() < s.numTokens() - 1 || s.numGenerated() == 0 && s.numComputed() < s.numTokens();
            seqs.add(status(s, prefill ? EngineSnapshot.Phase.PREFILL : EngineSnapshot.Phase.DECODE));
        }
        for (Sequence s : scheduler.waiting()) {
            if (seqs.size() == EngineSnapshot.MAX_LISTED) break;
            seqs.add(status(s, EngineSnapshot.Phase.WAITING));
        }
        var pool = scheduler.kv().pool();
        return new EngineSnapshot(now, stats, pool.numBlocks(), pool.numBlocks() - pool.numFreeBlocks(), pool.numCachedBlocks(), seqs);
    }

    private static EngineSnapshot.SequenceStatus status(Sequence s, EngineSnapshot.Phase phase) {
        return new EngineSnapshot.SequenceStatus(s.requestId(), s.index(), phase, s.promptLen(), s.numComputed(),
                s.numGenerated(), s.request().arrivalNanos());
    }

    /** For tests driving {@link #step()}: the scheduler (and through it the KV cache). */
    Scheduler scheduler() { return scheduler; }

    /** For tests: as if the last {@link #snapshot} reader left long ago. */
    void forgetSnapshotReaders() { snapshotWanted = System.nanoTime() - 2 * SNAPSHOT_WATCH_NANOS; }

    /** For tests: whether any request is still live. */
    boolean hasLiveRequests() { return !requests.isEmpty() || !commands.isEmpty(); }
}
