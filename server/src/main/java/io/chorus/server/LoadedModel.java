package io.chorus.server;

import io.chorus.backend.Backend;
import io.chorus.backend.CpuBackend;
import io.chorus.engine.KvCacheSizing;
import io.chorus.engine.Warmup;
import io.chorus.engine.Engine;
import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.runner.Sampler;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.ForwardPass;
import io.chorus.model.Model;
import io.chorus.model.gguf.GgufFile;
import io.chorus.model.checkpoint.GenerationDefaults;
import io.chorus.structured.TokenVocabulary;
import io.chorus.tensor.ReservedMemory;
import io.chorus.tokenizer.StreamingDetokenizer;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tokenizer.template.ChatTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.OptionalLong;
import java.util.logging.Logger;

/**
 * One served model with everything a request needs: tokenizer, chat template, the running engine
 * and its limits. Thread-safe to share between handlers (the tokenizer and template are, and the
 * engine client is).
 */
public final class LoadedModel implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LoadedModel.class.getName());

    private final String name;
    private final Path path;
    private final boolean demo;
    private final Backend backend;
    private final Model model;
    private final Tokenizer tokenizer;
    private final ModelChatTemplates templates;
    private final EngineClient engine;
    private final EngineConfig engineConfig;
    private final KvCacheSizing sizing;
    private final ServeOptions options;
    private final Detokenizers detokenizers;
    private final OutputParsers outputParsers;
    private final Warmup.Result warmup; // null when skipped

    /**
     * What tests may put between the server and the engine: a wrapper around the forward pass, the
     * sampler, and the detokenizers (to hold a step, or to inject a fault into one request).
     */
    record Seams(UnaryOperator<ForwardPass> forward, Sampler sampler, UnaryOperator<Detokenizers> detokenizers) {
        static final Seams NONE = new Seams(UnaryOperator.identity(), new TemperatureSampler(), UnaryOperator.identity());
    }

    private LoadedModel(String name, Path path, boolean demo, Backend backend, Model model, Tokenizer tokenizer,
                        ModelChatTemplates templates, EngineClient engine, EngineConfig engineConfig, KvCacheSizing sizing,
                        ServeOptions options, Detokenizers detokenizers, OutputParsers outputParsers, Warmup.Result warmup) {
        this.name = name;
        this.path = path;
        this.demo = demo;
        this.backend = backend;
        this.model = model;
        this.tokenizer = tokenizer;
        this.templates = templates;
        this.engine = engine;
        this.engineConfig = engineConfig;
        this.sizing = sizing;
        this.options = options;
        this.detokenizers = detokenizers;
        this.outputParsers = outputParsers;
        this.warmup = warmup;
    }

    /** Loads the model (or the demo model), sizes the KV cache, warms the engine up and starts it. */
    public static LoadedModel load(ServeOptions o) {
        return load(o, true);
    }

    /**
     * As {@link #load(ServeOptions)}; {@code warmup} false skips the warm-up (the first requests then
     * run while the JIT compiles), for callers that start many short-lived engines.
     */
    public static LoadedModel load(ServeOptions o, boolean warmup) {
        return load(o, warmup, Seams.NONE);
    }

    static LoadedModel load(ServeOptions o, boolean warmup, Seams seams) {
        boolean demo = o.model() == null;
        Path path = demo ? DemoModel.ensure() : o.model();
        if (!Files.isRegularFile(path) && !Files.isDirectory(path)) throw new IllegalArgumentException("model file or folder not found: " + path);
        Backend backend = CpuBackend.withThreads(o.threads() != null ? o.threads() : CpuBackend.defaultThreads(), o.activationPrecision());
        Model model = null;
        try {
            model = Model.load(path, backend);
            Tokenizer tokenizer = Tokenizer.of(model.checkpoint());
            ModelChatTemplates templates = ModelChatTemplates.resolve(o.chatTemplate(), model.checkpoint().chatTemplates());
            OutputParsers parsers = OutputParsers.resolve(o.toolCallParser(), o.reasoningParser(), templates, tokenizer);
            KvCacheSizing sizing = KvCacheSizing.compute(model.weightBytes(), model.kvBytesPerBlock(o.blockSize(), o.kvCacheDtype()),
                    o.blockSize(), model.config().contextLength(), o.maxModelLen(), o.kvCacheMemory(), o.memoryUtilization(),
                    backend.memoryBytes(), o.maxNumSeqs(), model.attentionWindow(), o.maxNumBatchedTokens());
            model.allocateKvCache(sizing.numBlocks(), sizing.blockSize(), o.kvCacheDtype(), sizing.maxModelLen());
            List<Integer> eos = new ArrayList<>();
            for (int id = 0; id < tokenizer.vocabSize(); id++) if (tokenizer.isEog(id)) eos.add(id);
            EngineConfig config = new EngineConfig(o.maxNumSeqs(), o.maxNumBatchedTokens(), sizing.maxModelLen(),
                    o.enablePrefixCaching(), o.schedulingPolicy(), eos);
            Warmup.Result warm = null;
            if (warmup) {
                warm = Warmup.run(config, model);
                StreamingDetokenizer detok = tokenizer.streamingDetokenizer(true);
                for (int t : warm.sampleTokens()) detok.push(t);
                detok.flush();
                LOG.info(warm.describe());
                // Until C2 compiles the vector kernels, every vector op boxes: warm-up leaves ~1.5 GB of
                // garbage for a 0.5B model and a young generation grown to match. One full collection
                // now lets the heap shrink back (the launcher's G1 with MaxHeapFreeRatio gives it back
                // to the OS), so a fresh server holds its live set, not the warm-up's peak.
                System.gc();
            }
            EngineClient engine = Engine.start(config, seams.forward().apply(model), seams.sampler(), TokenVocabulary.of(tokenizer));
            String name = o.servedModelName() != null ? o.servedModelName() : demo ? "chorus-demo" : path.getFileName().toString();
            return new LoadedModel(name, path, demo, backend, model, tokenizer, templates, engine, config, sizing, o,
                    seams.detokenizers().apply(Detokenizers.of(tokenizer)), parsers, warm);
        } catch (RuntimeException e) {
            if (model != null) model.close();
            backend.close();
            throw e;
        }
    }

    /** Wraps an engine that is not over a loaded {@link Model} (tests drive the server with a scripted engine). */
    static LoadedModel of(String name, Path path, Tokenizer tokenizer, ChatTemplate template, EngineClient engine,
                          EngineConfig config, KvCacheSizing sizing, ServeOptions options) {
        ModelChatTemplates templates = ModelChatTemplates.of(template);
        return new LoadedModel(name, path, false, null, null, tokenizer, templates, engine, config, sizing, options,
                Detokenizers.of(tokenizer), OutputParsers.resolve(options.toolCallParser(), options.reasoningParser(), templates, tokenizer), null);
    }

    public String name() { return name; }
    public Path path() { return path; }
    public boolean demo() { return demo; }
    public Model model() { return model; }

    /** Sampling values for the fields a request leaves out: the model's generation_config.json, or none. */
    public GenerationDefaults generationDefaults() {
        return model == null ? GenerationDefaults.NONE : model.checkpoint().generationDefaults();
    }
    public Tokenizer tokenizer() { return tokenizer; }
    /** The model's default chat template (or the --chat-template override). */
    public ChatTemplate chatTemplate() { return templates.defaultTemplate(); }

    /** The template for a request: the model's tool_use one when the request passes tools and the model has it. */
    public ChatTemplate chatTemplate(boolean hasTools) { return templates.forRequest(hasTools); }
    public EngineClient engine() { return engine; }
    public EngineConfig engineConfig() { return engineConfig; }
    public KvCacheSizing sizing() { return sizing; }
    public ServeOptions options() { return options; }
    Detokenizers detokenizers() { return detokenizers; }
    OutputParsers outputParsers() { return outputParsers; }

    /** Width of the embeddings this model returns (its hidden size). */
    public int hiddenSize() { return model.hiddenSize(); }

    /**
     * How embeddings are pooled: {@code --pooling}, else the GGUF's {@code <arch>.pooling_type}, else
     * mean (what llama.cpp uses for a llama-style model without one).
     */
    public io.chorus.engine.api.Pooling pooling() {
        if (options.pooling() != null) return options.pooling();
        if (model == null) return io.chorus.engine.api.Pooling.MEAN;
        String key = model.config().arch().ggufName + ".pooling_type";
        GgufFile f = model.ggufFile();
        io.chorus.engine.api.Pooling p = f != null && f.has(key) ? io.chorus.engine.api.Pooling.fromGguf(f.getInt(key)) : null;
        return p != null ? p : io.chorus.engine.api.Pooling.MEAN;
    }

    /** What the start-up warm-up did, or null when it was skipped. */
    public Warmup.Result warmup() { return warmup; }
    public int maxModelLen() { return sizing.maxModelLen(); }

    /** The text of a token id, or "" when the vocabulary has none. */
    public String tokenText(int id) {
        return id >= 0 && id < tokenizer.vocabSize() ? tokenizer.tokenPiece(id) : "";
    }

    /** The start-up summary: model, memory and concurrency. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("model %s (%s, %s), weights %s, context %d tokens, %s activations%n", name, path,
                model.config().arch().ggufName, Units.bytes(model.weightBytes()), model.config().contextLength(),
                model.activationPrecision().label()));
        if (model.ropeScaling() != null) sb.append("rope: ").append(model.ropeScaling()).append(System.lineSeparator());
        sb.append(String.format("KV cache: %d blocks x %d tokens = %d tokens (%s, %s), budget %s, %s%n", sizing.numBlocks(),
                sizing.blockSize(), sizing.tokens(), Units.bytes(sizing.bytes()), options.kvCacheDtype().name().toLowerCase(),
                Units.bytes(sizing.budgetBytes()), model.kvCache().reserved()
                        ? "reserved: memory is committed as blocks are written" : "allocated in chunks as blocks are written"));
        OptionalLong resident = ReservedMemory.residentBytes();
        if (resident.isPresent()) sb.append(String.format("resident memory now %s%n", Units.bytes(resident.getAsLong())));
        sb.append(String.format("max-model-len %d: %d full-length requests fit at once; max-num-seqs %d, max-num-batched-tokens %d, prefix caching %s, %d threads",
                sizing.maxModelLen(), sizing.fullLengthConcurrency(), engineConfig.maxNumSeqs(), engineConfig.maxNumBatchedTokens(),
                engineConfig.enablePrefixCaching() ? "on" : "off", backend.threads()));
        if (!sizing.notes().isEmpty()) sb.append(System.lineSeparator()).append("(").append(sizing.notes()).append(")");
        return sb.toString();
    }

    @Override
    public void close() {
        engine.close();
        if (model != null) model.close();
        if (backend != null) backend.close();
    }
}
