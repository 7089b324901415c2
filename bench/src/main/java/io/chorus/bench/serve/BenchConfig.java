package io.chorus.bench.serve;

import java.util.List;

/**
 * Every setting of one benchmark run; it is stored in the result JSON so a result file says how it
 * was produced. Build one with {@link #builder(String, String)}.
 *
 * @param baseUrl           server root, with or without a trailing {@code /v1}
 * @param maxConcurrency    most requests in flight at once; 0 = no limit
 * @param concurrencyLevels sweep: run the whole workload once per level (overrides maxConcurrency); empty = one run
 * @param requestRate       requests per second; {@code Infinity} sends everything at once (the limit is then concurrency)
 * @param burstiness        shape of the gamma inter-arrival distribution; 1.0 = Poisson, lower = burstier
 * @param calibrate         ask the server's {@code POST /tokenize} how many tokens a word of our prompt text is
 * @param timeoutSeconds    a request that has not finished streaming by then is abandoned and counted as failed
 */
public record BenchConfig(
        String baseUrl, String model, Endpoint endpoint, String apiKey,
        int numPrompts, int inputLen, int outputLen, double rangeRatio, int prefixLen, String dataset,
        int maxConcurrency, List<Integer> concurrencyLevels, double requestRate, double burstiness,
        long seed, boolean ignoreEos, double temperature, boolean calibrate, double timeoutSeconds,
        String label, boolean progress) {

    public BenchConfig {
        if (baseUrl == null || baseUrl.isBlank()) throw new IllegalArgumentException("a base URL is needed (--base-url)");
        if (model == null || model.isBlank()) throw new IllegalArgumentException("a model name is needed (--model)");
        if (endpoint == null) endpoint = Endpoint.COMPLETIONS;
        if (numPrompts < 1) throw new IllegalArgumentException("--num-prompts must be at least 1");
        if (inputLen < 1 || outputLen < 1) throw new IllegalArgumentException("--input-len and --output-len must be at least 1");
        if (rangeRatio < 0 || rangeRatio >= 1) throw new IllegalArgumentException("--range-ratio must be in [0, 1)");
        if (prefixLen < 0) throw new IllegalArgumentException("--prefix-len must not be negative");
        if (maxConcurrency < 0) throw new IllegalArgumentException("--max-concurrency must not be negative");
        concurrencyLevels = concurrencyLevels == null ? List.of() : List.copyOf(concurrencyLevels);
        for (int c : concurrencyLevels) if (c < 1) throw new IllegalArgumentException("concurrency levels must be at least 1");
        if (!(requestRate > 0)) throw new IllegalArgumentException("--request-rate must be positive (or inf)");
        if (!(burstiness > 0)) throw new IllegalArgumentException("--burstiness must be positive");
        if (!(timeoutSeconds > 0)) throw new IllegalArgumentException("the request timeout must be positive");
    }

    public static Builder builder(String baseUrl, String model) {
        return new Builder(baseUrl, model);
    }

    /** The concurrency limits to run, in order: the sweep, or the single {@link #maxConcurrency}. */
    public List<Integer> levels() {
        return concurrencyLevels.isEmpty() ? List.of(maxConcurrency) : concurrencyLevels;
    }

    /** This config without the API key, for writing into result files. */
    public BenchConfig redacted() {
        return toBuilder().apiKey(apiKey == null ? null : "<redacted>").build();
    }

    public Builder toBuilder() {
        Builder b = new Builder(baseUrl, model);
        b.endpoint = endpoint; b.apiKey = apiKey; b.numPrompts = numPrompts; b.inputLen = inputLen; b.outputLen = outputLen;
        b.rangeRatio = rangeRatio; b.prefixLen = prefixLen; b.dataset = dataset; b.maxConcurrency = maxConcurrency;
        b.concurrencyLevels = concurrencyLevels; b.requestRate = requestRate; b.burstiness = burstiness; b.seed = seed;
        b.ignoreEos = ignoreEos; b.temperature = temperature; b.calibrate = calibrate; b.timeoutSeconds = timeoutSeconds;
        b.label = label; b.progress = progress;
        return b;
    }

    /** Fluent builder with the defaults {@code chorus bench} uses. */
    public static final class Builder {
        private final String baseUrl;
        private final String model;
        private Endpoint endpoint = Endpoint.COMPLETIONS;
        private String apiKey;
        private int numPrompts = 100;
        private int inputLen = 256;
        private int outputLen = 128;
        private double rangeRatio = 0.0;
        private int prefixLen = 0;
        private String dataset;
        private int maxConcurrency = 0;
        private List<Integer> concurrencyLevels = List.of();
        private double requestRate = Double.POSITIVE_INFINITY;
        private double burstiness = 1.0;
        private long seed = 0;
        private boolean ignoreEos = false;
        private double temperature = 0.0;
        private boolean calibrate = false;
        private double timeoutSeconds = 600;
        private String label;
        private boolean progress = false;

        private Builder(String baseUrl, String model) {
            this.baseUrl = baseUrl;
            this.model = model;
        }

        public Builder endpoint(Endpoint v) { endpoint = v; return this; }
        public Builder apiKey(String v) { apiKey = v; return this; }
        public Builder numPrompts(int v) { numPrompts = v; return this; }
        public Builder inputLen(int v) { inputLen = v; return this; }
        public Builder outputLen(int v) { outputLen = v; return this; }
        public Builder rangeRatio(double v) { rangeRatio = v; return this; }
        public Builder prefixLen(int v) { prefixLen = v; return this; }
        public Builder dataset(String v) { dataset = v; return this; }
        public Builder maxConcurrency(int v) { maxConcurrency = v; return this; }
        public Builder concurrencyLevels(List<Integer> v) { concurrencyLevels = v; return this; }
        public Builder requestRate(double v) { requestRate = v; return this; }
        public Builder burstiness(double v) { burstiness = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder calibrate(boolean v) { calibrate = v; return this; }
        public Builder timeoutSeconds(double v) { timeoutSeconds = v; return this; }
        public Builder label(String v) { label = v; return this; }
        public Builder progress(boolean v) { progress = v; return this; }

        public BenchConfig build() {
            return new BenchConfig(baseUrl, model, endpoint, apiKey, numPrompts, inputLen, outputLen, rangeRatio, prefixLen,
                    dataset, maxConcurrency, concurrencyLevels, requestRate, burstiness, seed, ignoreEos, temperature,
                    calibrate, timeoutSeconds, label, progress);
        }
    }
}
