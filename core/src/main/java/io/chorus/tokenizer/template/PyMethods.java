package io.chorus.tokenizer.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Python methods of str, dict and list that chat templates call. Methods that would mutate a
 * value (list.append, dict.update...) are absent, as in Jinja's ImmutableSandboxedEnvironment.
 */
final class PyMethods {
    private PyMethods() {}

    private static final Set<String> STR = Set.of("strip", "lstrip", "rstrip", "startswith", "endswith", "split",
            "rsplit", "replace", "lower", "upper", "title", "capitalize", "find", "rfind", "index", "rindex", "count",
            "join", "format", "splitlines", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper");
    private static final Set<String> DICT = Set.of("items", "keys", "values", "get");
    private static final Set<String> LIST = Set.of("index", "count");
    private static final Set<String> UNSAFE = Set.of("append", "extend", "insert", "pop", "remove", "clear", "sort",
            "reverse", "update", "setdefault", "popitem");

    static boolean has(Object obj, String name) {
        if (obj instanceof String) return STR.contains(name);
        if (obj instanceof Map<?, ?>) return DICT.contains(name);
        if (obj instanceof List<?>) return LIST.contains(name);
        return false;
    }

    static boolean isUnsafe(Object obj, String name) {
        return (obj instanceof Map<?, ?> || obj instanceof List<?>) && UNSAFE.contains(name);
    }

    static Callable bind(Object self, String name) {
        return (args, kwargs) -> {
            Args a = new Args(name, args, kwargs);
            return switch (self) {
                case String s -> str(s, name, a);
                case Map<?, ?> m -> dict(m, name, a);
                case List<?> l -> list(l, name, a);
                default -> throw new IllegalStateException();
            };
        };
    }

    private static Object str(String s, String name, Args a) {
        switch (name) {
            case "strip" -> {
                return PyStr.strip(s, a.optString(0, "chars"));
            }
            case "lstrip" -> {
                return PyStr.lstrip(s, a.optString(0, "chars"));
            }
            case "rstrip" -> {
                return PyStr.rstrip(s, a.optString(0, "chars"));
            }
            case "startswith", "endswith" -> {
                Object prefix = a.get(0, "prefix", null);
                List<Object> options = prefix instanceof List<?> l ? new ArrayList<>(l) : List.of(a.string(prefix));
                for (Object p : options) {
                    String ps = a.string(p);
                    if (name.equals("startswith") ? s.startsWith(ps) : s.endsWith(ps)) return true;
                }
                return false;
            }
            case "split" -> {
                return PyStr.split(s, a.optString(0, "sep"), a.optLong(1, "maxsplit", -1));
            }
            case "rsplit" -> {
                return PyStr.rsplit(s, a.optString(0, "sep"), a.optLong(1, "maxsplit", -1));
            }
            case "splitlines" -> {
                return new ArrayList<Object>(PyStr.splitlines(s));
            }
            case "replace" -> {
                return PyStr.replace(s, a.string(a.get(0, "old", null)), a.string(a.get(1, "new", null)),
                        a.optLong(2, "count", -1));
            }
            case "lower" -> {
                return PyStr.lower(s);
            }
            case "upper" -> {
                return PyStr.upper(s);
            }
            case "title" -> {
                return PyStr.title(s);
            }
            case "capitalize" -> {
                return PyStr.capitalize(s);
            }
            case "find", "index" -> {
                int i = s.indexOf(a.string(a.get(0, "sub", null)));
                if (i < 0 && name.equals("index")) throw new TemplateException("ValueError: substring not found", 0);
                return (long) PyStr.cpIndex(s, i);
            }
            case "rfind", "rindex" -> {
                int i = s.lastIndexOf(a.string(a.get(0, "sub", null)));
                if (i < 0 && name.equals("rindex")) throw new TemplateException("ValueError: substring not found", 0);
                return (long) PyStr.cpIndex(s, i);
            }
            case "count" -> {
                String sub = a.string(a.get(0, "sub", null));
                if (sub.isEmpty()) return (long) PyStr.length(s) + 1;
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
                return n;
            }
            case "join" -> {
                StringBuilder sb = new StringBuilder();
                List<Object> items = Values.iterate(a.get(0, "iterable", null));
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(s);
                    if (!(items.get(i) instanceof String item)) {
                        throw Values.typeError("sequence item " + i + ": expected str instance, "
                                + Values.typeName(items.get(i)) + " found");
                    }
                    sb.append(item);
                }
                return sb.toString();
            }
            case "format" -> {
                return format(s, a);
            }
            default -> {
                return predicate(s, name);
            }
        }
    }

