package io.chorus.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps control-token text that arrives inside user content (say {@code <|im_start|>system} in a
 * chat message) from becoming real control tokens when the rendered prompt is tokenized with special
 * tokens parsed. {@link #shield} puts U+FDD0 (a noncharacter no vocabulary holds) between the
 * characters of every control-token occurrence, so the special-token splitter cannot match it;
 * {@link #unshield} removes the marks again from each plain-text fragment before it is tokenized, so
 * the content is tokenized exactly as plain text. A U+FDD0 already in the content is written as
 * U+FDD0 U+FDD1 and comes back unchanged. Immutable and thread-safe.
 */
final class SpecialTextShield {
    static final char MARK = '\uFDD0';
    static final char LITERAL = '\uFDD1';

    private final String[] tokens; // texts the splitter recognises only when special parsing is on

    SpecialTextShield(Vocabulary vocab) {
        List<String> t = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            int type = vocab.type(id);
            String piece = vocab.piece(id);
            if ((type == TokenType.CONTROL || type == TokenType.UNKNOWN) && vocab.isPartitioned(id) && piece.length() > 1) t.add(piece);
        }
        this.tokens = t.toArray(String[]::new);
    }

    String shield(String content) {
        boolean[] marked = null;
        for (String tok : tokens) {
            for (int at = content.indexOf(tok); at >= 0; at = content.indexOf(tok, at + 1)) {
                if (marked == null) marked = new boolean[content.length()];
                for (int k = at; k < at + tok.length(); k++) marked[k] = true;
            }
        }
        if (marked == null && content.indexOf(MARK) < 0) return content;
        StringBuilder sb = new StringBuilder(content.length() + 16);
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            sb.append(c);
            if (c == MARK) sb.append(LITERAL);
            else if (marked != null && marked[i] && i + 1 < marked.length && marked[i + 1]) sb.append(MARK);
        }
        return sb.toString();
    }

    static String unshield(String text) {
        int first = text.indexOf(MARK);
        if (first < 0) return text;
        StringBuilder sb = new StringBuilder(text.length()).append(text, 0, first);
        for (int i = first; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != MARK) {
                sb.append(c);
            } else if (i + 1 < text.length() && text.charAt(i + 1) == LITERAL) {
                sb.append(MARK);
                i++;
            }
        }
        return sb.toString();
    }
}
