package io.chorus.engine;

import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.ForwardPass;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * Runs the engine's hot paths before the first user arrives, so that the JIT has compiled them and
 * the model's buffers have grown: a prefill chunk, decoding of one sequence with the full sampler
 * (temperature, top-k, top-p, min-p, penalties, logprobs) and greedily, and decoding of max-num-seqs
 * sequences at once.
 *
 * <p>It drives a scratch {@link EngineLoop} over the same model on the calling thread, before the
 * served engine starts stepping that model. The served engine's scheduler, block pool, prefix cache
 * and counters are never touched: after warm-up every block is free, nothing is cached and every
 * metric reads zero. What remains is only compiled code, the model's grown buffers and the K/V
 * written into the first blocks, which the served engine hands out first.
 */
public final class Warmup {
    /** Longest warm-up prompt: one prefill chunk of this size compiles the batched paths. */
    static final int PREFILL_TOKENS = 256;
    /** Tokens each single-sequence decode runs: enough for the JIT to finish its tiers. */
    static final int DECODE_TOKENS = 48;
    /** Tokens each of the max-num-seqs sequences decodes. */
    static final int WIDE_DECODE_TOKENS = 4;

    /**
     * What warm-up did.
     *
     * @param steps           engine steps run
     * @param promptTokens    prompt tokens prefilled
     * @param generatedTokens tokens sampled
     * @param widestStep      most sequences in one step
     * @param sampleTokens    the tokens the first sequence generated (to warm a detokenizer with)
     * @param nanos           how long it took
     * @param phaseNanos      how long each part took: prefill and sampled decode, greedy decode, max-num-seqs decode
     */
    public record Result(long steps, long promptTokens, long generatedTokens, int widestStep, int[] sampleTokens, long nanos,
                         long[] phaseNanos) {
        public String describe() {
            return String.format("warm-up: %d steps, %d prompt + %d generated tokens, up to %d sequences per step, in %.2f s"
                            + " (prefill and sampled decode %.2f s, greedy decode %.2f s, %d-sequence decode %.2f s)",
                    steps, promptTokens, generatedTokens, widestStep, nanos / 1e9,
                    phaseNanos[0] / 1e9, phaseNanos[1] / 1e9, widestStep, phaseNanos[2] / 1e9);
        }
    }

    private Warmup() {}

    /**
     * Warms the paths {@code config} will run on {@code model}. Call before the served engine starts
     * (the model is not safe for two engines stepping it at once).
     *
     * @throws IllegalStateException if a warm-up request fails (the model cannot run a forward pass)
     */
    public static Result run(EngineConfig config, ForwardPass model) {
        long t0 = System.nanoTime();
        EngineLoop scratch = Engine.create(config, model, new TemperatureSampler());
        int capacity = Math.min(config.maxModelLen(), model.numBlocks() * model.blockSize());
        int vocab = model.vocabSize();
        if (capacity < 4) return new Result(0, 0, 0, 0, new int[0], System.nanoTime() - t0, new long[3]); // no room to run anything useful
        int widest;
        int[] sample;
        long[] phases = new long[3];

        // 1. One prefill chunk, then decoding one sequence through every sampling stage.
        int decode = Math.max(1, Math.min(DECODE_TOKENS, capacity / 2));
        int prefill = Math.max(1, Math.min(Math.min(PREFILL_TOKENS, config.maxNumBatchedTokens()), capacity - decode));
        SamplingParams full = SamplingParams.builder().temperature(0.8).topK(40).topP(0.9).minP(0.02)
                .presencePenalty(0.5).frequencyPenalty(0.5).repetitionPenalty(1.1).seed(1L).logprobs(2)
                .ignoreEos(true).maxTokens(decode).build();
        Collected first = new Collected(scratch.submit(new EngineRequest("warmup-sampled", tokens(prefill, vocab, 1), full)));
        widest = drive(scratch, List.of(first));
        sample = first.tokens();
        long t1 = System.nanoTime();
        phases[0] = t1 - t0;

        // 2. Greedy decoding of one sequence (the other sampler path).
        SamplingParams greedy = SamplingParams.greedy(decode).withIgnoreEos(true);
        widest = Math.max(widest, drive(scratch, List.of(new Collected(scratch.submit(
                new EngineRequest("warmup-greedy", tokens(Math.min(8, capacity - decode), vocab, 2), greedy))))));
        long t2 = System.nanoTime();
        phases[1] = t2 - t1;

        // 3. max-num-seqs sequences decoding together, half sampled and half greedy.
        int wide = Math.max(1, Math.min(WIDE_DECODE_TOKENS, capacity - 2));
        List<Collected> batch = new ArrayList<>();
        for (int i = 0; i < config.maxNumSeqs(); i++) {
            SamplingParams sp = (i % 2 == 0 ? full.toBuilder().seed((long) i).maxTokens(wide).logprobs(null).build()
                    : SamplingParams.greedy(wide).withIgnoreEos(true));
            batch.add(new Collected(scratch.submit(new EngineRequest("warmup-" + i, tokens(2, vocab, 3 + i), sp))));
        }
        widest = Math.max(widest, drive(scratch, batch));
        phases[2] = System.nanoTime() - t2;

        EngineStats s = scratch.stats();
        if (s.finishedError() > 0) throw new IllegalStateException("warm-up failed: the model could not run a forward pass (see the log)");
        return new Result(s.steps(), s.promptTokens(), s.generationTokens(), widest, sample, System.nanoTime() - t0, phases);
    }

    /** Steps {@code loop} until no request is live; returns the most sequences one step ran. */
    private static int drive(EngineLoop loop, List<Collected> handles) {
        int widest = 0;
        for (int guard = 0; loop.step() || loop.hasLiveRequests(); guard++) {
            if (guard > 1_000_000) throw new IllegalStateException("warm-up did not finish");
            widest = Math.max(widest, loop.stats().lastStepSeqs());
            for (Collected c : handles) c.drain();
        }
        for (Collected c : handles) c.drain();
        return widest;
    }

    /** Deterministic prompt ids spread over the vocabulary. */
    static int[] tokens(int n, int vocab, int seed) {
        int[] ids = new int[n];
        long x = seed * 0x9E3779B97F4A7C15L;
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            ids[i] = (int) Long.remainderUnsigned(x >>> 17, vocab);
        }
        return ids;
    }

    /** The outputs of one warm-up request, read without waiting (the loop runs on this thread). */
    private static final class Collected {
        private final RequestHandle handle;
        private final List<Integer> tokens = new ArrayList<>();

        Collected(RequestHandle handle) { this.handle = handle; }

        void drain() {
            try {
                for (RequestOutput out; (out = handle.next(Duration.ZERO)) != null; ) {
                    for (int t : out.newTokenIds()) tokens.add(t);
                    if (out.finished()) return;
                }
            } catch (TimeoutException e) {
                // nothing more yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("warm-up interrupted", e);
            }
        }

        int[] tokens() { return tokens.stream().mapToInt(Integer::intValue).toArray(); }
    }
}
