package io.chorus.bench;

import io.chorus.engine.Engine;
import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.model.Model;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The engine under N parallel requests, in the spirit of llama-batched-bench: every request has a
 * 128-token random prompt and generates 128 tokens (EOS ignored), all submitted at once through the
 * engine's client API. Reports total decode throughput (tokens generated after the last request's
 * first token, over that time), end-to-end throughput, and the engine's scheduling overhead share.
 *
 * <p>With the N list {@code prefix} it measures prefix caching instead: 16 requests share a
 * 1,000-token system prompt followed by 24 tokens of their own; the first is submitted alone and,
 * once it has its first token, the other 15 together. It reports the mean time to first token
 * with prefix caching on and off.
 *
 * <p>Usage: scripts/bench-engine MODEL.gguf [threads] [N list | prefix] [max-num-seqs or 0 = N]
 */
public final class EngineBench {
    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        Path file = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : WorkerPool.defaultThreads();
        String[] ns = (args.length > 2 ? args[2] : "1,2,4,8,16,32,64").split(",");
        int fixedSeqs = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        int promptLen = 128, genLen = 128;
        try (WorkerPool pool = new WorkerPool(threads); Model model = Model.load(file, pool)) {
            int bs = 16;
            if (ns[0].equals("prefix")) {
                model.allocateKvCache(2048, bs, KvCacheDtype.F16, 2048);
                System.out.printf("model %s, %d threads: 16 requests sharing a 1000-token prefix%n", file.getFileName(), threads);
                for (boolean caching : new boolean[] {true, false}) {
                    EngineConfig cfg = new EngineConfig(16, 2048, 2048, caching, SchedulingPolicy.FCFS, List.of());
                    try (EngineClient engine = Engine.start(cfg, model)) {
                        prefixRun(engine, model.vocabSize(), 99); // warm-up with another prefix
                        double ttft = prefixRun(engine, model.vocabSize(), 7);
                        System.out.printf("prefix caching %-3s  mean time to first token %8.1f ms%n", caching ? "on" : "off", ttft);
                    }
                }
                return;
            }
            int maxN = 0;
            for (String n : ns) maxN = Math.max(maxN, Integer.parseInt(n));
            model.allocateKvCache(maxN * ((promptLen + genLen) / bs + 1) + 16, bs, KvCacheDtype.F16, promptLen + genLen + bs);
            System.out.printf("model %s, %d threads, max-num-seqs %s%n", file.getFileName(), threads, fixedSeqs > 0 ? fixedSeqs : "N");
            for (String nStr : ns) {
                int n = Integer.parseInt(nStr);
                EngineConfig cfg = new EngineConfig(fixedSeqs > 0 ? fixedSeqs : n, 2048, promptLen + genLen + bs, false,
                        SchedulingPolicy.FCFS, List.of());
                try (EngineClient engine = Engine.start(cfg, model)) {
                    run(engine, n, 1, promptLen, 8, model.vocabSize()); // warm-up
                    EngineStats before = engine.stats();
                    Result r = run(engine, n, n, promptLen, genLen, model.vocabSize());
                    EngineStats s = engine.stats();
                    System.out.printf("N=%-3d decode %8.1f t/s total  %6.1f t/s per request  | end-to-end %8.1f t/s  (%.1f s)%n",
                            n, r.decodeTps, r.decodeTps / n, r.totalTps, r.seconds);
                    long sched = s.totalScheduleNanos() - before.totalScheduleNanos();
                    long fwd = s.totalForwardNanos() - before.totalForwardNanos();
                    long inModel = s.totalModelNanos() - before.totalModelNanos();
                    long steps = s.steps() - before.steps();
                    long step = sched + fwd;
                    System.out.printf("       %d steps of %.1f ms: outside the forward pass %.2f%% (scheduling %.2f%%, batch building + sampling %.2f%%)%n",
                            steps, step / 1e6 / Math.max(1, steps), 100.0 * (step - inModel) / Math.max(1, step),
                            100.0 * sched / Math.max(1, step), 100.0 * (fwd - inModel) / Math.max(1, step));
                }
            }
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong();

    /** Mean TTFT (ms) of 16 requests sharing a 1000-token prefix: one first, then 15 together. */
    static double prefixRun(EngineClient engine, int vocab, long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] prefix = new int[1000];
        for (int i = 0; i < prefix.length; i++) prefix[i] = 10 + rnd.nextInt(Math.min(20000, vocab - 10));
        double total = 0;
        List<RequestHandle> rest = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int[] prompt = java.util.Arrays.copyOf(prefix, 1024);
            for (int j = 1000; j < 1024; j++) prompt[j] = 10 + rnd.nextInt(Math.min(20000, vocab - 10));
            long t0 = System.nanoTime();
            RequestHandle h = engine.submit(new EngineRequest("p" + NEXT_ID.incrementAndGet(), prompt,
                    SamplingParams.greedy(4).withIgnoreEos(true)));
            if (i == 0) {
                total += firstTokenNanos(h) - t0; // the first request computes the prefix for everyone
                drain(h);
            } else {
                rest.add(h);
                starts.add(t0);
            }
        }
        for (int i = 0; i < rest.size(); i++) {
            total += firstTokenNanos(rest.get(i)) - starts.get(i);
            drain(rest.get(i));
        }
        return total / 16 / 1e6;
    }

    private static long firstTokenNanos(RequestHandle h) throws Exception {
        for (RequestOutput o; (o = h.next(Duration.ofMinutes(10))) != null; ) {
            if (o.newTokenIds().length > 0 || o.finished()) return System.nanoTime();
        }
        throw new IllegalStateException("request ended without output");
    }

    private static void drain(RequestHandle h) throws Exception {
        for (RequestOutput o; (o = h.next(Duration.ofMinutes(10))) != null; ) if (o.finished()) return;
    }

    record Result(double decodeTps, double totalTps, double seconds) {}

    static Result run(EngineClient engine, int n, int seedBase, int promptLen, int genLen, int vocab) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seedBase);
        List<RequestHandle> handles = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[promptLen];
            for (int j = 0; j < promptLen; j++) prompt[j] = 10 + rnd.nextInt(Math.min(20000, vocab - 10));
            SamplingParams sp = SamplingParams.greedy(genLen).withIgnoreEos(true);
            handles.add(engine.submit(new EngineRequest("b" + NEXT_ID.incrementAndGet(), prompt, sp)));
        }
        long[] firsts = new long[n];
        List<long[]> tokenTimes = new ArrayList<>();
        List<Thread> consumers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int idx = i;
            long[] times = new long[genLen];
            tokenTimes.add(times);
            RequestHandle h = handles.get(i);
            consumers.add(Thread.ofVirtual().start(() -> {
                int k = 0;
                try {
                    for (RequestOutput o; (o = h.next(Duration.ofMinutes(10))) != null; ) {
                        long now = System.nanoTime();
                        for (int t = 0; t < o.newTokenIds().length && k < genLen; t++) times[k++] = now;
                        if (o.finished()) break;
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                firsts[idx] = times[0];
            }));
        }
        for (Thread c : consumers) c.join();
        long end = System.nanoTime();
        long decodeStart = 0;
        for (long f : firsts) decodeStart = Math.max(decodeStart, f);
        long after = 0, lastTok = 0;
        for (long[] times : tokenTimes) {
            for (long t : times) {
                if (t > decodeStart) after++;
                lastTok = Math.max(lastTok, t);
            }
        }
        double decodeSec = (lastTok - decodeStart) / 1e9;
        double total = (end - t0) / 1e9;
        return new Result(decodeSec > 0 ? after / decodeSec : 0, (double) n * genLen / total, total);
    }
}
