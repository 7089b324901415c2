package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.kv.BlockPool;
import io.chorus.engine.runner.Sampler;
import io.chorus.engine.runner.SamplingState;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.structured.TokenVocabulary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/** Drives an {@link EngineLoop} step by step on the test thread and collects every output. */
final class Harness {
    final FakeForwardPass model;
    final EngineLoop loop;
    final EngineConfig config;
    private final Map<String, RequestHandle> handles = new LinkedHashMap<>();
    final Map<String, List<RequestOutput>> outputs = new LinkedHashMap<>();

    Harness(int vocab, int blockSize, int numBlocks, EngineConfig config) {
        this(vocab, blockSize, numBlocks, config, new TemperatureSampler());
    }

    Harness(int vocab, int blockSize, int numBlocks, EngineConfig config, Sampler sampler) {
        this(vocab, blockSize, numBlocks, config, sampler, null);
    }

    /** With {@code tokens} as the vocabulary's text, so requests may constrain their output. */
    Harness(int vocab, int blockSize, int numBlocks, EngineConfig config, Sampler sampler, TokenVocabulary tokens) {
        this.model = new FakeForwardPass(vocab, blockSize, numBlocks);
        this.config = config;
        this.loop = Engine.create(config, model, sampler, tokens);
    }

    static EngineConfig config(int maxNumSeqs, int maxBatchedTokens, int maxModelLen, boolean prefixCaching) {
        return new EngineConfig(maxNumSeqs, maxBatchedTokens, maxModelLen, prefixCaching, SchedulingPolicy.FCFS, List.of());
    }

    RequestHandle submit(EngineRequest r) {
        RequestHandle h = loop.submit(r);
        handles.put(r.requestId(), h);
        outputs.put(r.requestId(), new ArrayList<>());
        return h;
    }

    /** Steps until no request is live, collecting outputs; then checks that every block is free. */
    void runToCompletion() {
        for (int guard = 0; loop.step() || loop.hasLiveRequests(); guard++) {
            if (guard > 200_000) throw new AssertionError("engine did not finish");
            drain();
        }
        drain();
        assertAllBlocksFree();
    }

    void drain() {
        for (var e : handles.entrySet()) {
            try {
                for (RequestOutput o; (o = e.getValue().next(Duration.ZERO)) != null; ) outputs.get(e.getKey()).add(o);
            } catch (TimeoutException empty) {
                // nothing more for now
            } catch (InterruptedException ie) {
                throw new AssertionError(ie);
            }
        }
    }

    void assertAllBlocksFree() {
        assertThat(loop.hasLiveRequests()).isFalse();
        BlockPool pool = loop.scheduler().kv().pool();
        assertThat(pool.numFreeBlocks()).as("free blocks with no live request").isEqualTo(pool.numBlocks());
        for (int b = 0; b < pool.numBlocks(); b++) assertThat(pool.refCount(b)).as("refcount of block %d", b).isZero();
        assertThat(loop.scheduler().numRunning()).isZero();
        assertThat(loop.scheduler().numWaiting()).isZero();
    }

    /** All tokens completion {@code index} of request {@code id} produced. */
    int[] tokens(String id, int index) {
        return outputs.get(id).stream().filter(o -> o.index() == index)
                .flatMapToInt(o -> java.util.Arrays.stream(o.newTokenIds())).toArray();
    }

    RequestOutput last(String id, int index) {
        return outputs.get(id).stream().filter(o -> o.index() == index && o.finished()).reduce((a, b) -> b).orElseThrow();
    }

    List<RequestOutput> finals(String id) {
        return outputs.get(id).stream().filter(RequestOutput::finished).toList();
    }

    /**
     * What the fake model generates for {@code prompt} with {@code sp}, completion {@code index} of a
     * request seeded with {@code seed}, computed without the engine.
     */
    static int[] reference(int[] prompt, SamplingParams sp, long seed, int index, int vocab, List<Integer> eos) {
        SamplingState state = SamplingState.seeded(sp, seed, index);
        TemperatureSampler sampler = new TemperatureSampler();
        int[] tokens = java.util.Arrays.copyOf(prompt, prompt.length + sp.maxTokens());
        int n = prompt.length;
        float[] logits = new float[vocab];
        for (int g = 0; g < sp.maxTokens(); g++) {
            FakeForwardPass.referenceLogits(tokens, n, logits, vocab);
            if (g < sp.minTokens()) {
                if (!sp.ignoreEos()) for (int e : eos) logits[e] = Float.NEGATIVE_INFINITY;
                for (int e : sp.stopTokenIds()) logits[e] = Float.NEGATIVE_INFINITY;
            }
            int t = sampler.sample(logits, 0, vocab, state);
            tokens[n++] = t;
            if (g + 1 >= sp.minTokens() && ((!sp.ignoreEos() && eos.contains(t)) || sp.stopTokenIds().contains(t))) break;
        }
        return java.util.Arrays.copyOfRange(tokens, prompt.length, n);
    }

    static FinishReason reasonOf(RequestOutput o) { return o.finishReason(); }
}
