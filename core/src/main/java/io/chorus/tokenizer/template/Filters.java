package io.chorus.tokenizer.template;

import io.chorus.tokenizer.template.PyMethods.Args;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja's built-in filters used by chat templates, plus transformers' {@code tojson}. */
final class Filters {
    private Filters() {}

    private static final Set<String> NAMES = Set.of("abs", "attr", "capitalize", "center", "count", "d", "default",
            "dictsort", "e", "escape", "first", "float", "forceescape", "format", "indent", "int", "items", "join",
            "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse",
            "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique",
            "upper", "wordcount");

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static Object apply(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args(name, args, kwargs);
        switch (name) {
            case "abs" -> {
                if (Values.isFloat(v)) return Math.abs(Values.toDouble(v));
                if (Values.isNumber(v)) return Math.abs(Values.toLong(v));
                throw Values.typeError("bad operand type for abs(): '" + Values.typeName(v) + "'");
            }
            case "attr" -> {
                return Access.getAttr(v, a.string(a.get(0, "name", null)));
            }
            case "capitalize" -> {
                return PyStr.capitalize(Values.str(v));
            }
            case "center" -> {
                String s = Values.str(v);
                int width = (int) a.optLong(0, "width", 80);
                int pad = width - PyStr.length(s);
                if (pad <= 0) return s;
                int left = pad / 2 + (pad & width & 1); // Python's centering puts the odd space on the left when width is odd
                return " ".repeat(left) + s + " ".repeat(pad - left);
            }
            case "count", "length" -> {
                return Values.length(v);
            }
            case "d", "default" -> {
                boolean bool = Values.truthy(a.get(1, "boolean", false));
                if (v instanceof Undefined || (bool && !Values.truthy(v))) return a.get(0, "default_value", "");
                return v;
            }
            case "dictsort" -> {
                if (!(v instanceof Map<?, ?> m)) throw Values.typeError("dictsort expects a mapping");
                boolean caseSensitive = Values.truthy(a.get(0, "case_sensitive", false));
                boolean byValue = "value".equals(a.get(1, "by", "key"));
                boolean reverse = Values.truthy(a.get(2, "reverse", false));
                List<Object> pairs = new ArrayList<>();
                for (var e : m.entrySet()) pairs.add(PyMethods.pair(e.getKey(), e.getValue()));
                Comparator<Object> cmp = (x, y) -> Values.compare(
                        sortKey(((List<?>) x).get(byValue ? 1 : 0), caseSensitive),
                        sortKey(((List<?>) y).get(byValue ? 1 : 0), caseSensitive));
                pairs.sort(reverse ? cmp.reversed() : cmp);
                return pairs;
            }
            case "e", "escape", "forceescape" -> {
                return escape(Values.str(v));
            }
            case "first" -> {
                List<Object> items = Values.iterate(v);
                return items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
            }
            case "last" -> {
                List<Object> items = Values.iterate(v);
                return items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.get(items.size() - 1);
            }
            case "float" -> {
                return toFloat(v, a.get(0, "default", 0.0));
            }
            case "int" -> {
                return toInt(v, a.get(0, "default", 0L));
            }
            case "format" -> {
                return percentFormat(Values.str(v), args);
            }
            case "indent" -> {
                return indent(Values.str(v), a.get(0, "width", 4L), Values.truthy(a.get(1, "first", false)),
                        Values.truthy(a.get(2, "blank", false)));
            }
            case "items" -> {
                if (v instanceof Undefined) return new ArrayList<>();
                if (!(v instanceof Map<?, ?> m)) throw Values.typeError("Can only get item pairs from a mapping.");
                List<Object> pairs = new ArrayList<>();
                for (var e : m.entrySet()) pairs.add(PyMethods.pair(e.getKey(), e.getValue()));
                return pairs;
            }
            case "join" -> {
                String sep = Values.str(a.get(0, "d", ""));
                Object attribute = a.get(1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object item : Values.iterate(v)) {
                    if (!first) sb.append(sep);
                    first = false;
                    sb.append(Values.str(attribute == null ? item : attribute(item, attribute)));
                }
                return sb.toString();
            }
            case "list" -> {
                return Values.iterate(v);
            }
            case "lower" -> {
                return PyStr.lower(Values.str(v));
            }
            case "upper" -> {
                return PyStr.upper(Values.str(v));
            }
            case "map" -> {
                return map(v, a, args, kwargs);
            }
            case "max", "min" -> {
                List<Object> items = Values.iterate(v);
                if (items.isEmpty()) return new Undefined("No aggregated item, sequence was empty.");
                boolean caseSensitive = Values.truthy(a.get(0, "case_sensitive", false));
                Object attribute = a.get(1, "attribute", null);
                Object best = items.get(0);
                for (Object item : items) {
                    int c = Values.compare(sortKey(attribute == null ? item : attribute(item, attribute), caseSensitive),
                            sortKey(attribute == null ? best : attribute(best, attribute), caseSensitive));
                    if (name.equals("max") ? c > 0 : c < 0) best = item;
                }
                return best;
            }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(v)) {
                    boolean ok = args.isEmpty() ? Values.truthy(item)
                            : Tests.apply(Values.str(args.get(0)), item, args.subList(1, args.size()));
                    if (ok == name.equals("select")) out.add(item);
                }
                return out;
            }
            case "selectattr", "rejectattr" -> {
                if (args.isEmpty()) throw Values.typeError(name + " needs an attribute name");
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(v)) {
                    Object attr = attribute(item, args.get(0));
                    boolean ok = args.size() < 2 ? Values.truthy(attr)
                            : Tests.apply(Values.str(args.get(1)), attr, args.subList(2, args.size()));
                    if (ok == name.equals("selectattr")) out.add(item);
                }
                return out;
            }
            case "replace" -> {
                return PyStr.replace(Values.str(v), Values.str(a.get(0, "old", "")), Values.str(a.get(1, "new", "")),
                        a.optLong(2, "count", -1));
            }
            case "reverse" -> {
                if (v instanceof String s) return new StringBuilder(s).reverse().toString();
                List<Object> items = Values.iterate(v);
                java.util.Collections.reverse(items);
                return items;
            }
            case "round" -> {
                return round(v, (int) a.optLong(0, "precision", 0), Values.str(a.get(1, "method", "common")));
            }
            case "safe", "string" -> {
                return Values.str(v);
            }
            case "sort" -> {
                boolean reverse = Values.truthy(a.get(0, "reverse", false));
                boolean caseSensitive = Values.truthy(a.get(1, "case_sensitive", false));
                Object attribute = a.get(2, "attribute", null);
                List<Object> items = Values.iterate(v);
                Comparator<Object> cmp = (x, y) -> Values.compare(
                        sortKey(attribute == null ? x : attribute(x, attribute), caseSensitive),
                        sortKey(attribute == null ? y : attribute(y, attribute), caseSensitive));
                items.sort(reverse ? cmp.reversed() : cmp);
                return items;
            }
            case "sum" -> {
                Object attribute = a.get(0, "attribute", null);
                Object total = a.get(1, "start", 0L);
                for (Object item : Values.iterate(v)) {
                    total = Values.binary("+", total, attribute == null ? item : attribute(item, attribute));
                }
                return total;
            }
            case "title" -> {
                return title(Values.str(v));
            }
            case "tojson" -> {
                return tojson(v, a);
            }
            case "trim" -> {
                return PyStr.strip(Values.str(v), a.optString(0, "chars"));
            }
            case "unique" -> {
                boolean caseSensitive = Values.truthy(a.get(0, "case_sensitive", false));
                Object attribute = a.get(1, "attribute", null);
                List<Object> out = new ArrayList<>();
                List<Object> seen = new ArrayList<>();
                Set<Object> seenHashable = new HashSet<>();
                for (Object item : Values.iterate(v)) {
                    Object key = sortKey(attribute == null ? item : attribute(item, attribute), caseSensitive);
                    boolean dup = key instanceof String ? !seenHashable.add(key) : seen.stream().anyMatch(s -> Values.eq(s, key));
                    if (!(key instanceof String)) seen.add(key);
                    if (!dup) out.add(item);
                }
                return out;
            }
            case "wordcount" -> {
                return (long) PyStr.split(Values.str(v), null, -1).size();
            }
            default -> throw new TemplateException("No filter named '" + name + "'", 0);
        }
    }

    /** Jinja's attribute lookup for filters: item first, dotted paths allowed, integer parts as indexes. */
    private static Object attribute(Object item, Object attribute) {
        if (Values.isInt(attribute)) return Access.getItem(item, attribute);
        Object v = item;
        for (String part : Values.str(attribute).split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            v = Access.getItem(v, key);
        }
        return v;
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? PyStr.lower(s) : v;
    }

    private static Object map(Object v, Args a, List<Object> args, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        if (kwargs.containsKey("attribute")) {
            Object attribute = kwargs.get("attribute");
            for (Object item : Values.iterate(v)) {
                Object value = attribute(item, attribute);
                if (value instanceof Undefined && kwargs.containsKey("default")) value = kwargs.get("default");
                out.add(value);
            }
            return out;
        }
        if (args.isEmpty()) throw Values.typeError("map requires a filter name or attribute=");
        String filter = Values.str(args.get(0));
        if (!exists(filter)) throw new TemplateException("No filter named '" + filter + "'", 0);
        for (Object item : Values.iterate(v)) out.add(apply(filter, item, args.subList(1, args.size()), kwargs));
        return out;
    }

    /** transformers: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False). */
    private static String tojson(Object v, Args a) {
        boolean ascii = Values.truthy(a.get(0, "ensure_ascii", false));
        Object indentArg = a.get(1, "indent", null);
        Object separators = a.get(2, "separators", null);
        boolean sortKeys = Values.truthy(a.get(3, "sort_keys", false));
        String indent = null;
        if (indentArg instanceof String s) indent = s;
        else if (indentArg != null) indent = " ".repeat((int) Math.max(0, Values.toLong(indentArg)));
        String itemSep = indent == null ? ", " : ",";
        String keySep = ": ";
        if (separators instanceof List<?> seps && seps.size() == 2) {
            itemSep = Values.str(seps.get(0));
            keySep = Values.str(seps.get(1));
        }
        return Json.dumps(v, indent, itemSep, keySep, ascii, sortKeys);
    }

    /** markupsafe.escape: applied even without autoescape, exactly as Jinja's {@code escape} filter. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '\'' -> sb.append("&#39;");
                case '"' -> sb.append("&#34;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Jinja's title filter: capitalise after spaces, dashes and opening brackets. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean wordStart = true;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            boolean delimiter = PyStr.isSpace(c) || "-({[<".indexOf(c) >= 0;
            if (delimiter) sb.appendCodePoint(c);
            else sb.appendCodePoint(wordStart ? Character.toTitleCase(c) : Character.toLowerCase(c));
            wordStart = delimiter;
        }
        return sb.toString();
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String pad = width instanceof String w ? w : " ".repeat((int) Values.toLong(width));
        List<String> lines = PyStr.splitlines(s + "\n");
        StringBuilder sb = new StringBuilder();
        if (blank) {
            sb.append(String.join("\n" + pad, lines));
        } else {
            sb.append(lines.get(0));
            for (int i = 1; i < lines.size(); i++) {
                sb.append('\n');
                if (!lines.get(i).isEmpty()) sb.append(pad);
                sb.append(lines.get(i));
            }
        }
        return first ? pad + sb : sb.toString();
    }

    private static Object toInt(Object v, Object dflt) {
        if (Values.isInt(v) || v instanceof Boolean) return Values.toLong(v);
        if (Values.isFloat(v)) {
            double d = Values.toDouble(v);
            return Double.isFinite(d) ? (long) d : dflt;
        }
        if (v instanceof String s) {
            String t = PyStr.strip(s, null).replace("_", "");
            try {
                return Long.parseLong(t.startsWith("+") ? t.substring(1) : t);
            } catch (NumberFormatException e) {
                try {
                    double d = Double.parseDouble(t);
                    return Double.isFinite(d) ? (long) d : dflt;
                } catch (NumberFormatException e2) {
                    return dflt;
                }
            }
        }
        return dflt;
    }

    private static Object toFloat(Object v, Object dflt) {
        if (Values.isNumber(v)) return Values.toDouble(v);
        if (v instanceof String s) {
            try {
                return Double.parseDouble(PyStr.strip(s, null));
            } catch (NumberFormatException e) {
                return dflt;
            }
        }
        return dflt;
    }

    private static Object round(Object v, int precision, String method) {
        if ((Values.isInt(v) || v instanceof Boolean) && method.equals("common")) return Values.toLong(v);
        if (!Values.isNumber(v)) throw Values.typeError("round expects a number, not " + Values.typeName(v));
        double d = Values.toDouble(v);
        if (!Double.isFinite(d)) return d;
        RoundingMode mode = switch (method) {
            case "common" -> RoundingMode.HALF_EVEN; // Python's round() on the exact binary value
            case "ceil" -> RoundingMode.CEILING;
            case "floor" -> RoundingMode.FLOOR;
            default -> throw new TemplateException("method must be common, ceil or floor", 0);
        };
        return new BigDecimal(d).setScale(precision, mode).doubleValue();
    }

    /** Python's {@code fmt % args} for %s, %r, %d, %i, %f and %%. */
    private static String percentFormat(String fmt, List<Object> args) {
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char k = fmt.charAt(++i);
            if (k == '%') {
                sb.append('%');
                continue;
            }
            if (next >= args.size()) throw Values.typeError("not enough arguments for format string");
            Object arg = args.get(next++);
            switch (k) {
                case 's' -> sb.append(Values.str(arg));
                case 'r' -> sb.append(Values.repr(arg));
                case 'd', 'i' -> sb.append(Values.isFloat(arg) ? (long) Values.toDouble(arg) : Values.toLong(arg));
                case 'f' -> sb.append(String.format(java.util.Locale.ROOT, "%f", Values.toDouble(arg)));
                default -> throw new TemplateException("format: unsupported conversion %" + k, 0);
            }
        }
        return sb.toString();
    }
}
