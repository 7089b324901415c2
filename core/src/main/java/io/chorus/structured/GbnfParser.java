package io.chorus.structured;

import io.chorus.engine.api.InvalidRequestException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses GBNF (llama.cpp's grammar format) into a {@link Grammar}: rules {@code name ::= alternatives},
 * string literals, character classes ({@code [a-z]}, {@code [^"]}), {@code .}, rule references,
 * groups, and the postfix operators {@code * + ? {m} {m,} {m,n}}; {@code #} starts a comment. A rule
 * ends at the end of its line unless a group is open or the next line starts with {@code |}.
 * Start rule: {@code root}. Undefined rules and left recursion (which a stack matcher cannot run)
 * are refused with an {@link InvalidRequestException}.
 *
 * <p>Lowering: a group becomes a new rule; {@code x*} a rule {@code R ::= x R | ε}; {@code x+} is
 * {@code x x*}; {@code x?} a rule {@code R ::= x | ε}; {@code x{m,n}} is m copies of x followed by
 * n - m nested optional copies.
 */
final class GbnfParser {
    /** Most elements a grammar may lower to (repetition counts multiply). */
    static final int MAX_ELEMENTS = 2_000_000;

    private final String src;
    private final String param;
    private int pos;
    private final Map<String, Integer> ruleIds = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<List<List<int[]>>> rules = new ArrayList<>(); // rule -> alternatives -> elements {kind, arg}
    private final List<Boolean> defined = new ArrayList<>();
    private final Map<CharRanges, Integer> classIds = new HashMap<>();
    private final List<CharRanges> classes = new ArrayList<>();
    private int elementCount;

    private GbnfParser(String src, String param) {
        this.src = src;
        this.param = param;
    }

    static Grammar parse(String text, String param) {
        return new GbnfParser(text, param).run();
    }

    private Grammar run() {
        skipSpace(true);
        while (pos < src.length()) {
            String name = name();
            if (name.isEmpty()) throw error("expected a rule name");
            skipSpace(false);
            if (!src.startsWith("::=", pos)) throw error("expected '::=' after rule name '" + name + "'");
            pos += 3;
            skipSpace(true);
            int id = ruleId(name);
            if (defined.get(id)) throw error("rule '" + name + "' is defined twice");
            defined.set(id, true);
            rules.get(id).addAll(alternatives(false));
            skipSpace(true);
        }
        for (int i = 0; i < names.size(); i++) {
            if (!defined.get(i)) throw new InvalidRequestException("grammar rule '" + names.get(i) + "' is used but not defined", param);
        }
        Integer root = ruleIds.get("root");
        if (root == null) throw new InvalidRequestException("the grammar has no 'root' rule", param);
        return flatten(root);
    }

    // ---- syntax ----

    private List<List<int[]>> alternatives(boolean nested) {
        List<List<int[]>> alts = new ArrayList<>();
        alts.add(sequence(nested));
        while (true) {
            int save = pos;
            skipSpace(true);
            if (pos < src.length() && src.charAt(pos) == '|') { // also on a following line: the rule goes on
                pos++;
                skipSpace(true);
                alts.add(sequence(nested));
            } else {
                pos = save;
                return alts;
            }
        }
    }

    private List<int[]> sequence(boolean nested) {
        List<int[]> seq = new ArrayList<>();
        while (true) {
            skipSpace(nested);
            if (pos >= src.length()) break;
            char c = src.charAt(pos);
            if (c == '|' || c == ')' || c == '\n' || c == '\r') break;
            int start = seq.size();
            if (c == '"') {
                pos++;
                while (true) {
                    if (pos >= src.length()) throw error("unterminated string literal");
                    if (src.charAt(pos) == '"') { pos++; break; }
                    int cp = charOrEscape();
                    seq.add(charElement(CharRanges.single(cp)));
                }
            } else if (c == '[') {
                seq.add(charElement(charClass()));
            } else if (c == '.') {
                pos++;
                seq.add(charElement(CharRanges.ALL));
            } else if (c == '(') {
                pos++;
                skipSpace(true);
                List<List<int[]>> inner = alternatives(true);
                skipSpace(true);
                if (pos >= src.length() || src.charAt(pos) != ')') throw error("expected ')'");
                pos++;
                seq.add(ref(synthetic(inner)));
            } else if (isNameChar(c)) {
                String name = name();
                int save = pos;
                skipSpace(false);
                if (src.startsWith("::=", pos)) { // the next rule began: this line's rule ended
                    pos = save - name.length();
                    break;
                }
                pos = save;
                seq.add(ref(ruleId(name)));
            } else {
                throw error("unexpected '" + c + "'");
            }
            postfix(seq, start, nested);
        }
        return seq;
    }

    /** Applies the postfix operators after the item that occupies {@code seq[start..]}. */
    private void postfix(List<int[]> seq, int start, boolean nested) {
        while (true) {
            skipSpace(nested);
            if (pos >= src.length()) return;
            char c = src.charAt(pos);
            if (c != '*' && c != '+' && c != '?' && c != '{') return;
            List<int[]> item = new ArrayList<>(seq.subList(start, seq.size()));
            seq.subList(start, seq.size()).clear();
            if (item.isEmpty()) throw error("nothing to repeat before '" + c + "'");
            if (item.size() > 1) item = List.of(ref(synthetic(List.of(item))));
            int min, max; // max -1: unbounded
            if (c == '{') {
                int close = src.indexOf('}', pos);
                if (close < 0) throw error("unterminated '{'");
                String body = src.substring(pos + 1, close).replace(" ", "");
                pos = close + 1;
                try {
                    int comma = body.indexOf(',');
                    min = Integer.parseInt(comma < 0 ? body : body.substring(0, comma));
                    max = comma < 0 ? min : comma == body.length() - 1 ? -1 : Integer.parseInt(body.substring(comma + 1));
                } catch (NumberFormatException e) {
                    throw error("bad repetition {" + body + "}");
                }
                if (min < 0 || (max >= 0 && max < min)) throw error("bad repetition {" + body + "}");
            } else {
                pos++;
                min = c == '+' ? 1 : 0;
                max = c == '?' ? 1 : -1;
            }
            long grow = (long) item.size() * Math.max(min, max);
            if (elementCount + grow > MAX_ELEMENTS) throw error("the grammar is too large after expanding repetitions");
            for (int i = 0; i < min; i++) seq.addAll(item);
            if (max < 0) {
                int r = newRule("star");
                rules.get(r).add(concat(item, List.of(ref(r))));
                rules.get(r).add(new ArrayList<>());
                seq.add(ref(r));
            } else if (max > min) {
                // opt_k ::= item opt_{k-1} | ε, built from the innermost out.
                int inner = -1;
                for (int k = 0; k < max - min; k++) {
                    int r = newRule("opt");
                    rules.get(r).add(inner < 0 ? new ArrayList<>(item) : concat(item, List.of(ref(inner))));
                    rules.get(r).add(new ArrayList<>());
                    inner = r;
                }
                seq.add(ref(inner));
            }
        }
    }

    private static List<int[]> concat(List<int[]> a, List<int[]> b) {
        List<int[]> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private CharRanges charClass() {
        pos++; // '['
        boolean negate = pos < src.length() && src.charAt(pos) == '^';
        if (negate) pos++;
        List<Integer> pairs = new ArrayList<>();
        while (true) {
            if (pos >= src.length()) throw error("unterminated character class");
            if (src.charAt(pos) == ']') { pos++; break; }
            int lo = charOrEscape(), hi = lo;
            if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
                pos++;
                hi = charOrEscape();
                if (hi < lo) throw error("reversed range in character class");
            }
            pairs.add(lo);
            pairs.add(hi);
        }
        int[] p = pairs.stream().mapToInt(Integer::intValue).toArray();
        CharRanges set = CharRanges.of(p);
        return negate ? set.complement() : set;
    }

    private int charOrEscape() {
        int c = src.codePointAt(pos);
        if (c != '\\') {
            pos += Character.charCount(c);
            return c;
        }
        pos++;
        if (pos >= src.length()) throw error("trailing '\\'");
        char e = src.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'U' -> hex(8);
            case '\\', '"', '[', ']', '-', '^', '/', '.', '(', ')', '|', '*', '+', '?', '{', '}' -> e;
            default -> throw error("unknown escape '\\" + e + "'");
        };
    }

    private int hex(int digits) {
        if (pos + digits > src.length()) throw error("short \\x/\\u escape");
        try {
            int v = Integer.parseInt(src.substring(pos, pos + digits), 16);
            if (v > CharRanges.MAX_CODE_POINT) throw error("code point out of range");
            pos += digits;
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    private String name() {
        int start = pos;
        while (pos < src.length() && isNameChar(src.charAt(pos))) pos++;
        return src.substring(start, pos);
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }

    /** Skips blanks and comments; newlines too when {@code newlines}. */
    private void skipSpace(boolean newlines) {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) pos++;
            else if (c == '#') { while (pos < src.length() && src.charAt(pos) != '\n') pos++; }
            else break;
        }
    }

    // ---- rules ----

    private int ruleId(String name) {
        Integer id = ruleIds.get(name);
        if (id != null) return id;
        int r = names.size();
        ruleIds.put(name, r);
        names.add(name);
        rules.add(new ArrayList<>());
        defined.add(false);
        return r;
    }

    private int newRule(String hint) {
        int r = ruleId("<" + hint + " " + names.size() + ">"); // not a valid rule name: cannot clash
        defined.set(r, true);
        return r;
    }

    private int synthetic(List<List<int[]>> alts) {
        int r = newRule("group");
        rules.get(r).addAll(alts);
        return r;
    }

    private int[] ref(int rule) {
        elementCount++;
        return new int[] {Grammar.REF, rule};
    }

    private int[] charElement(CharRanges set) {
        elementCount++;
        if (elementCount > MAX_ELEMENTS) throw error("the grammar is too large");
        Integer id = classIds.get(set);
        if (id == null) {
            id = classes.size();
            classIds.put(set, id);
            classes.add(set);
        }
        return new int[] {Grammar.CHAR, id};
    }

    private Grammar flatten(int root) {
        int total = 0;
        for (List<List<int[]>> alts : rules) for (List<int[]> a : alts) total += a.size() + 1;
        byte[] kind = new byte[total];
        int[] arg = new int[total];
        int[][] starts = new int[rules.size()][];
        int k = 0;
        for (int r = 0; r < rules.size(); r++) {
            List<List<int[]>> alts = rules.get(r);
            starts[r] = new int[alts.size()];
            for (int a = 0; a < alts.size(); a++) {
                starts[r][a] = k;
                for (int[] e : alts.get(a)) {
                    kind[k] = (byte) e[0];
                    arg[k++] = e[1];
                }
                kind[k++] = Grammar.END;
            }
        }
        Grammar g = new Grammar(kind, arg, classes.toArray(new CharRanges[0]), starts, List.copyOf(names), root);
        checkLeftRecursion(g);
        return g;
    }

    /** Refuses a rule that can reach itself without consuming a character (the matcher would loop). */
    private void checkLeftRecursion(Grammar g) {
        int n = g.alts().length;
        boolean[] nullable = new boolean[n];
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int r = 0; r < n; r++) {
                if (nullable[r]) continue;
                for (int start : g.alts()[r]) {
                    if (prefixNullable(g, nullable, start, Integer.MAX_VALUE)) {
                        nullable[r] = true;
                        changed = true;
                        break;
                    }
                }
            }
        }
        // leads[r]: rules r can start with (after nullable elements).
        List<List<Integer>> leads = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            List<Integer> l = new ArrayList<>();
            for (int start : g.alts()[r]) {
                for (int p = start; g.kind()[p] != Grammar.END; p++) {
                    if (g.kind()[p] == Grammar.CHAR) break;
                    l.add(g.arg()[p]);
                    if (!nullable[g.arg()[p]]) break;
                }
            }
            leads.add(l);
        }
        int[] color = new int[n]; // 0 new, 1 on the path, 2 done
        for (int r = 0; r < n; r++) if (color[r] == 0) visit(r, leads, color, g);
    }

    private void visit(int start, List<List<Integer>> leads, int[] color, Grammar g) {
        // Iterative DFS: deep rule chains (long repetitions) must not overflow the Java stack.
        int n = color.length;
        int[] stack = new int[n + 1];
        int[] next = new int[n + 1];
        int sp = 0;
        stack[0] = start;
        next[0] = 0;
        color[start] = 1;
        while (sp >= 0) {
            int r = stack[sp];
            List<Integer> l = leads.get(r);
            if (next[sp] < l.size()) {
                int s = l.get(next[sp]++);
                if (color[s] == 1) {
                    throw new InvalidRequestException("the grammar is left-recursive at rule '" + shown(g, s)
                            + "' (a rule that can reach itself without matching a character)", param);
                }
                if (color[s] == 0) {
                    color[s] = 1;
                    stack[++sp] = s;
                    next[sp] = 0;
                }
            } else {
                color[r] = 2;
                sp--;
            }
        }
    }

    private static String shown(Grammar g, int rule) {
        return g.names().get(rule);
    }

    private static boolean prefixNullable(Grammar g, boolean[] nullable, int start, int limit) {
        for (int p = start; g.kind()[p] != Grammar.END; p++) {
            if (g.kind()[p] == Grammar.CHAR || !nullable[g.arg()[p]]) return false;
        }
        return true;
    }

    private InvalidRequestException error(String what) {
        int line = 1, col = 1;
        for (int i = 0; i < Math.min(pos, src.length()); i++) {
            if (src.charAt(i) == '\n') { line++; col = 1; } else col++;
        }
        return new InvalidRequestException("grammar error at line " + line + ", column " + col + ": " + what, param);
    }
}
