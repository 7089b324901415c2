package io.chorus.tokenizer.template;

import java.util.ArrayList;
import java.util.List;

/** Python {@code str} behaviour that Java's String does not share (whitespace set, split, title...). */
final class PyStr {
    private PyStr() {}

    /** Python's str.isspace for one char (Unicode whitespace, including NBSP and U+0085). */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85 || (c >= 0x1c && c <= 0x1f);
    }

    static boolean isAllSpace(String s, int from) {
        for (int i = from; i < s.length(); i++) if (!isSpace(s.charAt(i))) return false;
        return true;
    }

    private static boolean strips(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    static String strip(String s, String chars) {
        return lstrip(rstrip(s, chars), chars);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            if (!strips(c, chars)) break;
            i += Character.charCount(c);
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int i = s.length();
        while (i > 0) {
            int c = s.codePointBefore(i);
            if (!strips(c, chars)) break;
            i -= Character.charCount(c);
        }
        return s.substring(0, i);
    }

    /** str.split(sep, maxsplit); sep == null splits on runs of whitespace and drops empty parts. */
    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.charAt(i))) i++;
                if (i >= n) break;
                if (maxsplit >= 0 && parts.size() == maxsplit) {
                    parts.add(rstrip(s.substring(i), null));
                    break;
                }
                int j = i;
                while (j < n && !isSpace(s.charAt(j))) j++;
                parts.add(s.substring(i, j));
                i = j;
            }
            return parts;
        }
        if (sep.isEmpty()) throw new TemplateException("ValueError: empty separator", 0);
        int i = 0;
        while (maxsplit < 0 || parts.size() < maxsplit) {
            int j = s.indexOf(sep, i);
            if (j < 0) break;
            parts.add(s.substring(i, j));
            i = j + sep.length();
        }
        parts.add(s.substring(i));
        return parts;
    }

    /** str.rsplit(sep, maxsplit). */
    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (maxsplit < 0) return split(s, sep, -1);
        List<Object> parts = new ArrayList<>();
        if (sep == null) {
            int j = s.length();
            while (true) {
                while (j > 0 && isSpace(s.charAt(j - 1))) j--;
                if (j <= 0) break;
                if (parts.size() == maxsplit) {
                    parts.add(lstrip(s.substring(0, j), null));
                    break;
                }
                int i = j;
                while (i > 0 && !isSpace(s.charAt(i - 1))) i--;
                parts.add(s.substring(i, j));
                j = i;
            }
        } else {
            if (sep.isEmpty()) throw new TemplateException("ValueError: empty separator", 0);
            int j = s.length();
            while (parts.size() < maxsplit) {
                int i = s.lastIndexOf(sep, j - sep.length());
                if (i < 0 || j - sep.length() < 0) break;
                parts.add(s.substring(i + sep.length(), j));
                j = i;
            }
            parts.add(s.substring(0, j));
        }
        java.util.Collections.reverse(parts);
        return parts;
    }

    /** str.splitlines() without keepends, using Python's set of line boundaries. */
    static List<String> splitlines(String s) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            boolean br = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e)
                    || c == 0x85 || c == 0x2028 || c == 0x2029;
            if (!br) {
                i++;
                continue;
            }
            lines.add(s.substring(start, i));
            i += c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1;
            start = i;
        }
        if (start < s.length()) lines.add(s.substring(start));
        return lines;
    }

    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new String(Character.toChars(Character.toTitleCase(first))) + lower(s.substring(n));
    }

    /** Python str.title(): uppercase after any non-cased character, lowercase elsewhere. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            sb.appendCodePoint(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            prevCased = cased;
        }
        return sb.toString();
    }

    static String lower(String s) {
        return s.toLowerCase(java.util.Locale.ROOT);
    }

    static String upper(String s) {
        return s.toUpperCase(java.util.Locale.ROOT);
    }

    static String replace(String s, String old, String repl, long count) {
        if (count < 0) {
            if (old.isEmpty()) {
                StringBuilder sb = new StringBuilder(repl);
                s.codePoints().forEach(c -> sb.appendCodePoint(c).append(repl));
                return sb.toString();
            }
            return s.replace(old, repl);
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        long done = 0;
        while (done < count) {
            int j = s.indexOf(old, i);
            if (j < 0 || old.isEmpty()) break;
            sb.append(s, i, j).append(repl);
            i = j + old.length();
            done++;
        }
        return sb.append(s.substring(i)).toString();
    }

    /** Code point count, which is what Python's len() means for str. */
    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /** Character index (in code points) of a UTF-16 index. */
    static int cpIndex(String s, int utf16Index) {
        return utf16Index < 0 ? utf16Index : s.codePointCount(0, utf16Index);
    }

    /** Python repr() of a string. */
    static String repr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        s.codePoints().forEach(c -> {
            if (c == q || c == '\\') sb.append('\\').appendCodePoint(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", c));
            else sb.appendCodePoint(c);
        });
        return sb.append(q).toString();
    }
}
