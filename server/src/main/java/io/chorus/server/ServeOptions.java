package io.chorus.server;

import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything {@code chorus serve} can be told (names follow vLLM's flags). Build with
 * {@link #defaults()} and the withers, or all at once from the command line.
 *
 * @param model               GGUF file; null serves the built-in demo model
 * @param servedModelName     the name clients send as {@code model}; null = the file name
 * @param apiKey              required bearer token; null = no authentication
 * @param maxModelLen         null = the model's context length (capped to what the cache holds)
 * @param kvCacheMemory       KV cache bytes; null = from memoryUtilization
 * @param threads             kernel threads; null = physical cores
 * @param chatTemplate        a Jinja chat template file overriding the model's; null = the model's
 * @param maxQueue            most requests admitted beyond max-num-seqs before 429; null = 4 x max-num-seqs
 * @param maxBodyBytes        largest accepted request body (413 beyond, and the connection is closed)
 * @param shutdownGrace       how long in-flight requests may run on once the listener has closed in a shutdown
 * @param requestTimeout      longest a request may run before the engine aborts it; null = no limit
 * @param metricsPublic       serve /metrics without the API key (for a scraper that cannot send one)
 * @param parseSpecialInContent recognise control-token text (such as {@code <|im_start|>}) inside message
 *                            content as those tokens, as vLLM does; false = content is plain text
 * @param maxHeaderBytes      largest request prologue plus headers (the request is refused beyond)
 * @param maxConnections      most open TCP connections at once; more wait in the accept backlog
 * @param toolCallParser      how tool calls are read from the output (hermes, llama3_json, mistral, or none);
 *                            null = chosen from the chat template
 * @param reasoningParser     how a {@code <think>} block is split off (deepseek_r1, qwen3, or none); null = from the template
 * @param allowedOrigins    origins a browser page may call from ({@code *} = any); empty = no CORS headers
 * @param task                generate (chat and completions) or embed (/v1/embeddings)
 * @param pooling             how an embedding is pooled from the final hidden states; null = from the model
 * @param activationPrecision int8: quantized weights multiply activations rounded to 8 bits (as
 *                            llama.cpp); f32: exact float32 products; auto (default): int8 where it is faster
 */
public record ServeOptions(
        Path model, String host, int port, String servedModelName, String apiKey,
        int maxNumSeqs, int maxNumBatchedTokens, Integer maxModelLen, double memoryUtilization, Long kvCacheMemory,
        int blockSize, boolean enablePrefixCaching, KvCacheDtype kvCacheDtype, Integer threads, Path chatTemplate,
        Integer maxQueue, SchedulingPolicy schedulingPolicy, long maxBodyBytes, Duration shutdownGrace,
        Duration requestTimeout, boolean metricsPublic, boolean parseSpecialInContent, int maxHeaderBytes,
        int maxConnections, String toolCallParser, String reasoningParser, ActivationPrecision activationPrecision,
        java.util.List<String> allowedOrigins, Task task, io.chorus.engine.api.Pooling pooling) {

    /** What the served model is for (vLLM's {@code --task}): generation endpoints or embeddings, never both. */
    public enum Task { GENERATE, EMBED }

    public ServeOptions {
        allowedOrigins = allowedOrigins == null ? java.util.List.of() : java.util.List.copyOf(allowedOrigins);
        if (task == null) task = Task.GENERATE;
    }

    /** The default for {@code --max-queue}: requests admitted beyond those running, per running slot. */
    public static final int DEFAULT_QUEUE_PER_SEQ = 4;

    /** The admission bound beyond max-num-seqs: {@code maxQueue}, or 4 x max-num-seqs when unset. */
    public int queueBound() {
        return maxQueue != null ? maxQueue : DEFAULT_QUEUE_PER_SEQ * maxNumSeqs;
    }

    /** Never shows the API key (options get logged and printed). */
    @Override
    public String toString() {
        return "ServeOptions[model=" + model + ", host=" + host + ", port=" + port + ", servedModelName=" + servedModelName
                + ", apiKey=" + (apiKey == null ? "none" : "(set)") + ", maxNumSeqs=" + maxNumSeqs + ", maxNumBatchedTokens="
                + maxNumBatchedTokens + ", maxModelLen=" + maxModelLen + ", kvCacheMemory=" + kvCacheMemory + ", maxQueue=" + queueBound()
                + ", maxBodyBytes=" + maxBodyBytes + ", requestTimeout=" + requestTimeout + ", metricsPublic=" + metricsPublic
                + ", parseSpecialInContent=" + parseSpecialInContent + ", maxHeaderBytes=" + maxHeaderBytes
                + ", maxConnections=" + maxConnections + ", toolCallParser=" + toolCallParser + ", reasoningParser=" + reasoningParser + ", activationPrecision=" + activationPrecision.label()
                + ", allowedOrigins=" + allowedOrigins + ", task=" + task + ", pooling=" + pooling + "]";
    }

    public ServeOptions withRequestTimeout(Duration v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, v, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }

    public static ServeOptions defaults() {
        return new ServeOptions(null, "127.0.0.1", 8000, null, null, 64, 2048, null, 0.5, null, 16, true,
                KvCacheDtype.F16, null, null, null, SchedulingPolicy.FCFS, 8L << 20, Duration.ofSeconds(30), null, false, false, 16 << 10, 1024, null, null,
                ActivationPrecision.auto(), java.util.List.of(), Task.GENERATE, null);
    }

    public ServeOptions withModel(Path v) { return new ServeOptions(v, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withPort(int v) { return new ServeOptions(model, host, v, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withServedModelName(String v) { return new ServeOptions(model, host, port, v, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withApiKey(String v) { return new ServeOptions(model, host, port, servedModelName, v, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxNumSeqs(int v) { return new ServeOptions(model, host, port, servedModelName, apiKey, v, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxModelLen(Integer v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, v, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withKvCacheMemory(Long v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, v, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withThreads(Integer v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, v, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxQueue(Integer v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, v, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxBodyBytes(long v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, v, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withShutdownGrace(Duration v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, v, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMetricsPublic(boolean v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, v, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withParseSpecialInContent(boolean v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, v, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxHeaderBytes(int v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, v, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxConnections(int v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, v, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withSchedulingPolicy(SchedulingPolicy v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, v, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withChatTemplate(Path v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, v, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withMaxNumBatchedTokens(int v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, v, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withToolCallParser(String v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, v, reasoningParser, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withReasoningParser(String v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, v, activationPrecision, allowedOrigins, task, pooling); }
    public ServeOptions withActivationPrecision(ActivationPrecision v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, v, allowedOrigins, task, pooling); }
    public ServeOptions withAllowedOrigins(java.util.List<String> v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, v, task, pooling); }
    public ServeOptions withTask(Task v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, v, pooling); }
    public ServeOptions withPooling(io.chorus.engine.api.Pooling v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout, metricsPublic, parseSpecialInContent, maxHeaderBytes, maxConnections, toolCallParser, reasoningParser, activationPrecision, allowedOrigins, task, v); }
}
