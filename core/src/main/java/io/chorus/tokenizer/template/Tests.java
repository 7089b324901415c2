package io.chorus.tokenizer.template;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja tests ({@code x is name(args)}). */
final class Tests {
    private Tests() {}

    private static final Set<String> NAMES = Set.of("defined", "undefined", "none", "string", "mapping", "iterable",
            "sequence", "number", "integer", "float", "boolean", "true", "false", "callable", "equalto", "eq", "==",
            "ne", "!=", "lt", "<", "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "in", "odd", "even",
            "divisibleby", "lower", "upper", "sameas", "escaped", "filter", "test");

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static boolean apply(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "mapping" -> v instanceof Map<?, ?>;
            case "iterable" -> v instanceof String || v instanceof List<?> || v instanceof Map<?, ?> || v instanceof Undefined;
            case "sequence" -> v instanceof String || v instanceof List<?> || v instanceof Map<?, ?>;
            case "number" -> Values.isNumber(v);
            case "integer" -> Values.isInt(v);
            case "float" -> Values.isFloat(v);
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "callable" -> v instanceof Callable;
            case "equalto", "eq", "==" -> Values.eq(v, arg(name, args));
            case "ne", "!=" -> !Values.eq(v, arg(name, args));
            case "lt", "<", "lessthan" -> Values.compare(v, arg(name, args)) < 0;
            case "le", "<=" -> Values.compare(v, arg(name, args)) <= 0;
            case "gt", ">", "greaterthan" -> Values.compare(v, arg(name, args)) > 0;
            case "ge", ">=" -> Values.compare(v, arg(name, args)) >= 0;
            case "in" -> Values.contains(arg(name, args), v);
            case "odd" -> Math.floorMod(integer(name, v), 2) == 1;
            case "even" -> Math.floorMod(integer(name, v), 2) == 0;
            case "divisibleby" -> Math.floorMod(integer(name, v), integer(name, arg(name, args))) == 0;
            case "lower" -> Values.str(v).equals(PyStr.lower(Values.str(v)));
            case "upper" -> Values.str(v).equals(PyStr.upper(Values.str(v)));
            case "sameas" -> sameAs(v, arg(name, args));
            case "escaped" -> false;
            case "filter" -> Filters.exists(Values.str(v));
            case "test" -> exists(Values.str(v));
            default -> throw new TemplateException("No test named '" + name + "'", 0);
        };
    }

    /** Python identity, which for the values templates use means: same singleton or same object. */
    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) return a == b || (a != null && a.equals(b) && a instanceof Boolean);
        return a == b;
    }

    private static Object arg(String name, List<Object> args) {
        if (args.isEmpty()) throw Values.typeError("test '" + name + "' needs an argument");
        return args.get(0);
    }

    private static long integer(String name, Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (!Values.isNumber(v)) throw Values.typeError("test '" + name + "' needs a number, not " + Values.typeName(v));
        return Values.toLong(v);
    }
}
