package io.chorus.server;

import io.chorus.engine.api.SamplingParams;
import io.chorus.tokenizer.StreamingDetokenizer;
import io.chorus.tokenizer.Tokenizer;
import java.util.function.IntPredicate;

/** Where each completion gets its incremental detokenizer: the model's tokenizer, or a test's stand-in. */
interface Detokenizers {
    /** Turns one completion's token ids into text as they come. */
    interface Stream {
        String push(int tokenId);

        String flush();
    }

    Stream open(SamplingParams params);

    /**
     * As {@link #open(SamplingParams)}, rendering the tokens {@code alwaysRender} accepts even when
     * special tokens are skipped (the markers an output parser reads). A stand-in that renders
     * everything as text may ignore it.
     */
    default Stream open(SamplingParams params, IntPredicate alwaysRender) {
        return open(params);
    }

    static Detokenizers of(Tokenizer tokenizer) {
        return new Detokenizers() {
            @Override
            public Stream open(SamplingParams params) {
                return open(params, id -> false);
            }

            @Override
            public Stream open(SamplingParams params, IntPredicate alwaysRender) {
                StreamingDetokenizer d = tokenizer.streamingDetokenizer(params.skipSpecialTokens(), alwaysRender);
                return new Stream() {
                    @Override
                    public String push(int tokenId) { return d.push(tokenId); }

                    @Override
                    public String flush() { return d.flush(); }
                };
            }
        };
    }
}
