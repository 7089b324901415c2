package io.chorus.server;

import io.chorus.engine.KvCacheSizing;
import io.chorus.engine.Engine;
import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.model.Model;
import io.chorus.tensor.WorkerPool;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tokenizer.template.ChatTemplate;
import io.chorus.tokenizer.template.ChatTemplates;
import io.chorus.tokenizer.template.TemplateException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    private final WorkerPool pool;
    private final Model model;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final EngineClient engine;
    private final EngineConfig engineConfig;
    private final KvCacheSizing sizing;
    private final ServeOptions options;

    private LoadedModel(String name, Path path, boolean demo, WorkerPool pool, Model model, Tokenizer tokenizer,
                        ChatTemplate chatTemplate, EngineClient engine, EngineConfig engineConfig, KvCacheSizing sizing,
                        ServeOptions options) {
        this.name = name;
        this.path = path;
        this.demo = demo;
        this.pool = pool;
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.engine = engine;
        this.engineConfig = engineConfig;
        this.sizing = sizing;
        this.options = options;
    }

    /** Loads the model (or the demo model), sizes the KV cache and starts the engine. */
    public static LoadedModel load(ServeOptions o) {
        boolean demo = o.model() == null;
        Path path = demo ? DemoModel.ensure() : o.model();
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("model file not found: " + path);
        WorkerPool pool = new WorkerPool(o.threads() != null ? o.threads() : WorkerPool.defaultThreads());
        Model model = null;
        try {
            model = Model.load(path, pool);
            Tokenizer tokenizer = Tokenizer.fromGguf(model.file());
            ChatTemplate template = chatTemplate(o.chatTemplate(), model.file().getString("tokenizer.chat_template", null));
            KvCacheSizing sizing = KvCacheSizing.compute(model.weightBytes(), model.kvBytesPerBlock(o.blockSize(), o.kvCacheDtype()),
                    o.blockSize(), model.config().contextLength(), o.maxModelLen(), o.kvCacheMemory(), o.memoryUtilization(),
                    KvCacheSizing.availableMemory(), o.maxNumSeqs());
            model.allocateKvCache(sizing.numBlocks(), sizing.blockSize(), o.kvCacheDtype(), sizing.maxModelLen());
            List<Integer> eos = new ArrayList<>();
            for (int id = 0; id < tokenizer.vocabSize(); id++) if (tokenizer.isEog(id)) eos.add(id);
            EngineConfig config = new EngineConfig(o.maxNumSeqs(), o.maxNumBatchedTokens(), sizing.maxModelLen(),
                    o.enablePrefixCaching(), o.schedulingPolicy(), eos);
            EngineClient engine = Engine.start(config, model);
            String name = o.servedModelName() != null ? o.servedModelName() : demo ? "chorus-demo" : path.getFileName().toString();
            return new LoadedModel(name, path, demo, pool, model, tokenizer, template, engine, config, sizing, o);
        } catch (RuntimeException e) {
            if (model != null) model.close();
            pool.close();
            throw e;
        }
    }

    /** Wraps an engine that is not over a loaded {@link Model} (tests drive the server with a scripted engine). */
    static LoadedModel of(String name, Path path, Tokenizer tokenizer, ChatTemplate template, EngineClient engine,
                          EngineConfig config, KvCacheSizing sizing, ServeOptions options) {
        return new LoadedModel(name, path, false, null, null, tokenizer, template, engine, config, sizing, options);
    }

    private static ChatTemplate chatTemplate(Path override, String fromModel) {
        String source;
        if (override != null) {
            try {
                source = Files.readString(override);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --chat-template " + override + ": " + e.getMessage(), e);
            }
        } else if (fromModel != null && !fromModel.isBlank()) {
            source = fromModel;
        } else {
            LOG.warning("the model has no chat template (tokenizer.chat_template); using ChatML. Pass --chat-template FILE to choose one.");
            source = ChatTemplates.CHATML;
        }
        try {
            return ChatTemplate.compile(source);
        } catch (TemplateException e) {
            if (override != null) throw new IllegalArgumentException("--chat-template " + override + ": " + e.getMessage(), e);
            LOG.warning("the model's chat template does not compile (" + e.getMessage() + "); using ChatML");
            return ChatTemplate.compile(ChatTemplates.CHATML);
        }
    }

    public String name() { return name; }
    public Path path() { return path; }
    public boolean demo() { return demo; }
    public Model model() { return model; }
    public Tokenizer tokenizer() { return tokenizer; }
    public ChatTemplate chatTemplate() { return chatTemplate; }
    public EngineClient engine() { return engine; }
    public EngineConfig engineConfig() { return engineConfig; }
    public KvCacheSizing sizing() { return sizing; }
    public ServeOptions options() { return options; }
    public int maxModelLen() { return sizing.maxModelLen(); }

    /** The text of a token id, or "" when the vocabulary has none. */
    public String tokenText(int id) {
        return id >= 0 && id < tokenizer.vocabSize() ? tokenizer.tokenPiece(id) : "";
    }

    /** The start-up summary: model, memory and concurrency. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("model %s (%s, %s), weights %s, context %d tokens%n", name, path,
                model.config().arch().ggufName, Units.bytes(model.weightBytes()), model.config().contextLength()));
        sb.append(String.format("KV cache: %d blocks x %d tokens = %d tokens (%s, %s), budget %s%n", sizing.numBlocks(),
                sizing.blockSize(), sizing.tokens(), Units.bytes(sizing.bytes()), options.kvCacheDtype().name().toLowerCase(),
                Units.bytes(sizing.budgetBytes())));
        sb.append(String.format("max-model-len %d: %d full-length requests fit at once; max-num-seqs %d, max-num-batched-tokens %d, prefix caching %s, %d threads",
                sizing.maxModelLen(), sizing.fullLengthConcurrency(), engineConfig.maxNumSeqs(), engineConfig.maxNumBatchedTokens(),
                engineConfig.enablePrefixCaching() ? "on" : "off", pool.threads()));
        if (!sizing.notes().isEmpty()) sb.append(System.lineSeparator()).append("(").append(sizing.notes()).append(")");
        return sb.toString();
    }

    @Override
    public void close() {
        engine.close();
        if (model != null) model.close();
        if (pool != null) pool.close();
    }
}
