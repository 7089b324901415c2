package io.chorus.tokenizer.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for the plain Java values templates see: None is null, int is Long (Integer etc.
 * accepted), float is Double, str is String, list is List, dict is Map.
 */
final class Values {
    private Values() {}

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger;
    }

    static boolean isFloat(Object v) {
        return v instanceof Double || v instanceof Float || v instanceof BigDecimal;
    }

    /** int, float or bool (bool is an int subclass in Python). */
    static boolean isNumber(Object v) {
        return isInt(v) || isFloat(v) || v instanceof Boolean;
    }

    static long toLong(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        return ((Number) v).longValue();
    }

    static double toDouble(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        return ((Number) v).doubleValue();
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (isFloat(v)) return toDouble(v) != 0;
        if (isNumber(v)) return toLong(v) != 0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof Collection<?> c) return !c.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    /** Python str(). */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        if (v instanceof LoopState) return "<LoopContext>";
        return repr(v);
    }

    /** Python repr(), used for values nested inside lists and dicts. */
    static String repr(Object v) {
        if (v == null) return "None";
        if (v instanceof String s) return PyStr.repr(s);
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (isInt(v)) return v.toString();
        if (isFloat(v)) return floatRepr(toDouble(v));
        if (v instanceof Undefined) return "";
        if (v instanceof PyTuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) sb.append(", ");
                sb.append(repr(t.get(i)));
            }
            return sb.append(t.size() == 1 ? ",)" : ")").toString();
        }
        if (v instanceof List<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(", ");
                sb.append(repr(list.get(i)));
            }
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (var e : map.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
            }
            return sb.append('}').toString();
        }
        return v.toString();
    }

    /** Python's repr(float): shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exponent >= 16 || exponent < -4) {
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String exp = (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
            return sign + mant + "e" + exp;
        }
        String plain = bd.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    /** Python == (numbers compare across int/float/bool; containers element-wise). */
    static boolean eq(Object a, Object b) {
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) {
            if (isFloat(a) || isFloat(b)) return toDouble(a) == toDouble(b);
            return toLong(a) == toLong(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!eq(x.get(i), y.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (var e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        return a.equals(b);
    }

    /** Python ordering for <, <=, >, >=; a TypeError for mismatched types. */
    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (isFloat(a) || isFloat(b)) return Double.compare(toDouble(a), toDouble(b));
            return Long.compare(toLong(a), toLong(b));
        }
        if (a instanceof String x && b instanceof String y) return compareCodePoints(x, y);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) return compare(x.get(i), y.get(i));
            }
            return Integer.compare(x.size(), y.size());
        }
        throw typeError("'<' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    private static int compareCodePoints(String x, String y) {
        Iterator<Integer> i = x.codePoints().iterator();
        Iterator<Integer> j = y.codePoints().iterator();
        while (i.hasNext() && j.hasNext()) {
            int c = Integer.compare(i.next(), j.next());
            if (c != 0) return c;
        }
        return Boolean.compare(i.hasNext(), j.hasNext());
    }

    static String typeName(Object v) {
        if (v == null) return "NoneType";
        if (v instanceof Boolean) return "bool";
        if (isInt(v)) return "int";
        if (isFloat(v)) return "float";
        if (v instanceof String) return "str";
        if (v instanceof PyTuple) return "tuple";
        if (v instanceof List<?>) return "list";
        if (v instanceof Map<?, ?>) return "dict";
        if (v instanceof Undefined) return "Undefined";
        if (v instanceof Namespace) return "Namespace";
        if (v instanceof Callable) return "function";
        return v.getClass().getSimpleName();
    }

    static TemplateException typeError(String message) {
        return new TemplateException("TypeError: " + message, 0);
    }

    /** Python iteration: list items, dict keys, string characters; Undefined iterates as empty. */
    static List<Object> iterate(Object v) {
        if (v instanceof Undefined) return List.of();
        if (v instanceof List<?> list) return new ArrayList<>(list);
        if (v instanceof Map<?, ?> map) return new ArrayList<>(map.keySet());
        if (v instanceof String s) {
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
            return chars;
        }
        if (v instanceof Collection<?> c) return new ArrayList<>(c);
        throw typeError("'" + typeName(v) + "' object is not iterable");
    }

    static long length(Object v) {
        if (v instanceof String s) return PyStr.length(s);
        if (v instanceof Collection<?> c) return c.size();
        if (v instanceof Map<?, ?> m) return m.size();
        if (v instanceof Undefined) return 0;
        throw typeError("object of type '" + typeName(v) + "' has no len()");
    }

    /** Python {@code needle in haystack}. */
    static boolean contains(Object haystack, Object needle) {
        if (haystack instanceof String s) {
            if (!(needle instanceof String n)) {
                throw typeError("'in <string>' requires string as left operand, not " + typeName(needle));
            }
            return s.contains(n);
        }
        if (haystack instanceof Map<?, ?> m) {
            if (m.containsKey(needle)) return true;
            for (Object k : m.keySet()) if (eq(k, needle)) return true;
            return false;
        }
        if (haystack instanceof Undefined) return false;
        for (Object item : iterate(haystack)) if (eq(item, needle)) return true;
        return false;
    }

    /** Normalises a number result: whole int types become Long. */
    static Object num(Object v) {
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Float f) return f.doubleValue();
        return v;
    }

    static Object binary(String op, Object a, Object b) {
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        if (isNumber(a) && isNumber(b)) return arithmetic(op, a, b);
        switch (op) {
            case "+" -> {
                if (a instanceof String x && b instanceof String y) return x + y;
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> r = new ArrayList<>(x);
                    r.addAll(y);
                    return r;
                }
                if (a instanceof String) throw typeError("can only concatenate str (not \"" + typeName(b) + "\") to str");
                if (a instanceof List<?>) throw typeError("can only concatenate list (not \"" + typeName(b) + "\") to list");
            }
            case "*" -> {
                if (isInt(b) || b instanceof Boolean) return repeat(a, toLong(b));
                if (isInt(a) || a instanceof Boolean) return repeat(b, toLong(a));
            }
            default -> {}
        }
        throw typeError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    private static Object repeat(Object seq, long times) {
        if (seq instanceof String s) return times <= 0 ? "" : s.repeat((int) times);
        if (seq instanceof List<?> l) {
            List<Object> r = new ArrayList<>();
            for (long i = 0; i < times; i++) r.addAll(l);
            return r;
        }
        throw typeError("can't multiply sequence by non-int of type '" + typeName(seq) + "'");
    }

    private static Object arithmetic(String op, Object a, Object b) {
        boolean floats = isFloat(a) || isFloat(b);
        if (op.equals("/")) {
            double y = toDouble(b);
            if (y == 0) throw new TemplateException("ZeroDivisionError: division by zero", 0);
            return toDouble(a) / y;
        }
        if (floats) {
            double x = toDouble(a);
            double y = toDouble(b);
            return switch (op) {
                case "+" -> x + y;
                case "-" -> x - y;
                case "*" -> x * y;
                case "**" -> Math.pow(x, y);
                case "//" -> {
                    if (y == 0) throw new TemplateException("ZeroDivisionError: float floor division by zero", 0);
                    yield Math.floor(x / y);
                }
                case "%" -> {
                    if (y == 0) throw new TemplateException("ZeroDivisionError: float modulo", 0);
                    double r = x % y;
                    yield r != 0 && (r < 0) != (y < 0) ? r + y : r;
                }
                default -> throw new IllegalStateException(op);
            };
        }
        long x = toLong(a);
        long y = toLong(b);
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "**" -> {
                if (y < 0) yield Math.pow(x, y); // a negative exponent gives a float in Python
                yield BigInteger.valueOf(x).pow((int) y).longValue();
            }
            case "//" -> {
                if (y == 0) throw new TemplateException("ZeroDivisionError: integer division or modulo by zero", 0);
                yield Math.floorDiv(x, y);
            }
            case "%" -> {
                if (y == 0) throw new TemplateException("ZeroDivisionError: integer modulo by zero", 0);
                yield Math.floorMod(x, y);
            }
            default -> throw new IllegalStateException(op);
        };
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (isFloat(v)) return -toDouble(v);
        if (isNumber(v)) return -toLong(v);
        throw typeError("bad operand type for unary -: '" + typeName(v) + "'");
    }
}
