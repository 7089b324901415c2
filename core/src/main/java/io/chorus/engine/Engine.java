package io.chorus.engine;

import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.kv.BlockHasher;
import io.chorus.engine.kv.BlockPool;
import io.chorus.engine.kv.KvCacheManager;
import io.chorus.engine.runner.ModelRunner;
import io.chorus.engine.runner.Sampler;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.engine.sched.Scheduler;
import io.chorus.model.ForwardPass;
import io.chorus.structured.StructuredOutput;
import io.chorus.structured.TokenVocabulary;

/**
 * Assembles an engine: block pool, KV cache manager, scheduler and model runner over one model, and
 * the loop that owns them. The only place that knows all the parts; callers keep the
 * {@link EngineClient} it returns.
 */
public final class Engine {
    private Engine() {}

    /** An engine over {@code model} with its loop running on its own thread. */
    public static EngineClient start(EngineConfig config, ForwardPass model) {
        return start(config, model, new TemperatureSampler());
    }

    /** As {@link #start(EngineConfig, ForwardPass)}, choosing tokens with {@code sampler}. */
    public static EngineClient start(EngineConfig config, ForwardPass model, Sampler sampler) {
        return create(config, model, sampler).startThread();
    }

    /**
     * As {@link #start(EngineConfig, ForwardPass, Sampler)}, able to constrain outputs to grammars
     * over the tokens of {@code vocab} (the model's tokenizer); without it a constrained request is refused.
     */
    public static EngineClient start(EngineConfig config, ForwardPass model, Sampler sampler, TokenVocabulary vocab) {
        return create(config, model, sampler, vocab).startThread();
    }

    /** An engine whose loop does not run by itself: tests drive it with {@link EngineLoop#step()}. */
    static EngineLoop create(EngineConfig config, ForwardPass model, Sampler sampler) {
        return create(config, model, sampler, null);
    }

    static EngineLoop create(EngineConfig config, ForwardPass model, Sampler sampler, TokenVocabulary vocab) {
        KvCacheManager kv = new KvCacheManager(new BlockPool(model.numBlocks()), model.blockSize(), config.enablePrefixCaching(),
                BlockHasher.DEFAULT, model.attentionWindow());
        StructuredOutput structured = vocab == null ? null : new StructuredOutput(vocab, model.vocabSize());
        return new EngineLoop(config, new Scheduler(config, kv), new ModelRunner(model, sampler, config.eosTokenIds(), structured));
    }
}
