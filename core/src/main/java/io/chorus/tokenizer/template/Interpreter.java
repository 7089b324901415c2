package io.chorus.tokenizer.template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Executes a parsed template against variables. One instance per render; not thread-safe. */
final class Interpreter {
    /** How a statement list finished: normally or through {@code break}/{@code continue}. */
    private enum Flow { NORMAL, BREAK, CONTINUE }

    /** A variable scope; loop bodies and macros get their own, {@code if} does not (as in Jinja). */
    static final class Frame {
        final Map<String, Object> vars;
        final Frame parent;

        Frame(Frame parent) {
            this(parent, new HashMap<>());
        }

        Frame(Frame parent, Map<String, Object> vars) {
            this.parent = parent;
            this.vars = vars;
        }

        Object lookup(String name) {
            for (Frame f = this; f != null; f = f.parent) {
                if (f.vars.containsKey(name)) return f.vars.get(name);
            }
            return Undefined.named(name);
        }
    }

    private Interpreter() {}

    static String render(List<Node> body, Frame root) {
        StringBuilder out = new StringBuilder();
        new Interpreter().execute(body, root, out);
        return out.toString();
    }

    // ---- statements ----

    private Flow execute(List<Node> body, Frame frame, StringBuilder out) {
        for (Node node : body) {
            Flow flow;
            try {
                flow = executeOne(node, frame, out);
            } catch (TemplateException e) {
                throw e.atLine(node.line());
            } catch (StackOverflowError e) {
                throw new TemplateException("Template recursion too deep", node.line());
            }
            if (flow != Flow.NORMAL) return flow;
        }
        return Flow.NORMAL;
    }

    private Flow executeOne(Node node, Frame frame, StringBuilder out) {
        switch (node) {
            case Node.Text t -> out.append(t.text());
            case Node.Output o -> out.append(Values.str(eval(o.expr(), frame)));
            case Node.If n -> {
                for (Node.Branch b : n.branches()) {
                    if (Values.truthy(eval(b.condition(), frame))) return execute(b.body(), frame, out);
                }
                return execute(n.orElse(), frame, out);
            }
            case Node.For n -> {
                return executeFor(n, frame, out);
            }
            case Node.Set n -> {
                Object value = eval(n.value(), frame);
                if (n.attribute() == null) {
                    frame.vars.put(n.name(), value);
                } else if (frame.lookup(n.name()) instanceof Namespace ns) {
                    ns.attributes.put(n.attribute(), value);
                } else {
                    throw new TemplateException("Cannot assign attribute on non-namespace object", n.line());
                }
            }
            case Node.SetMany n -> assignTargets(n.names(), eval(n.value(), frame), frame);
            case Node.SetBlock n -> {
                StringBuilder captured = new StringBuilder();
                execute(n.body(), new Frame(frame), captured);
                frame.vars.put(n.name(), captured.toString());
            }
            case Node.Macro n -> frame.vars.put(n.name(), macro(n.name(), n.params(), n.defaults(), n.body(), frame));
            case Node.CallBlock n -> {
                Expr.Call call = (Expr.Call) n.call();
                Callable caller = macro("caller", n.params(), nulls(n.params().size()), n.body(), frame);
                Map<String, Object> kwargs = evalKwargs(call.kwargs(), frame);
                kwargs.put("caller", caller);
                out.append(Values.str(callValue(eval(call.function(), frame), evalArgs(call.args(), frame), kwargs)));
            }
            case Node.FilterBlock n -> {
                StringBuilder captured = new StringBuilder();
                execute(n.body(), new Frame(frame), captured);
                Expr.Filter f = n.filter();
                out.append(Values.str(Filters.apply(f.name(), captured.toString(), evalArgs(f.args(), frame),
                        evalKwargs(f.kwargs(), frame))));
            }
            case Node.Block n -> {
                return execute(n.body(), frame, out);
            }
            case Node.Do n -> eval(n.expr(), frame);
            case Node.Break b -> {
                return Flow.BREAK;
            }
            case Node.Continue c -> {
                return Flow.CONTINUE;
            }
        }
        return Flow.NORMAL;
    }

