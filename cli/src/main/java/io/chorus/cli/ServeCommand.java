package io.chorus.cli;

import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.server.ChorusServer;
import io.chorus.server.DemoModel;
import io.chorus.server.LoadedModel;
import io.chorus.server.ServeOptions;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus serve}: the OpenAI-compatible server. Wiring only; the server lives in module server. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a GGUF model or Hugging Face folder over an OpenAI-compatible HTTP API (without --model: the built-in demo model).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", description = "GGUF model file, Hugging Face model folder, or hf:REPO/FILE.gguf from the hub (default: the built-in demo model, which babbles)")
    Path model;
    @picocli.CommandLine.Mixin HubOptions hub;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default ${DEFAULT-VALUE})")
    String host;
    @Option(names = "--port", defaultValue = "8000", description = "Port (default ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--served-model-name", description = "Model name clients send (default: the file name)")
    String servedModelName;
    @Option(names = "--api-key", description = "Require 'Authorization: Bearer KEY' (or set CHORUS_API_KEY)")
    String apiKey;
    @Option(names = "--max-num-seqs", defaultValue = "64", description = "Most sequences running at once (default ${DEFAULT-VALUE})")
    int maxNumSeqs;
    @Option(names = "--max-num-batched-tokens", defaultValue = "2048", description = "Most tokens per engine step (default ${DEFAULT-VALUE})")
    int maxNumBatchedTokens;
    @Option(names = "--max-model-len", description = "Most tokens per sequence (default: the model's context, capped to the cache)")
    Integer maxModelLen;
    @Option(names = {"--memory-utilization", "--gpu-memory-utilization"}, defaultValue = "0.5",
            description = "Share of memory for weights + KV cache (default ${DEFAULT-VALUE})")
    double memoryUtilization;
    @Option(names = "--kv-cache-memory", description = "KV cache size in bytes (overrides --memory-utilization); suffixes K, M, G")
    String kvCacheMemory;
    @Option(names = "--block-size", defaultValue = "16", description = "Tokens per KV block (default ${DEFAULT-VALUE})")
    int blockSize;
    @Option(names = "--enable-prefix-caching", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Reuse cached prompt prefixes (default on)")
    boolean prefixCaching;
    @Option(names = "--kv-cache-dtype", defaultValue = "f16", description = "f16 or f32 (default ${DEFAULT-VALUE})")
    String kvCacheDtype;

    @Option(names = "--activation-precision", defaultValue = "auto",
            description = "int8: quantized weights multiply activations rounded to 8 bits (as llama.cpp); f32: exact float32 products; auto: int8 for the 32-value block types (Q8_0, Q4_0, ...), 16-bit activations for AWQ / GPTQ, where the native kernels load (default ${DEFAULT-VALUE})")
    String activationPrecision;
    @Option(names = "--threads", description = "Kernel threads (default: all cores)")
    Integer threads;
    @Option(names = "--chat-template", description = "Jinja chat template file overriding the model's")
    Path chatTemplate;
    @Option(names = "--max-queue", description = "Requests admitted beyond --max-num-seqs before 429 + Retry-After (default: 4 x --max-num-seqs)")
    Integer maxQueue;
    @Option(names = "--scheduling-policy", defaultValue = "fcfs", description = "fcfs or priority (default ${DEFAULT-VALUE})")
    String schedulingPolicy;
    @Option(names = "--request-timeout", defaultValue = "0",
            description = "Seconds a request may run before it is aborted and its blocks freed; 0 = no limit (default ${DEFAULT-VALUE})")
    int requestTimeout;

    @Option(names = "--warmup", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run the engine's hot paths once before reporting healthy, so the first request runs at full speed (default on)")
    boolean warmup;

    @Option(names = "--max-request-bytes", defaultValue = "8M",
            description = "Largest request body; beyond it 413 and the connection is closed; suffixes K, M (default ${DEFAULT-VALUE})")
    String maxRequestBytes;
    @Option(names = "--max-header-bytes", defaultValue = "16K", description = "Largest request line plus headers (default ${DEFAULT-VALUE})")
    String maxHeaderBytes;
    @Option(names = "--max-connections", defaultValue = "1024", description = "Most open client connections (default ${DEFAULT-VALUE})")
    int maxConnections;
    @Option(names = "--metrics-public", description = "Serve /metrics without the API key")
    boolean metricsPublic;
    @Option(names = "--parse-special-in-content",
            description = "Treat control-token text in message content (e.g. <|im_start|>) as those tokens, as vLLM does (default: plain text)")
    boolean parseSpecialInContent;

    @Option(names = "--tool-call-parser",
            description = "How tool calls are read from the model's output: hermes (Hermes, Qwen2.5, Qwen3), llama3_json (Llama 3.1+),"
                    + " mistral, or none (default: chosen from the chat template)")
    String toolCallParser;
    @Option(names = "--reasoning-parser",
            description = "How a <think> block moves to reasoning_content: deepseek_r1, qwen3, or none (default: chosen from the chat template)")
    String reasoningParser;

    @Option(names = "--allowed-origins", split = ",",
            description = "Origins a web page may call the API from, comma-separated, or * for any (default: none, no CORS headers)")
    java.util.List<String> allowedOrigins;
    @Option(names = "--task", defaultValue = "generate",
            description = "generate (chat and text completions) or embed (/v1/embeddings only) (default ${DEFAULT-VALUE})")
    String task;
    @Option(names = "--pooling",
            description = "With --task embed: mean, last or cls pooling of the final hidden states (default: the model's pooling_type, else mean)")
    String pooling;

    @Option(names = "--shutdown-delay", defaultValue = "5",
            description = "Seconds after SIGTERM during which /health answers 503 but requests are still served, so load balancers"
                    + " take this replica out before its listener closes; at least one health-check interval (default ${DEFAULT-VALUE})")
    int shutdownDelay;
    @Option(names = "--shutdown-grace", defaultValue = "30",
            description = "Seconds in-flight requests may finish once the listener has closed; the rest are aborted (default ${DEFAULT-VALUE})")
    int shutdownGrace;

    /** The parsed flags as the server's options. */
    ServeOptions options() {
        if (shutdownDelay < 0 || shutdownGrace < 0) throw new IllegalArgumentException("--shutdown-delay and --shutdown-grace must be 0 or more seconds");
        SchedulingPolicy policy;
        try {
            policy = SchedulingPolicy.valueOf(schedulingPolicy.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--scheduling-policy must be fcfs or priority, got '" + schedulingPolicy + "'");
        }
        return new ServeOptions(hub.local(model), host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen,
                memoryUtilization, kvCacheMemory != null ? Units.parseBytes(kvCacheMemory) : null, blockSize, prefixCaching,
                KvCacheDtype.parse(kvCacheDtype), threads, chatTemplate, maxQueue, policy, Units.parseBytes(maxRequestBytes),
                Duration.ofSeconds(shutdownGrace), requestTimeout > 0 ? Duration.ofSeconds(requestTimeout) : null, metricsPublic,
                parseSpecialInContent, Math.toIntExact(Units.parseBytes(maxHeaderBytes)), maxConnections, toolCallParser, reasoningParser,
                ActivationPrecision.parse(activationPrecision), allowedOrigins, parseTask(task),
                pooling != null ? io.chorus.engine.api.Pooling.parse(pooling) : null);
    }

    private static ServeOptions.Task parseTask(String task) {
        return switch (task.toLowerCase(Locale.ROOT)) {
            case "generate" -> ServeOptions.Task.GENERATE;
            case "embed" -> ServeOptions.Task.EMBED;
            default -> throw new IllegalArgumentException("--task must be generate or embed, got '" + task + "'");
        };
    }

    @Override
    public Integer call() throws InterruptedException {
        Logging.setup();
        ServeOptions o = options();
        if (model == null) {
            System.err.println("chorus: no --model given: serving the built-in demo model (" + DemoModel.path() + ").");
            System.err.println("chorus: it is a word-level bigram model over a few pages of English: it babbles; it is for trying the API.");
            System.err.println("chorus: to serve a real model: ./chorus serve --model path/to/model.gguf (e.g. a Qwen2.5 or Llama 3 GGUF)");
        }
        ChorusServer server = new ChorusServer(o).start();
        CountDownLatch stopped = new CountDownLatch(1);
        TerminationSignals.onTermination(() -> {
            System.err.println("chorus: shutting down: /health answers 503 now, requests are served for " + shutdownDelay
                    + " s more, then the listener closes and in-flight requests get " + shutdownGrace + " s");
            server.shutdown(Duration.ofSeconds(shutdownDelay), o.shutdownGrace());
            System.err.println("chorus: stopped");
            stopped.countDown();
        });
        LoadedModel m;
        try {
            m = server.load(() -> LoadedModel.load(o, warmup));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        System.err.println("chorus: " + m.summary().replace("\n", "\nchorus: "));
        System.err.println("chorus: serving " + m.name() + " at " + server.url() + "/v1 (OpenAI API; Ollama API under /api; web page at /; also /health, /metrics, /tokenize)"
                + (o.apiKey() != null || System.getenv("CHORUS_API_KEY") != null ? ", API key required" : ""));
        stopped.await();
        return 0;
    }
}
