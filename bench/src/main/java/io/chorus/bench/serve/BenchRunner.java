package io.chorus.bench.serve;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The library entry point: runs the workload once per concurrency level against a live server and
 * returns every figure. Each request runs on its own virtual thread; a semaphore caps how many are
 * in flight, and the arrival schedule decides when each may start.
 */
public final class BenchRunner {
    private BenchRunner() {}

    public static BenchResult run(BenchConfig config) {
        return run(config, level -> {}, msg -> {});
    }

    /**
     * @param onLevel called with each level's result as soon as it is measured
     * @param log     progress notes (calibration, level starts)
     */
    public static BenchResult run(BenchConfig config, Consumer<LevelResult> onLevel, Consumer<String> log) {
        String startedAt = Instant.now().toString();
        try (StreamingClient client = new StreamingClient(config)) {
            double tokensPerWord = 1.0;
            String note = config.dataset() != null ? "dataset prompts" : "assumed 1 token a word";
            if (config.calibrate() && config.dataset() == null) {
                TokenCalibrator.Calibration cal = TokenCalibrator.calibrate(client.http(), StreamingClient.root(config.baseUrl()),
                        config.model(), config.apiKey());
                tokensPerWord = cal.tokensPerWord();
                note = cal.note();
                log.accept("calibration: " + note);
            }
            List<LevelResult> levels = new ArrayList<>();
            List<Integer> limits = config.levels();
            for (int i = 0; i < limits.size(); i++) {
                int limit = limits.get(i);
                log.accept("running " + config.numPrompts() + " requests, max concurrency "
                        + (limit > 0 ? limit : "unlimited") + (Double.isInfinite(config.requestRate()) ? "" : ", " + config.requestRate() + " req/s"));
                List<BenchRequest> requests = Workload.build(config, tokensPerWord, i);
                LevelResult r = runLevel(client, config, requests, limit);
                levels.add(r);
                onLevel.accept(r);
            }
            return new BenchResult(config.label(), startedAt, config.redacted(), tokensPerWord, note, levels);
        }
    }

    static LevelResult runLevel(StreamingClient client, BenchConfig config, List<BenchRequest> requests, int limit) {
        double[] arrivals = ArrivalSchedule.offsetsSeconds(requests.size(), config.requestRate(), config.burstiness(), config.seed());
        Semaphore slots = limit > 0 ? new Semaphore(limit) : null;
        List<Future<RequestOutcome>> futures = new ArrayList<>(requests.size());
        long t0 = System.nanoTime();
        try (Progress progress = Progress.start(config.progress(), "c=" + (limit > 0 ? limit : "inf"), requests.size());
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < requests.size(); i++) {
                sleepUntil(t0 + (long) (arrivals[i] * 1e9));
                BenchRequest req = requests.get(i);
                futures.add(pool.submit(() -> {
                    // Waiting for a slot is not latency: the request's clock starts when it is sent.
                    if (slots != null) slots.acquire();
                    try {
                        return client.send(req);
                    } finally {
                        if (slots != null) slots.release();
                        progress.step();
                    }
                }));
            }
            List<RequestOutcome> outcomes = new ArrayList<>(futures.size());
            for (Future<RequestOutcome> f : futures) outcomes.add(f.get());
            long end = outcomes.stream().mapToLong(RequestOutcome::endNs).max().orElse(t0);
            return Metrics.compute(limit, config.requestRate(), outcomes, (end - t0) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("benchmark interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("benchmark request crashed: " + e.getCause(), e.getCause());
        }
    }

    private static void sleepUntil(long deadlineNs) throws InterruptedException {
        long wait = deadlineNs - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
    }
}
