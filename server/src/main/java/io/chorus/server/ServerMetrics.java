package io.chorus.server;

import io.chorus.engine.api.EngineStats;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The {@code /metrics} endpoint's registry, with vLLM's metric names so that routers and
 * dashboards built for vLLM read Chorus unchanged. Engine-wide figures are read from the engine's
 * latest {@link EngineStats} at scrape time; per-request figures (latencies, finish reasons) are
 * observed by {@link RequestTimer}s. Every series carries {@code model_name}.
 */
final class ServerMetrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final double[] LATENCY_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
            1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final String model;
    private final Counter requestSuccess;
    final Histogram ttft, itl, e2e, queueTime, promptTokens, generationTokens;
    /** The one series of {@code itl} (observed per streamed token: no label lookup each time). */
    final DistributionDataPoint itlPoint;

    ServerMetrics(String model, Supplier<EngineStats> stats, CacheInfo cache) {
        this.model = model;
        gauge("vllm:num_requests_running", "Sequences running (holding KV blocks).", stats, s -> s.running());
        gauge("vllm:num_requests_waiting", "Sequences waiting to be scheduled.", stats, s -> s.waiting());
        gauge("vllm:kv_cache_usage_perc", "KV cache usage; 1 means 100 percent.", stats, EngineStats::kvUsage);
        gauge("vllm:gpu_cache_usage_perc", "KV cache usage; 1 means 100 percent (old vLLM name).", stats, EngineStats::kvUsage);
        gauge("chorus:last_step_seqs", "Sequences in the engine's latest step.", stats, s -> s.lastStepSeqs());
        gauge("chorus:max_step_seqs", "Most sequences in one engine step since start.", stats, s -> s.maxStepSeqs());
        counter("vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", stats, s -> s.prefixCacheQueries());
        counter("vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache.", stats, s -> s.prefixCacheHits());
        counter("vllm:gpu_prefix_cache_queries", "Prompt tokens looked up in the prefix cache (old vLLM name).", stats, s -> s.prefixCacheQueries());
        counter("vllm:gpu_prefix_cache_hits", "Prompt tokens found in the prefix cache (old vLLM name).", stats, s -> s.prefixCacheHits());
        counter("vllm:prompt_tokens", "Prompt tokens processed.", stats, s -> s.promptTokens());
        counter("vllm:generation_tokens", "Tokens generated.", stats, s -> s.generationTokens());
        counter("vllm:num_preemptions", "Sequences preempted (recomputed later).", stats, s -> s.preemptions());
        counter("chorus:engine_steps", "Engine steps run.", stats, s -> s.steps());
        counter("chorus:engine_step_seqs", "Sequences summed over engine steps (divided by steps: the mean batch).", stats, s -> s.totalStepSeqs());
        counter("chorus:engine_step_tokens", "Tokens summed over engine steps.", stats, s -> s.totalStepTokens());
        GaugeWithCallback.builder().name("vllm:cache_config_info").help("Information of the KV cache configuration.")
                .labelNames("model_name", "block_size", "num_gpu_blocks", "cache_dtype", "enable_prefix_caching", "gpu_memory_utilization")
                .callback(cb -> cb.call(1, model, String.valueOf(cache.blockSize()), String.valueOf(cache.numBlocks()),
                        cache.dtype(), String.valueOf(cache.prefixCaching()), String.valueOf(cache.memoryUtilization())))
                .register(registry);
        requestSuccess = Counter.builder().name("vllm:request_success").help("Finished requests by finish reason.")
                .labelNames("model_name", "finished_reason").withoutExemplars().register(registry);
        ttft = histogram("vllm:time_to_first_token_seconds", "Time to first token.");
        itl = histogram("vllm:inter_token_latency_seconds", "Time between successive output tokens.");
        itlPoint = itl.labelValues(model);
        e2e = histogram("vllm:e2e_request_latency_seconds", "Request latency from arrival to the last token.");
        queueTime = histogram("vllm:request_queue_time_seconds", "Time from arrival at the server until the engine accepted the request.");
        promptTokens = Histogram.builder().name("vllm:request_prompt_tokens").help("Prompt tokens per request.")
                .classicUpperBounds(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
                .classicOnly().labelNames("model_name").withoutExemplars().register(registry);
        generationTokens = Histogram.builder().name("vllm:request_generation_tokens").help("Generated tokens per request.")
                .classicUpperBounds(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
                .classicOnly().labelNames("model_name").withoutExemplars().register(registry);
    }

    /** What {@code vllm:cache_config_info} reports. */
    record CacheInfo(int blockSize, int numBlocks, String dtype, boolean prefixCaching, double memoryUtilization) {}

    private void gauge(String name, String help, Supplier<EngineStats> stats, ToDoubleFunction<EngineStats> f) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("model_name")
                .callback(cb -> cb.call(f.applyAsDouble(stats.get()), model)).register(registry);
    }

    private void counter(String name, String help, Supplier<EngineStats> stats, ToDoubleFunction<EngineStats> f) {
        CounterWithCallback.builder().name(name).help(help).labelNames("model_name")
                .callback(cb -> cb.call(f.applyAsDouble(stats.get()), model)).register(registry);
    }

    private Histogram histogram(String name, String help) {
        // Classic buckets only (what the text format shows) and no exemplars: an observation per
        // streamed token then stays a few array updates, and wakes no scheduler thread.
        return Histogram.builder().name(name).help(help).classicUpperBounds(LATENCY_BUCKETS).classicOnly()
                .labelNames("model_name").withoutExemplars().register(registry);
    }

    void finished(String reason) {
        requestSuccess.labelValues(model, reason).inc();
    }

    String model() { return model; }

    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
