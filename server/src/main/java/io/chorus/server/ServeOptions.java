package io.chorus.server;

import io.chorus.engine.api.SchedulingPolicy;
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
 * @param maxQueue            most requests waiting beyond max-num-seqs before 429; null = no limit
 * @param maxBodyBytes        largest accepted request body (413 beyond)
 * @param shutdownGrace       how long in-flight requests may run on once the listener has closed in a shutdown
 * @param requestTimeout      longest a request may run before the engine aborts it; null = no limit
 */
public record ServeOptions(
        Path model, String host, int port, String servedModelName, String apiKey,
        int maxNumSeqs, int maxNumBatchedTokens, Integer maxModelLen, double memoryUtilization, Long kvCacheMemory,
        int blockSize, boolean enablePrefixCaching, KvCacheDtype kvCacheDtype, Integer threads, Path chatTemplate,
        Integer maxQueue, SchedulingPolicy schedulingPolicy, long maxBodyBytes, Duration shutdownGrace,
        Duration requestTimeout) {

    public ServeOptions withRequestTimeout(Duration v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, v); }

    public static ServeOptions defaults() {
        return new ServeOptions(null, "127.0.0.1", 8000, null, null, 64, 2048, null, 0.5, null, 16, true,
                KvCacheDtype.F16, null, null, null, SchedulingPolicy.FCFS, 8L << 20, Duration.ofSeconds(30), null);
    }

    public ServeOptions withModel(Path v) { return new ServeOptions(v, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withPort(int v) { return new ServeOptions(model, host, v, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withServedModelName(String v) { return new ServeOptions(model, host, port, v, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withApiKey(String v) { return new ServeOptions(model, host, port, servedModelName, v, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withMaxNumSeqs(int v) { return new ServeOptions(model, host, port, servedModelName, apiKey, v, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withMaxModelLen(Integer v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, v, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withKvCacheMemory(Long v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, v, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withThreads(Integer v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, v, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withMaxQueue(Integer v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, v, schedulingPolicy, maxBodyBytes, shutdownGrace, requestTimeout); }
    public ServeOptions withMaxBodyBytes(long v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, v, shutdownGrace, requestTimeout); }
    public ServeOptions withShutdownGrace(Duration v) { return new ServeOptions(model, host, port, servedModelName, apiKey, maxNumSeqs, maxNumBatchedTokens, maxModelLen, memoryUtilization, kvCacheMemory, blockSize, enablePrefixCaching, kvCacheDtype, threads, chatTemplate, maxQueue, schedulingPolicy, maxBodyBytes, v, requestTimeout); }
}
