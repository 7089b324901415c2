package io.chorus.tokenizer.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Attribute access, subscripts and slices with Jinja's rules: {@code x.name} tries a Python
 * attribute (a method such as {@code dict.items}) first and then the item, {@code x['name']} the
 * reverse; anything missing becomes Undefined, except that using Undefined itself fails.
 */
final class Access {
    private Access() {}

    static Object getAttr(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        if (obj instanceof LoopState loop) return loop.attribute(name);
        if (obj instanceof Namespace ns) {
            return ns.attributes.containsKey(name) ? ns.attributes.get(name) : missing(obj, name);
        }
        if (PyMethods.has(obj, name)) return PyMethods.bind(obj, name);
        if (obj instanceof Map<?, ?> map && map.containsKey(name)) return map.get(name);
        return missing(obj, name);
    }

    static Object getItem(Object obj, Object key) {
        if (obj instanceof Undefined u) throw u.error();
        if (obj instanceof Map<?, ?> map) {
            Object k = Values.num(key);
            if (map.containsKey(k)) return map.get(k);
            if (k instanceof Long l && l == l.intValue() && map.containsKey(l.intValue())) return map.get(l.intValue());
        } else if ((obj instanceof List<?> || obj instanceof String) && (Values.isInt(key) || key instanceof Boolean)) {
            long i = Values.toLong(key);
            if (obj instanceof List<?> list) {
                long idx = i < 0 ? i + list.size() : i;
                if (idx >= 0 && idx < list.size()) return list.get((int) idx);
                return new Undefined("'list object' has no element " + i);
            }
            String s = (String) obj;
            int n = PyStr.length(s);
            long idx = i < 0 ? i + n : i;
            if (idx >= 0 && idx < n) {
                int at = s.offsetByCodePoints(0, (int) idx);
                return new String(Character.toChars(s.codePointAt(at)));
            }
            return new Undefined("'str object' has no element " + i);
        }
        if (key instanceof String name) return getAttr(obj, name);
        return new Undefined("'" + Values.typeName(obj) + " object' has no element " + Values.repr(key));
    }

    private static Undefined missing(Object obj, String name) {
        if (PyMethods.isUnsafe(obj, name)) {
            return new Undefined("SecurityError: access to attribute '" + name + "' of '" + Values.typeName(obj) + "' object is unsafe");
        }
        String what = obj == null ? "'None'" : "'" + Values.typeName(obj) + " object'";
        return new Undefined(what + " has no attribute '" + name + "'");
    }

    /** Python {@code seq[start:stop:step]} for lists and strings (strings by code point). */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        if (obj instanceof Undefined u) throw u.error();
        List<Object> items;
        if (obj instanceof String s) items = Values.iterate(s);
        else if (obj instanceof List<?> l) items = new ArrayList<>(l);
        else throw Values.typeError("'" + Values.typeName(obj) + "' object is not subscriptable");
        long n = items.size();
        long st = step == null ? 1 : Values.toLong(step);
        if (st == 0) throw new TemplateException("ValueError: slice step cannot be zero", 0);
        long lower = st > 0 ? 0 : -1;
        long upper = st > 0 ? n : n - 1;
        long a = bound(start, st > 0 ? lower : upper, n, lower, upper);
        long b = bound(stop, st > 0 ? upper : lower, n, lower, upper);
        List<Object> result = new ArrayList<>();
        if (st > 0) {
            for (long i = a; i < b; i += st) result.add(items.get((int) i));
        } else {
            for (long i = a; i > b; i += st) result.add(items.get((int) i));
        }
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            for (Object c : result) sb.append((String) c);
            return sb.toString();
        }
        return result;
    }

    private static long bound(Object v, long dflt, long n, long lower, long upper) {
        if (v == null) return dflt;
        long i = Values.toLong(v);
        if (i < 0) {
            i += n;
            return Math.max(i, lower);
        }
        return Math.min(i, upper);
    }
}
