package io.chorus.tokenizer.template;

/**
 * Jinja2's default {@code Undefined}: renders as "", is falsy and iterates as empty, but using it
 * in arithmetic, attribute access or a call fails with {@link #hint}.
 */
final class Undefined {
    final String hint;

    Undefined(String hint) {
        this.hint = hint;
    }

    static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    TemplateException error() {
        return new TemplateException(hint.startsWith("SecurityError") ? hint : "UndefinedError: " + hint, 0);
    }

    @Override
    public String toString() {
        return "";
    }
}
