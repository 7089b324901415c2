package io.chorus.structured;

import io.chorus.tokenizer.TokenType;
import io.chorus.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * What constrained decoding needs of a tokenizer: the bytes each token adds to the output text, or
 * null for tokens a grammar may never produce (control, unknown and unused tokens, and tokens with
 * no bytes). Byte-level BPE pieces are decoded from GPT-2's byte spelling, SentencePiece '▁' is a
 * space and {@code <0xNN>} tokens are their byte (all as the tokenizer renders them); user-defined
 * tokens such as {@code <tool_call>} count as their text. Immutable.
 */
public final class TokenVocabulary {
    private final byte[][] bytes; // [vocab] null = never allowed by a grammar

    public TokenVocabulary(byte[][] bytes) {
        this.bytes = bytes.clone();
        for (int i = 0; i < this.bytes.length; i++) {
            if (this.bytes[i] != null) {
                this.bytes[i] = this.bytes[i].length == 0 ? null : this.bytes[i].clone();
            }
        }
    }

    public static TokenVocabulary of(Tokenizer t) {
        byte[][] b = new byte[t.vocabSize()][];
        for (int id = 0; id < b.length; id++) {
            int type = t.vocabulary().type(id);
            if (type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.UNUSED) continue;
            b[id] = t.tokenBytes(id);
        }
        return new TokenVocabulary(b);
    }

    public int size() { return bytes.length; }

    /** The token's bytes (do not modify), or null when no grammar may produce it. */
    byte[] bytes(int id) { return id >= 0 && id < bytes.length ? bytes[id] : null; }

    @Override
    public String toString() {
        return "TokenVocabulary[" + bytes.length + " tokens, " + Arrays.stream(bytes).filter(x -> x != null).count() + " usable]";
    }
}
