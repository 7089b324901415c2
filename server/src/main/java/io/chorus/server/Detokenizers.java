package io.chorus.server;

import io.chorus.engine.api.SamplingParams;
import io.chorus.tokenizer.StreamingDetokenizer;
import io.chorus.tokenizer.Tokenizer;

/** Where each completion gets its incremental detokenizer: the model's tokenizer, or a test's stand-in. */
@FunctionalInterface
interface Detokenizers {
    /** Turns one completion's token ids into text as they come. */
    interface Stream {
        String push(int tokenId);

        String flush();
    }

    Stream open(SamplingParams params);

    static Detokenizers of(Tokenizer tokenizer) {
        return params -> {
            StreamingDetokenizer d = tokenizer.streamingDetokenizer(params.skipSpecialTokens());
            return new Stream() {
                @Override
                public String push(int tokenId) { return d.push(tokenId); }

                @Override
                public String flush() { return d.flush(); }
            };
        };
    }
}
