package io.chorus.tokenizer.template;

/** One lexer token; {@code value} is the text (already unescaped for strings). */
record Token(Kind kind, String value, int line) {
    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    boolean is(Kind k, String v) {
        return kind == k && value.equals(v);
    }

    boolean isName(String v) {
        return is(Kind.NAME, v);
    }

    boolean isOp(String v) {
        return is(Kind.OP, v);
    }
}