    private static boolean predicate(String s, String name) {
        if (s.isEmpty()) return false;
        boolean anyCased = false;
        for (int c : s.codePoints().toArray()) {
            boolean ok = switch (name) {
                case "isdigit" -> Character.isDigit(c);
                case "isalpha" -> Character.isLetter(c);
                case "isalnum" -> Character.isLetterOrDigit(c);
                case "isspace" -> PyStr.isSpace(c);
                case "islower" -> !Character.isUpperCase(c) && !Character.isTitleCase(c);
                case "isupper" -> !Character.isLowerCase(c) && !Character.isTitleCase(c);
                default -> throw new IllegalStateException(name);
            };
            if (!ok) return false;
            if (Character.isUpperCase(c) || Character.isLowerCase(c)) anyCased = true;
        }
        return !(name.equals("islower") || name.equals("isupper")) || anyCased;
    }

    /** str.format with {}, {0} and {name} fields (no format specs). */
    private static String format(String s, Args a) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                sb.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                sb.append('}');
                i++;
            } else if (c == '{') {
                int end = s.indexOf('}', i);
                if (end < 0) throw new TemplateException("ValueError: Single '{' encountered in format string", 0);
                String field = s.substring(i + 1, end);
                if (field.contains(":") || field.contains("!")) {
                    throw new TemplateException("str.format: format specs are not supported", 0);
                }
                Object v;
                if (field.isEmpty()) v = a.positional(auto++);
                else if (field.chars().allMatch(Character::isDigit)) v = a.positional(Integer.parseInt(field));
                else v = a.keyword(field);
                sb.append(Values.str(v));
                i = end;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static Object dict(Map<?, ?> m, String name, Args a) {
        switch (name) {
            case "items" -> {
                List<Object> pairs = new ArrayList<>();
                for (var e : m.entrySet()) pairs.add(pair(e.getKey(), e.getValue()));
                return pairs;
            }
            case "keys" -> {
                return new ArrayList<Object>(m.keySet());
            }
            case "values" -> {
                return new ArrayList<Object>(m.values());
            }
            default -> {
                Object key = Values.num(a.get(0, "key", null));
                return m.containsKey(key) ? m.get(key) : a.get(1, "default", null);
            }
        }
    }

    /** A (key, value) tuple; List.of would reject None values. */
    static List<Object> pair(Object key, Object value) {
        return new PyTuple(key, value);
    }

    private static Object list(List<?> l, String name, Args a) {
        Object x = a.get(0, "value", null);
        if (name.equals("count")) {
            long n = 0;
            for (Object item : l) if (Values.eq(item, x)) n++;
            return n;
        }
        for (int i = 0; i < l.size(); i++) if (Values.eq(l.get(i), x)) return (long) i;
        throw new TemplateException("ValueError: " + Values.repr(x) + " is not in list", 0);
    }

    /** Positional/keyword argument access for methods and filters. */
    static final class Args {
        private final String fn;
        private final List<Object> args;
        private final Map<String, Object> kwargs;

        Args(String fn, List<Object> args, Map<String, Object> kwargs) {
            this.fn = fn;
            this.args = args;
            this.kwargs = kwargs;
        }

        Object get(int index, String name, Object dflt) {
            if (index >= 0 && index < args.size()) return args.get(index);
            if (kwargs.containsKey(name)) return kwargs.get(name);
            return dflt;
        }

        boolean has(int index, String name) {
            return (index >= 0 && index < args.size()) || kwargs.containsKey(name);
        }

        Object positional(int i) {
            if (i >= args.size()) throw new TemplateException("IndexError: " + fn + ": not enough arguments", 0);
            return args.get(i);
        }

        Object keyword(String name) {
            if (!kwargs.containsKey(name)) throw new TemplateException("KeyError: '" + name + "'", 0);
            return kwargs.get(name);
        }

        String optString(int index, String name) {
            Object v = get(index, name, null);
            return v == null ? null : string(v);
        }

        long optLong(int index, String name, long dflt) {
            Object v = get(index, name, null);
            if (v == null) return dflt;
            if (!(Values.isInt(v) || v instanceof Boolean)) {
                throw Values.typeError(fn + "(): '" + Values.typeName(v) + "' object cannot be interpreted as an integer");
            }
            return Values.toLong(v);
        }

        String string(Object v) {
            if (v instanceof String s) return s;
            throw Values.typeError(fn + "() argument must be str, not " + Values.typeName(v));
        }
    }
}
