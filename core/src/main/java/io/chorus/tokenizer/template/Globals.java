package io.chorus.tokenizer.template;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Global functions: Jinja's range/dict/namespace and transformers' raise_exception/strftime_now. */
final class Globals {
    private Globals() {}

    static Map<String, Object> create(Clock clock) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("range", (Callable) (args, kw) -> range(args));
        g.put("dict", (Callable) (args, kw) -> {
            Map<Object, Object> d = new LinkedHashMap<>();
            if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> m) d.putAll(m);
            d.putAll(kw);
            return d;
        });
        g.put("namespace", (Callable) (args, kw) -> {
            Namespace ns = new Namespace();
            if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> m) {
                m.forEach((k, v) -> ns.attributes.put(Values.str(k), v));
            }
            ns.attributes.putAll(kw);
            return ns;
        });
        g.put("raise_exception", (Callable) (args, kw) -> {
            throw new TemplateException(args.isEmpty() ? "" : Values.str(args.get(0)), 0, true);
        });
        g.put("strftime_now", (Callable) (args, kw) -> {
            if (args.isEmpty()) throw Values.typeError("strftime_now() missing argument 'format'");
            return Strftime.format(ZonedDateTime.now(clock), Values.str(args.get(0)));
        });
        return g;
    }

    private static List<Object> range(List<Object> args) {
        long start = 0;
        long stop;
        long step = 1;
        for (Object a : args) {
            if (!(Values.isInt(a) || a instanceof Boolean)) {
                throw Values.typeError("'" + Values.typeName(a) + "' object cannot be interpreted as an integer");
            }
        }
        switch (args.size()) {
            case 1 -> stop = Values.toLong(args.get(0));
            case 2 -> {
                start = Values.toLong(args.get(0));
                stop = Values.toLong(args.get(1));
            }
            case 3 -> {
                start = Values.toLong(args.get(0));
                stop = Values.toLong(args.get(1));
                step = Values.toLong(args.get(2));
            }
            default -> throw Values.typeError("range expected 1 to 3 arguments, got " + args.size());
        }
        if (step == 0) throw new TemplateException("ValueError: range() arg 3 must not be zero", 0);
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add(i);
            if (out.size() > 100_000) throw new TemplateException("range too big (sandbox limit is 100000 items)", 0);
        }
        return out;
    }
}