    private Flow executeFor(Node.For n, Frame frame, StringBuilder out) {
        Object iterable = eval(n.iterable(), frame);
        if (iterable == null) throw Values.typeError("'NoneType' object is not iterable");
        List<Object> items = Values.iterate(iterable);
        if (n.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Frame f = new Frame(frame);
                assignTargets(n.targets(), item, f);
                if (Values.truthy(eval(n.filter(), f))) kept.add(item);
            }
            items = kept;
        }
        if (items.isEmpty()) return execute(n.orElse(), new Frame(frame), out);
        LoopState loop = new LoopState(items);
        for (int i = 0; i < items.size(); i++) {
            loop.index0 = i;
            Frame f = new Frame(frame);
            f.vars.put("loop", loop);
            assignTargets(n.targets(), items.get(i), f);
            if (execute(n.body(), f, out) == Flow.BREAK) break;
        }
        return Flow.NORMAL;
    }

    private static void assignTargets(List<String> targets, Object value, Frame frame) {
        if (targets.size() == 1) {
            frame.vars.put(targets.get(0), value);
            return;
        }
        List<Object> parts = Values.iterate(value);
        if (parts.size() != targets.size()) {
            throw new TemplateException("ValueError: cannot unpack " + parts.size() + " values into "
                    + targets.size() + " names", 0);
        }
        for (int i = 0; i < targets.size(); i++) frame.vars.put(targets.get(i), parts.get(i));
    }

    private static List<Expr> nulls(int n) {
        List<Expr> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(null);
        return l;
    }

    /** A macro: renders its body in a fresh scope below the scope it was defined in. */
    private Callable macro(String name, List<String> params, List<Expr> defaults, List<Node> body, Frame defined) {
        return (args, kwargs) -> {
            Frame f = new Frame(defined);
            Map<String, Object> extra = new LinkedHashMap<>(kwargs);
            for (int i = 0; i < params.size(); i++) {
                String p = params.get(i);
                Object value;
                if (i < args.size()) value = args.get(i);
                else if (extra.containsKey(p)) value = extra.get(p);
                else if (defaults.get(i) != null) value = eval(defaults.get(i), f);
                else value = new Undefined("parameter '" + p + "' was not provided");
                extra.remove(p);
                f.vars.put(p, value);
            }
            if (extra.containsKey("caller")) f.vars.put("caller", extra.remove("caller"));
            if (!extra.isEmpty()) {
                throw Values.typeError("macro '" + name + "' takes no keyword argument '" + extra.keySet().iterator().next() + "'");
            }
            f.vars.put("varargs", args.size() > params.size() ? List.copyOf(args.subList(params.size(), args.size())) : List.of());
            StringBuilder captured = new StringBuilder();
            execute(body, f, captured);
            return captured.toString();
        };
    }

    // ---- expressions ----

    Object eval(Expr expr, Frame frame) {
        return switch (expr) {
            case Expr.Literal l -> l.value();
            case Expr.Name n -> frame.lookup(n.name());
            case Expr.ListLit l -> {
                List<Object> items = new ArrayList<>();
                for (Expr e : l.items()) items.add(eval(e, frame));
                yield items;
            }
            case Expr.TupleLit t -> {
                List<Object> items = new ArrayList<>();
                for (Expr e : t.items()) items.add(eval(e, frame));
                yield PyTuple.of(items);
            }
            case Expr.DictLit d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    map.put(Values.num(eval(d.keys().get(i), frame)), eval(d.values().get(i), frame));
                }
                yield map;
            }
            case Expr.GetAttr g -> Access.getAttr(eval(g.target(), frame), g.name());
            case Expr.GetItem g -> Access.getItem(eval(g.target(), frame), eval(g.key(), frame));
            case Expr.Slice s -> Access.slice(eval(s.target(), frame), evalOpt(s.start(), frame),
                    evalOpt(s.stop(), frame), evalOpt(s.step(), frame));
            case Expr.Call c -> callValue(eval(c.function(), frame), evalArgs(c.args(), frame),
                    evalKwargs(c.kwargs(), frame));
            case Expr.Filter f -> Filters.apply(f.name(), eval(f.value(), frame), evalArgs(f.args(), frame),
                    evalKwargs(f.kwargs(), frame));
            case Expr.Test t -> Tests.apply(t.name(), eval(t.value(), frame), evalArgs(t.args(), frame));
            case Expr.Unary u -> switch (u.op()) {
                case "not" -> !Values.truthy(eval(u.operand(), frame));
                case "-" -> Values.negate(eval(u.operand(), frame));
                default -> {
                    Object v = eval(u.operand(), frame);
                    if (!Values.isNumber(v)) throw Values.typeError("bad operand type for unary +: '" + Values.typeName(v) + "'");
                    yield Values.num(v instanceof Boolean b ? (b ? 1L : 0L) : v);
                }
            };
            case Expr.Binary b -> binary(b, frame);
            case Expr.Compare c -> compare(c, frame);
            case Expr.Cond c -> Values.truthy(eval(c.condition(), frame))
                    ? eval(c.then(), frame)
                    : c.orElse() == null ? new Undefined("the inline if-expression evaluated to false and no else section was defined") : eval(c.orElse(), frame);
        };
    }

    private Object evalOpt(Expr e, Frame frame) {
        return e == null ? null : eval(e, frame);
    }

    private List<Object> evalArgs(List<Expr> args, Frame frame) {
        List<Object> values = new ArrayList<>(args.size());
        for (Expr e : args) values.add(eval(e, frame));
        return values;
    }

    private Map<String, Object> evalKwargs(Map<String, Expr> kwargs, Frame frame) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (var e : kwargs.entrySet()) values.put(e.getKey(), eval(e.getValue(), frame));
        return values;
    }

    private static Object callValue(Object fn, List<Object> args, Map<String, Object> kwargs) {
        if (fn instanceof Callable c) return c.call(args, kwargs);
        if (fn instanceof Undefined u) throw u.error();
        throw Values.typeError("'" + Values.typeName(fn) + "' object is not callable");
    }

    private Object binary(Expr.Binary b, Frame frame) {
        switch (b.op()) {
            case "and" -> {
                Object left = eval(b.left(), frame);
                return Values.truthy(left) ? eval(b.right(), frame) : left;
            }
            case "or" -> {
                Object left = eval(b.left(), frame);
                return Values.truthy(left) ? left : eval(b.right(), frame);
            }
            case "~" -> {
                return Values.str(eval(b.left(), frame)) + Values.str(eval(b.right(), frame));
            }
            default -> {
                return Values.binary(b.op(), eval(b.left(), frame), eval(b.right(), frame));
            }
        }
    }

    private Object compare(Expr.Compare c, Frame frame) {
        Object left = eval(c.first(), frame);
        for (int i = 0; i < c.ops().size(); i++) {
            Object right = eval(c.rest().get(i), frame);
            boolean ok = switch (c.ops().get(i)) {
                case "==" -> Values.eq(left, right);
                case "!=" -> !Values.eq(left, right);
                case "<" -> Values.compare(left, right) < 0;
                case "<=" -> Values.compare(left, right) <= 0;
                case ">" -> Values.compare(left, right) > 0;
                case ">=" -> Values.compare(left, right) >= 0;
                case "in" -> Values.contains(right, left);
                case "not in" -> !Values.contains(right, left);
                default -> throw new IllegalStateException(c.ops().get(i));
            };
            if (!ok) return false;
            left = right;
        }
        return true;
    }
}
