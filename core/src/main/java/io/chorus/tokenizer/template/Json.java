package io.chorus.tokenizer.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Python's {@code json.dumps}, which transformers installs as the {@code tojson} filter. */
final class Json {
    private Json() {}

    /**
     * @param indent null for single-line output, otherwise the per-level indent string
     * @param itemSep separator between items (", " single-line, "," when indented, unless given)
     * @param keySep separator between key and value
     */
    static String dumps(Object value, String indent, String itemSep, String keySep, boolean ensureAscii, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, itemSep, keySep, ensureAscii, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, String indent, String itemSep, String keySep,
            boolean ascii, boolean sortKeys, int depth) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (Values.isInt(v)) {
            sb.append(v);
        } else if (Values.isFloat(v)) {
            double d = Values.toDouble(v);
            sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Values.floatRepr(d));
        } else if (v instanceof String s) {
            string(sb, s, ascii);
        } else if (v instanceof List<?> list) {
            if (list.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(itemSep);
                newline(sb, indent, depth + 1);
                write(sb, list.get(i), indent, itemSep, keySep, ascii, sortKeys, depth + 1);
            }
            newline(sb, indent, depth);
            sb.append(']');
        } else if (v instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) entries.sort((x, y) -> Values.compare(x.getKey(), y.getKey()));
            sb.append('{');
            boolean first = true;
            for (var e : entries) {
                if (!first) sb.append(itemSep);
                first = false;
                newline(sb, indent, depth + 1);
                string(sb, key(e.getKey()), ascii);
                sb.append(keySep);
                write(sb, e.getValue(), indent, itemSep, keySep, ascii, sortKeys, depth + 1);
            }
            newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof Namespace || v instanceof Undefined || v instanceof Callable || v instanceof LoopState) {
            throw Values.typeError("Object of type " + Values.typeName(v) + " is not JSON serializable");
        } else {
            string(sb, v.toString(), ascii);
        }
    }

    /** json.dumps turns int, float, bool and None keys into strings. */
    private static String key(Object k) {
        if (k instanceof String s) return s;
        if (k == null) return "null";
        if (k instanceof Boolean b) return b ? "true" : "false";
        if (Values.isFloat(k)) return Values.floatRepr(Values.toDouble(k));
        if (Values.isInt(k)) return k.toString();
        throw Values.typeError("keys must be str, int, float, bool or None, not " + Values.typeName(k));
    }

    private static void newline(StringBuilder sb, String indent, int depth) {
        if (indent == null) return;
        sb.append('\n');
        for (int i = 0; i < depth; i++) sb.append(indent);
    }

    private static void string(StringBuilder sb, String s, boolean ascii) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
