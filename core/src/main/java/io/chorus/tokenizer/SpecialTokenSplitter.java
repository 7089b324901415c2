package io.chorus.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Cuts the text of special tokens out of input text before ordinary tokenization, as llama.cpp's
 * {@code tokenizer_st_partition} does: tokens are tried longest text first, each one splitting every
 * remaining text fragment at all its occurrences. User-defined tokens are always recognised (Hugging
 * Face treats added tokens that way); control and unknown tokens only when special parsing is allowed.
 */
final class SpecialTokenSplitter {
    /** A piece of input: either a special token id, or text (token == -1) still to be tokenized. */
    record Fragment(int token, String text) {
        boolean isText() { return token < 0; }
    }

    private final Vocabulary vocab;
    private final int[] candidates; // special token ids, longest text first

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        this.candidates = IntStream.range(0, vocab.size())
                .filter(id -> vocab.isPartitioned(id) && !vocab.piece(id).isEmpty())
                .boxed()
                .sorted(Comparator.<Integer>comparingInt(id -> -vocab.piece(id).length()).thenComparingInt(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> frags = new ArrayList<>();
        frags.add(new Fragment(-1, text));
        for (int id : candidates) {
            int type = vocab.type(id);
            if (!parseSpecial && (type == TokenType.CONTROL || type == TokenType.UNKNOWN)) continue;
            String tok = vocab.piece(id);
            if (!text.contains(tok)) continue; // cheap filter: a token absent from the input is absent from every fragment
            List<Fragment> next = new ArrayList<>(frags.size() + 4);
            for (Fragment f : frags) {
                if (!f.isText()) { next.add(f); continue; }
                String s = f.text();
                int pos = 0;
                int at;
                while ((at = s.indexOf(tok, pos)) >= 0) {
                    if (at > pos) next.add(new Fragment(-1, s.substring(pos, at)));
                    next.add(new Fragment(id, null));
                    pos = at + tok.length();
                    if (vocab.rstrip[id]) {
                        while (pos < s.length() && isCSpace(s.charAt(pos))) pos++;
                    }
                }
                if (pos < s.length()) next.add(new Fragment(-1, pos == 0 ? s : s.substring(pos)));
            }
            frags = next;
        }
        return frags;
    }

    /** C's isspace, which llama.cpp uses for the whitespace stripped around special tokens. */
    private static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
