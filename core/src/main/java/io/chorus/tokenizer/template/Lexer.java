package io.chorus.tokenizer.template;

import io.chorus.tokenizer.template.Token.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits template source into tokens the way Jinja2's lexer does with {@code trim_blocks=True}
 * and {@code lstrip_blocks=True}: text between tags, tag delimiters, and expression tokens inside
 * tags. Whitespace control ({@code -}/{@code +} signs, trim and lstrip) is applied here so the
 * parser sees final text.
 */
final class Lexer {
    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%([-+]?)\\s*raw\\s*(?:-%}\\s*|%})");
    private static final Pattern RAW_END =
            Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(?:\\+%}|-%}\\s*|%}\\n?)");
    private static final Pattern FLOAT =
            Pattern.compile("(?:\\d+_)*\\d+(?:(?:\\.(?:\\d+_)*\\d+)?[eE][+\\-]?(?:\\d+_)*\\d+|\\.(?:\\d+_)*\\d+)");
    private static final Pattern INT = Pattern.compile("(?:\\d+_)*\\d+");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}", ";"
    };

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    /** Jinja's {@code line_starting}: the previous match ended with a newline. */
    private boolean lineStarting = true;

    private Lexer(String source) {
        this.src = source;
    }

    static List<Token> tokenize(String source) {
        // Jinja normalises newlines and (keep_trailing_newline=False) drops one trailing newline.
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        Lexer lx = new Lexer(s);
        lx.run();
        return lx.out;
    }

    private void run() {
        int n = src.length();
        while (pos < n) {
            int tag = nextTag(pos);
            if (tag < 0) {
                emitText(src.substring(pos));
                break;
            }
            String text = src.substring(pos, tag);
            char kind = src.charAt(tag + 1);
            Matcher raw = kind == '%' ? RAW_BEGIN.matcher(src).region(tag, n) : null;
            if (raw != null && raw.lookingAt()) {
                emitText(stripBefore(text, raw.group(1), true));
                pos = raw.end();
                lexRaw();
                continue;
            }
            char sign = tag + 2 < n ? src.charAt(tag + 2) : 0;
            String signStr = sign == '-' || sign == '+' ? String.valueOf(sign) : "";
            emitText(stripBefore(text, signStr, kind != '{'));
            pos = tag + 2 + signStr.length();
            lineStarting = false;
            switch (kind) {
                case '#' -> lexComment();
                case '%' -> lexTag(Kind.BLOCK_BEGIN, Kind.BLOCK_END, "%}");
                default -> lexTag(Kind.VAR_BEGIN, Kind.VAR_END, "}}");
            }
        }
        out.add(new Token(Kind.EOF, "", line));
    }

    private int nextTag(int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    /** Applies {@code -} (strip all whitespace) or lstrip_blocks to the text before a tag. */
    private String stripBefore(String text, String sign, boolean blockOrComment) {
        if (sign.equals("-")) return PyStr.rstrip(text, null);
        if (sign.equals("+") || !blockOrComment) return text;
        int lpos = text.lastIndexOf('\n') + 1;
        if ((lpos > 0 || lineStarting) && lpos < text.length() && PyStr.isAllSpace(text, lpos)) {
            return text.substring(0, lpos);
        }
        return text;
    }

    private void emitText(String text) {
        if (!text.isEmpty()) out.add(new Token(Kind.TEXT, text, line));
        line += count(text, '\n');
    }

    private void lexComment() {
        int end = src.indexOf("#}", pos);
        if (end < 0) throw new TemplateException("Missing end of comment tag", line);
        char sign = end - 1 >= pos ? src.charAt(end - 1) : 0;
        int after = end + 2;
        if (sign == '-') {
            after = skipWhitespace(after);
        } else if (sign != '+') {
            if (after < src.length() && src.charAt(after) == '\n') after++;
        }
        line += count(src.substring(pos, after), '\n');
        lineStarting = after > 0 && src.charAt(after - 1) == '\n';
        pos = after;
    }

    private void lexRaw() {
        Matcher end = RAW_END.matcher(src).region(pos, src.length());
        if (!end.find()) throw new TemplateException("Missing end of raw directive", line);
        lineStarting = pos > 0 && src.charAt(pos - 1) == '\n';
        emitText(stripBefore(src.substring(pos, end.start()), end.group(1), true));
        line += count(end.group(), '\n');
        pos = end.end();
        lineStarting = src.charAt(pos - 1) == '\n';
    }

    private void lexTag(Kind begin, Kind endKind, String close) {
        out.add(new Token(begin, "", line));
        int depth = 0;
        int n = src.length();
        while (true) {
            if (pos >= n) throw new TemplateException("Unexpected end of template; missing '" + close + "'", line);
            if (depth == 0) {
                int end = matchTagEnd(close);
                if (end >= 0) {
                    line += count(src.substring(pos, end), '\n');
                    out.add(new Token(endKind, "", line));
                    lineStarting = src.charAt(end - 1) == '\n';
                    pos = end;
                    return;
                }
            }
            char c = src.charAt(pos);
            if (PyStr.isSpace(c)) {
                if (c == '\n') line++;
                pos++;
                continue;
            }
            Matcher m;
            if ((m = FLOAT.matcher(src).region(pos, n)).lookingAt() && !precededByDot()) {
                add(Kind.FLOAT, m.group().replace("_", ""), m.end());
            } else if ((m = INT.matcher(src).region(pos, n)).lookingAt()) {
                add(Kind.INT, m.group().replace("_", ""), m.end());
            } else if ((m = NAME.matcher(src).region(pos, n)).lookingAt()) {
                add(Kind.NAME, m.group(), m.end());
            } else if (c == '\'' || c == '"') {
                lexString(c);
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) throw new TemplateException("Unexpected char '" + c + "'", line);
                if (op.equals("(") || op.equals("[") || op.equals("{")) depth++;
                if (op.equals(")") || op.equals("]") || op.equals("}")) {
                    if (depth == 0) throw new TemplateException("Unexpected '" + op + "'", line);
                    depth--;
                }
                add(Kind.OP, op, pos + op.length());
            }
        }
    }

    private boolean precededByDot() {
        // "x.0.1" is attribute access, not a float (Jinja's float rule has a (?<!\.) lookbehind)
        return pos > 0 && src.charAt(pos - 1) == '.';
    }

    /** Position after the tag end at {@link #pos} (with whitespace control applied), or -1. */
    private int matchTagEnd(String close) {
        boolean block = close.equals("%}");
        if (block && src.startsWith("+" + close, pos)) return pos + 3;
        if (src.startsWith("-" + close, pos)) return skipWhitespace(pos + 3);
        if (src.startsWith(close, pos)) {
            int end = pos + 2;
            if (block && end < src.length() && src.charAt(end) == '\n') end++;
            return end;
        }
        return -1;
    }

    private int skipWhitespace(int i) {
        while (i < src.length() && PyStr.isSpace(src.charAt(i))) i++;
        return i;
    }

    private void add(Kind kind, String value, int end) {
        out.add(new Token(kind, value, line));
        pos = end;
    }

    private void lexString(char quote) {
        int startLine = line;
        StringBuilder sb = new StringBuilder();
        int i = pos + 1;
        while (true) {
            if (i >= src.length()) throw new TemplateException("Unterminated string literal", startLine);
            char c = src.charAt(i);
            if (c == quote) break;
            if (c == '\n') line++;
            if (c != '\\' || i + 1 >= src.length()) {
                sb.append(c);
                i++;
                continue;
            }
            char e = src.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    int j = i - 1;
                    int end = j;
                    while (end < src.length() && end < j + 3 && src.charAt(end) >= '0' && src.charAt(end) <= '7') end++;
                    sb.appendCodePoint(Integer.parseInt(src.substring(j, end), 8));
                    i = end;
                }
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + len > src.length()) throw new TemplateException("Bad escape in string literal", line);
                    sb.appendCodePoint(Integer.parseInt(src.substring(i, i + len), 16));
                    i += len;
                }
                case '\n' -> line++; // backslash-newline is a line continuation
                default -> sb.append('\\').append(e);
            }
        }
        out.add(new Token(Kind.STRING, sb.toString(), startLine));
        pos = i + 1;
    }

    private static int count(String s, char c) {
        int k = 0;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) == c) k++;
        return k;
    }
}
