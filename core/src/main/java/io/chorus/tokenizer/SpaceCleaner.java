package io.chorus.tokenizer;

/**
 * The "clean up tokenization spaces" step llama.cpp applies when detokenizing vocabularies that ask for
 * it (GPT-2, Llama 3, Falcon and other byte-level BPE pre-tokenizers): a space before {@code ? ! . ,}
 * is dropped, {@code " ' "} becomes {@code "'"}, and a space before {@code 's 'm 're 've} is dropped.
 * It deletes only spaces and decides by looking a few characters ahead, which lets
 * {@link StreamingDetokenizer} apply it piecewise (see {@link #safeCut}).
 */
final class SpaceCleaner {
    private SpaceCleaner() {}

    static String clean(String s) {
        if (s.isEmpty()) return s;
        return pass3(pass2(pass1(s)));
    }

    /** Drops a space followed by ? ! . or , */
    private static String pass1(String t) {
        StringBuilder o = new StringBuilder(t.length());
        int n = t.length();
        for (int i = 0; i < n; i++) {
            char x = t.charAt(i);
            if (x == ' ' && i + 1 < n) {
                char y = t.charAt(i + 1);
                if (y == '?' || y == '!' || y == '.' || y == ',') continue;
            }
            o.append(x);
        }
        return o.toString();
    }

    /** Replaces " ' " by "'", scanning left to right; a space consumed by one match cannot start the next. */
    private static String pass2(String t) {
        int n = t.length();
        if (n == 0) return t;
        StringBuilder o = new StringBuilder(n);
        o.append(t.charAt(0));
        int consumed = -1;
        for (int i = 1; i < n; i++) {
            char x = t.charAt(i);
            if (x == '\'' && i + 1 < n && i - 1 != consumed && t.charAt(i - 1) == ' ' && t.charAt(i + 1) == ' ') {
                o.setLength(o.length() - 1);
                o.append(x);
                consumed = ++i;
                continue;
            }
            o.append(x);
        }
        return o.toString();
    }

    /** Drops a space before 's, 'm, 're and 've. */
    private static String pass3(String t) {
        int n = t.length();
        if (n == 0) return t;
        StringBuilder o = new StringBuilder(n);
        o.append(t.charAt(0));
        for (int i = 1; i < n; i++) {
            char x = t.charAt(i);
            if (x == '\'' && t.charAt(i - 1) == ' ' && i + 1 < n) {
                char x1 = t.charAt(i + 1);
                boolean drop = x1 == 's' || x1 == 'm';
                if (!drop && i + 2 < n) {
                    char x2 = t.charAt(i + 2);
                    drop = (x1 == 'r' || x1 == 'v') && x2 == 'e';
                }
                if (drop) o.setLength(o.length() - 1);
            }
            o.append(x);
        }
        return o.toString();
    }

    /**
     * The largest p with {@code clean(t) == clean(t[0,p)) + clean(t[p,))} for every continuation of t.
     * Every rewrite deletes a space and decides by looking forward from it, at most three kept
     * characters (" 're"); so a cut is safe after a character that is never deleted (not a space) and
     * cannot be the middle of a pending pattern: not an apostrophe (" '" + "s"), and not r or v, which
     * after an apostrophe still wait for their "e".
     */
    static int safeCut(CharSequence t) {
        for (int p = t.length(); p >= 1; p--) {
            char c = t.charAt(p - 1);
            if (c != ' ' && c != '\'' && c != 'r' && c != 'v') return p;
        }
        return 0;
    }
}
