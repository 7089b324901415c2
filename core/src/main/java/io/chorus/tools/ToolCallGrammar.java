package io.chorus.tools;

import io.chorus.structured.JsonSchemaGbnf;
import java.util.List;

/**
 * A GBNF grammar (llama.cpp's syntax, root rule {@code root}) whose texts are exactly the tool calls
 * a model may make in its family's syntax, with each function's arguments held to its parameter
 * schema. Decoding under it makes even a weak model answer with calls the parser reads back
 * (tool_choice "required" or a named function).
 */
public final class ToolCallGrammar {
    /** A function the model may call: its name and its parameters' JSON Schema (JSON text). */
    public record Function(String name, String parametersSchema) {}

    /**
     * The call syntax of one family: a region's opening and closing text, the text between two calls,
     * and one call's text before and after its arguments object.
     */
    record Shape(String open, String separator, String close, String argumentsKey, String callPrefix, String callSuffix) {}

    private ToolCallGrammar() {}

    /**
     * The grammar for calls to {@code functions} (at least one); {@code parallel} allows several calls
     * in one answer, else exactly one. Throws {@link io.chorus.engine.api.InvalidRequestException}
     * when a parameter schema uses a keyword that cannot be enforced.
     */
    static String build(Shape shape, List<Function> functions, boolean parallel) {
        if (functions.isEmpty()) throw new IllegalArgumentException("no functions");
        StringBuilder g = new StringBuilder();
        g.append("root ::=");
        if (!shape.open().isEmpty()) g.append(' ').append(literal(shape.open()));
        g.append(" call");
        if (parallel) g.append(" (").append(literal(shape.separator())).append(" call)*");
        if (!shape.close().isEmpty()) g.append(' ').append(literal(shape.close()));
        g.append('\n');
        g.append("call ::= ");
        for (int i = 0; i < functions.size(); i++) g.append(i == 0 ? "" : " | ").append("call").append(i);
        g.append('\n');
        for (int i = 0; i < functions.size(); i++) {
            Function f = functions.get(i);
            String args = "fn" + i + "-args";
            g.append("call").append(i).append(" ::= ")
                    .append(literal(shape.callPrefix() + "{\"name\": \"" + f.name() + "\", \"" + shape.argumentsKey() + "\": "))
                    .append(' ').append(args).append(' ')
                    .append(literal("}" + shape.callSuffix())).append('\n');
            g.append(JsonSchemaGbnf.rules(f.parametersSchema(), args));
        }
        return g.toString();
    }

    /** {@code s} as a GBNF string literal. */
    static String literal(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
