package io.chorus.tokenizer;

/**
 * Token types as stored in {@code tokenizer.ggml.token_type} (the SentencePiece numbering llama.cpp
 * uses). A vocabulary without a type array treats every token as {@link #NORMAL}.
 */
public final class TokenType {
    private TokenType() {}

    public static final int UNDEFINED = 0;
    public static final int NORMAL = 1;
    public static final int UNKNOWN = 2;
    public static final int CONTROL = 3;
    public static final int USER_DEFINED = 4;
    public static final int UNUSED = 5;
    public static final int BYTE = 6;
}
