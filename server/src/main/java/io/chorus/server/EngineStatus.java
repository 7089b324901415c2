package io.chorus.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineSnapshot;
import io.chorus.engine.api.EngineStats;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/engine/status}: what the engine is doing now (running and waiting sequences with
 * their phase and tokens so far, KV blocks, prefix-cache hit rate, step rate, batch size, tokens/s)
 * and its rates over the last minutes, as one JSON document for the web page's live panel.
 *
 * <p>Implementation notes: the engine loop publishes an immutable {@link EngineSnapshot} only while
 * this endpoint is being read (see {@link EngineClient#snapshot}); a sampling thread reads the
 * engine's counters once a second into a {@link StatusHistory}. Neither takes a lock the engine
 * loop holds, and neither adds work per token. {@code ?since=MILLIS} returns only the history
 * samples after that time, so a page polling every half second receives each sample once.
 */
final class EngineStatus implements AutoCloseable {
    static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(1);
    static final int HISTORY_SAMPLES = 300; // five minutes at one a second
    /** Longest a read waits for the loop to catch up with the stats after a quiet spell. */
    private static final long FRESH_WAIT_MILLIS = 250;

    private final String model;
    private final int blockSize;
    private final EngineConfig config;
    private final EngineClient engine;
    private final StatusHistory history = new StatusHistory(HISTORY_SAMPLES);
    private final ScheduledExecutorService sampler;

    EngineStatus(String model, int blockSize, EngineConfig config, EngineClient engine) {
        this.model = model;
        this.blockSize = blockSize;
        this.config = config;
        this.engine = engine;
        this.sampler = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("chorus-status-history").daemon(true).factory());
        sampler.scheduleAtFixedRate(() -> history.sample(engine.stats(), System.currentTimeMillis()),
                0, SAMPLE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        long since = req.query().first("since").map(EngineStatus::millis).orElse(0L);
        ChorusServer.sendJson(res, 200, json(freshSnapshot(), history.since(since), history.latest(), System.nanoTime(), System.currentTimeMillis()));
    }

    /**
     * The loop builds snapshots only while they are read, so the first read after a quiet spell may
     * find an old one: it waits (briefly) for the loop's next step, which will have built a new one.
     */
    private EngineSnapshot freshSnapshot() throws InterruptedException {
        EngineSnapshot s = engine.snapshot();
        for (long waited = 0; s.stats() != engine.stats() && waited < FRESH_WAIT_MILLIS; waited += 5) {
            Thread.sleep(5);
            s = engine.snapshot();
        }
        return s;
    }

    private static long millis(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("since must be a time in milliseconds since the epoch, got '" + v + "'", "since");
        }
    }

    ObjectNode json(EngineSnapshot snap, List<StatusHistory.Sample> samples, StatusHistory.Sample latest, long nowNanos, long nowMillis) {
        EngineStats st = snap.stats();
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        root.put("object", "engine.status").put("model", model).put("time_ms", nowMillis)
                .put("snapshot_age_ms", Math.max(0, (nowNanos - snap.takenNanos()) / 1_000_000))
                .put("running", st.running()).put("waiting", st.waiting())
                .put("max_num_seqs", config.maxNumSeqs()).put("max_num_batched_tokens", config.maxNumBatchedTokens());
        root.putObject("kv_cache").put("block_size", blockSize).put("blocks_total", snap.kvBlocksTotal())
                .put("blocks_used", snap.kvBlocksUsed()).put("blocks_cached", snap.kvBlocksCached())
                .put("usage", round(st.kvUsage()));
        root.putObject("prefix_cache").put("queries", st.prefixCacheQueries()).put("hits", st.prefixCacheHits())
                .put("hit_rate", st.prefixCacheQueries() == 0 ? 0.0 : round((double) st.prefixCacheHits() / st.prefixCacheQueries()));
        root.putObject("last_step").put("seqs", st.lastStepSeqs()).put("tokens", st.lastStepTokens());
        root.putObject("totals").put("steps", st.steps()).put("prompt_tokens", st.promptTokens())
                .put("generation_tokens", st.generationTokens()).put("preemptions", st.preemptions())
                .put("max_step_seqs", st.maxStepSeqs())
                .put("mean_step_seqs", st.steps() == 0 ? 0.0 : round((double) st.totalStepSeqs() / st.steps()));
        ObjectNode rates = root.putObject("rates").put("interval_ms", SAMPLE_INTERVAL.toMillis());
        if (latest != null) putRates(rates, latest);
        ArrayNode seqs = root.putArray("sequences");
        for (EngineSnapshot.SequenceStatus q : snap.sequences()) {
            seqs.addObject().put("request_id", q.requestId()).put("index", q.index())
                    .put("phase", q.phase().name().toLowerCase(Locale.ROOT)).put("prompt_tokens", q.promptTokens())
                    .put("computed_tokens", q.computedTokens()).put("generated_tokens", q.generatedTokens())
                    .put("age_ms", Math.max(0, (snap.takenNanos() - q.arrivalNanos()) / 1_000_000));
        }
        ObjectNode history = root.putObject("history").put("interval_ms", SAMPLE_INTERVAL.toMillis()).put("capacity", HISTORY_SAMPLES);
        ArrayNode out = history.putArray("samples");
        for (StatusHistory.Sample s : samples) {
            putRates(out.addObject().put("time_ms", s.timeMillis()).put("running", s.running()).put("waiting", s.waiting())
                    .put("kv_usage", round(s.kvUsage())), s);
        }
        return root;
    }

    private static void putRates(ObjectNode o, StatusHistory.Sample s) {
        o.put("steps_per_s", round(s.stepsPerSecond())).put("generation_tokens_per_s", round(s.generationTokensPerSecond()))
                .put("batched_tokens_per_s", round(s.batchedTokensPerSecond())).put("mean_batch_seqs", round(s.meanBatchSeqs()));
    }

    /** Four decimals: figures for a page, not for arithmetic. */
    private static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
