package io.chorus.structured;

import io.chorus.engine.api.InvalidRequestException;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates a regular expression into one GBNF expression that matches exactly the strings the
 * expression matches as a whole (anchors are implicit; a leading {@code ^} and trailing {@code $}
 * are accepted and ignored). Supported: literals and escapes, {@code .}, character classes with
 * ranges and negation, {@code \d \w \s} and their negations, groups ({@code (...)}, {@code (?:...)},
 * {@code (?<name>...)}), alternation and the quantifiers {@code ? * + {m} {m,} {m,n}} (lazy forms
 * match the same strings). Anything else (backreferences, lookaround, word boundaries, Unicode
 * properties, anchors inside) is refused with an {@link InvalidRequestException} naming it.
 *
 * <p>In JSON-string mode the expression describes the string's characters and the GBNF describes
 * the JSON text that encodes them: {@code "} and {@code \} and control characters appear as their
 * JSON escapes, so the value stays a valid JSON string whose decoded text matches the pattern.
 */
public final class RegexGbnf {
    private static final int MAX_REPEAT = 1000;
    private static final CharRanges DIGIT = CharRanges.of('0', '9');
    private static final CharRanges WORD = CharRanges.of('a', 'z', 'A', 'Z', '0', '9', '_', '_');
    private static final CharRanges SPACE = CharRanges.of(' ', ' ', '\t', '\r');  // \t \n \v \f \r and space
    private static final CharRanges JSON_RAW_UNSAFE = CharRanges.of(0, 0x1F, '"', '"', '\\', '\\');

    private final String re;
    private final boolean jsonString;
    private final String param;
    private int pos;

    private RegexGbnf(String re, boolean jsonString, String param) {
        this.re = re;
        this.jsonString = jsonString;
        this.param = param;
    }

    /** The GBNF expression for the text that {@code regex} matches. */
    public static String expression(String regex, String param) {
        return new RegexGbnf(regex, false, param).translate();
    }

    /** The GBNF expression for the inside of a JSON string (between the quotes) whose value {@code regex} matches. */
    public static String jsonStringContent(String regex, String param) {
        return new RegexGbnf(regex, true, param).translate();
    }

    private String translate() {
        if (re.startsWith("^")) pos = 1;
        String out = alternation();
        if (pos < re.length() && re.charAt(pos) == '$' && pos == re.length() - 1) pos++;
        if (pos < re.length()) {
            char c = re.charAt(pos);
            throw unsupported(c == ')' ? "an unmatched ')'" : "'" + c + "' at position " + pos);
        }
        return out.isEmpty() ? "\"\"" : out;
    }

    private String alternation() {
        List<String> alts = new ArrayList<>();
        alts.add(sequence());
        while (pos < re.length() && re.charAt(pos) == '|') {
            pos++;
            alts.add(sequence());
        }
        if (alts.size() == 1) return alts.get(0);
        List<String> shown = new ArrayList<>();
        for (String a : alts) shown.add(a.isEmpty() ? "\"\"" : a);
        return "(" + String.join(" | ", shown) + ")";
    }

    private String sequence() {
        List<String> parts = new ArrayList<>();
        while (pos < re.length()) {
            char c = re.charAt(pos);
            if (c == '|' || c == ')') break;
            if (c == '$' && pos == re.length() - 1) break;
            String atom = atom();
            parts.add(quantified(atom));
        }
        return String.join(" ", parts);
    }

    private String quantified(String atom) {
        if (pos >= re.length()) return atom;
        char c = re.charAt(pos);
        String q;
        if (c == '?' || c == '*' || c == '+') {
            pos++;
            q = String.valueOf(c);
        } else if (c == '{' && isRepeat()) {
            int close = re.indexOf('}', pos);
            String body = re.substring(pos + 1, close);
            pos = close + 1;
            int comma = body.indexOf(',');
            int min = Integer.parseInt(comma < 0 ? body : body.substring(0, comma));
            Integer max = comma < 0 ? Integer.valueOf(min) : comma == body.length() - 1 ? null : Integer.parseInt(body.substring(comma + 1));
            if (min > MAX_REPEAT || (max != null && max > MAX_REPEAT)) throw unsupported("a repeat count above " + MAX_REPEAT);
            if (max != null && max < min) throw unsupported("the repeat {" + body + "} (max below min)");
            q = "{" + body + "}";
        } else {
            return atom;
        }
        if (pos < re.length() && re.charAt(pos) == '?') pos++; // lazy: same strings
        else if (pos < re.length() && re.charAt(pos) == '+') throw unsupported("possessive quantifiers");
        return "(" + atom + ")" + q;
    }

    private boolean isRepeat() {
        int close = re.indexOf('}', pos);
        return close > pos + 1 && re.substring(pos + 1, close).matches("\\d+(,\\d*)?");
    }

    private String atom() {
        char c = re.charAt(pos);
        switch (c) {
            case '(' -> {
                pos++;
                if (re.startsWith("?:", pos)) pos += 2;
                else if (re.startsWith("?<", pos) && pos + 2 < re.length() && re.charAt(pos + 2) != '=' && re.charAt(pos + 2) != '!') {
                    int close = re.indexOf('>', pos);
                    if (close < 0) throw unsupported("an unterminated group name");
                    pos = close + 1;
                } else if (re.startsWith("?P<", pos)) {
                    int close = re.indexOf('>', pos);
                    if (close < 0) throw unsupported("an unterminated group name");
                    pos = close + 1;
                } else if (re.startsWith("?", pos)) {
                    throw unsupported(re.startsWith("?=", pos) || re.startsWith("?!", pos) || re.startsWith("?<", pos)
                            ? "lookaround assertions" : "the group syntax '(" + re.substring(pos, Math.min(re.length(), pos + 2)) + "'");
                }
                String inner = alternation();
                if (pos >= re.length() || re.charAt(pos) != ')') throw unsupported("an unclosed '('");
                pos++;
                return "(" + (inner.isEmpty() ? "\"\"" : inner) + ")";
            }
            case '[' -> {
                return chars(charClass());
            }
            case '.' -> {
                pos++;
                return chars(CharRanges.single('\n').complement());
            }
            case '\\' -> {
                return escape();
            }
            case '^', '$' -> throw unsupported("the anchor '" + c + "' inside the expression");
            case '*', '+', '?' -> throw unsupported("a quantifier '" + c + "' with nothing to repeat");
            default -> {
                int cp = re.codePointAt(pos);
                pos += Character.charCount(cp);
                return chars(CharRanges.single(cp));
            }
        }
    }

    private String escape() {
        pos++;
        if (pos >= re.length()) throw unsupported("a trailing '\\'");
        char e = re.charAt(pos);
        if (e >= '1' && e <= '9') throw unsupported("backreferences");
        if (e == 'b' || e == 'B') throw unsupported("word boundaries (\\" + e + ")");
        if (e == 'A' || e == 'z' || e == 'Z' || e == 'G') throw unsupported("the anchor \\" + e);
        if (e == 'p' || e == 'P') throw unsupported("Unicode properties (\\" + e + ")");
        CharRanges r = classEscape();
        return chars(r);
    }

    /** After a '\\' (pos at the escaped character): the set it stands for; advances past it. */
    private CharRanges classEscape() {
        char e = re.charAt(pos++);
        return switch (e) {
            case 'd' -> DIGIT;
            case 'D' -> DIGIT.complement();
            case 'w' -> WORD;
            case 'W' -> WORD.complement();
            case 's' -> SPACE;
            case 'S' -> SPACE.complement();
            case 'n' -> CharRanges.single('\n');
            case 't' -> CharRanges.single('\t');
            case 'r' -> CharRanges.single('\r');
            case 'f' -> CharRanges.single('\f');
            case 'v' -> CharRanges.single(0x0B);
            case '0' -> CharRanges.single(0);
            case 'x' -> CharRanges.single(hex(2));
            case 'u' -> CharRanges.single(hex(4));
            default -> {
                if (Character.isLetterOrDigit(e)) throw unsupported("the escape \\" + e);
                yield CharRanges.single(e);
            }
        };
    }

    private int hex(int digits) {
        if (pos + digits > re.length()) throw unsupported("a short hex escape");
        try {
            int v = Integer.parseInt(re.substring(pos, pos + digits), 16);
            pos += digits;
            return v;
        } catch (NumberFormatException ex) {
            throw unsupported("the hex escape '" + re.substring(pos, pos + digits) + "'");
        }
    }

    private CharRanges charClass() {
        pos++; // '['
        boolean negate = pos < re.length() && re.charAt(pos) == '^';
        if (negate) pos++;
        CharRanges set = CharRanges.NONE;
        boolean first = true;
        while (true) {
            if (pos >= re.length()) throw unsupported("an unclosed '['");
            char c = re.charAt(pos);
            if (c == ']' && !first) {
                pos++;
                break;
            }
            first = false;
            if (c == '[' && pos + 1 < re.length() && re.charAt(pos + 1) == ':') throw unsupported("POSIX classes ([:name:])");
            int lo;
            if (c == '\\') {
                pos++;
                if (pos >= re.length()) throw unsupported("a trailing '\\'");
                char e = re.charAt(pos);
                if ("dDwWsS".indexOf(e) >= 0) {
                    set = set.union(classEscape());
                    continue;
                }
                if (e == 'b') { pos++; lo = '\b'; }
                else {
                    CharRanges r = classEscape();
                    lo = r.lo(0);
                }
            } else {
                lo = re.codePointAt(pos);
                pos += Character.charCount(lo);
            }
            int hi = lo;
            if (pos + 1 < re.length() && re.charAt(pos) == '-' && re.charAt(pos + 1) != ']') {
                pos++;
                if (re.charAt(pos) == '\\') {
                    pos++;
                    CharRanges r = classEscape();
                    if (r.rangeCount() != 1 || r.lo(0) != r.hi(0)) throw unsupported("a class escape as a range end");
                    hi = r.lo(0);
                } else {
                    hi = re.codePointAt(pos);
                    pos += Character.charCount(hi);
                }
                if (hi < lo) throw unsupported("the reversed range " + new String(Character.toChars(lo)) + "-" + new String(Character.toChars(hi)));
            }
            set = set.union(CharRanges.of(lo, hi));
        }
        return negate ? set.complement() : set;
    }

    /** A character set as GBNF: a class, and in JSON-string mode the escaped forms of the characters JSON cannot hold raw. */
    private String chars(CharRanges set) {
        if (!jsonString) return single(set);
        List<String> alts = new ArrayList<>();
        CharRanges raw = set.minus(JSON_RAW_UNSAFE);
        if (!raw.isEmpty()) alts.add(single(raw));
        for (int c = 0; c <= 0x1F; c++) if (set.contains(c)) alts.add(Gbnf.literal(jsonEscape(c)));
        if (set.contains('"')) alts.add(Gbnf.literal("\\\""));
        if (set.contains('\\')) alts.add(Gbnf.literal("\\\\"));
        if (alts.isEmpty()) return Gbnf.charClass(CharRanges.NONE);
        return alts.size() == 1 ? alts.get(0) : "(" + String.join(" | ", alts) + ")";
    }

    private static String single(CharRanges set) {
        if (set.rangeCount() == 1 && set.lo(0) == set.hi(0)) return Gbnf.literal(new String(Character.toChars(set.lo(0))));
        return Gbnf.charClass(set);
    }

    static String jsonEscape(int c) {
        return switch (c) {
            case '\n' -> "\\n";
            case '\t' -> "\\t";
            case '\r' -> "\\r";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            default -> String.format("\\u%04x", c);
        };
    }

    private InvalidRequestException unsupported(String what) {
        return new InvalidRequestException("unsupported regular expression feature: " + what + " in /" + re + "/", param);
    }
}
