package io.chorus.bench;

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
 * <p>Usage: scripts/bench-engine MODEL.gguf [threads] [N list] [max-num-seqs or 0 = N]
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
            int maxN = 0;
            for (String n : ns) maxN = Math.max(maxN, Integer.parseInt(n));
            int bs = 16, blocks = maxN * ((promptLen + genLen) / bs + 1) + 16;
            model.allocateKvCache(blocks, bs, KvCacheDtype.F16, promptLen + genLen + bs);
            System.out.printf("model %s, %d threads, max-num-seqs %s%n", file.getFileName(), threads, fixedSeqs > 0 ? fixedSeqs : "N");
            for (String nStr : ns) {
                int n = Integer.parseInt(nStr);
                EngineConfig cfg = new EngineConfig(fixedSeqs > 0 ? fixedSeqs : n, 2048, promptLen + genLen + bs, false,
                        SchedulingPolicy.FCFS, List.of());
                try (EngineClient engine = EngineClient.start(cfg, model)) {
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
