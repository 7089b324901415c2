package io.chorus.engine.api;

import java.util.Locale;

/**
 * How an embedding is made from a sequence's final hidden states (after the output norm), as
 * llama.cpp's {@code --pooling}: the mean over its tokens, the last token's, or the first token's
 * (CLS). The pooled vector is then L2-normalised.
 */
public enum Pooling {
    MEAN(1), CLS(2), LAST(3);

    /** llama.cpp's {@code <arch>.pooling_type} value for this pooling. */
    public final int ggufType;

    Pooling(int ggufType) {
        this.ggufType = ggufType;
    }

    public static Pooling parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--pooling must be mean, last or cls, got '" + s + "'");
        }
    }

    /** The pooling a GGUF's {@code <arch>.pooling_type} names, or null for none/unspecified/rank. */
    public static Pooling fromGguf(int type) {
        for (Pooling p : values()) if (p.ggufType == type) return p;
        return null;
    }
}
