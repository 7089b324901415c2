package io.chorus.tokenizer.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** The object {@code namespace(...)} returns: the one value {@code set ns.attr = ...} may change. */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("<Namespace {");
        boolean first = true;
        for (var e : attributes.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append(PyStr.repr(e.getKey())).append(": ").append(Values.repr(e.getValue()));
        }
        return sb.append("}>").toString();
    }
}
