package io.chorus.structured;

/**
 * Writing GBNF text (llama.cpp's grammar syntax): string literals and character classes with every
 * character that could be misread escaped, so generated grammars parse back to exactly the intended
 * characters.
 */
final class Gbnf {
    private Gbnf() {}

    /** {@code s} as a GBNF string literal; the empty string is {@code ""}. */
    static String literal(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(c -> appendEscaped(b, c, c == '"'));
        return b.append('"').toString();
    }

    /** The set as a GBNF character class ({@code [a-z0-9]}); an empty set is a class nothing matches. */
    static String charClass(CharRanges r) {
        if (r.isEmpty()) return "[^\\x00-\\U0010FFFF]";
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < r.rangeCount(); i++) {
            appendClassChar(b, r.lo(i));
            if (r.hi(i) != r.lo(i)) {
                b.append('-');
                appendClassChar(b, r.hi(i));
            }
        }
        return b.append(']').toString();
    }

    private static void appendClassChar(StringBuilder b, int c) {
        appendEscaped(b, c, c == ']' || c == '[' || c == '-' || c == '^');
    }

    private static void appendEscaped(StringBuilder b, int c, boolean special) {
        if (c == '\\') b.append("\\\\");
        else if (special) b.append('\\').appendCodePoint(c);
        else if (c == '\n') b.append("\\n");
        else if (c == '\r') b.append("\\r");
        else if (c == '\t') b.append("\\t");
        else if (c < 0x20 || c == 0x7F) b.append(String.format("\\x%02X", c));
        else if (c >= 0xD800 && c <= 0xDFFF) b.append(String.format("\\u%04X", c));
        else b.appendCodePoint(c);
    }

    /** Whether {@code name} is a valid rule name: letters, digits and '-'. */
    static boolean isRuleName(String name) {
        if (name == null || name.isEmpty()) return false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')) return false;
        }
        return true;
    }
}
