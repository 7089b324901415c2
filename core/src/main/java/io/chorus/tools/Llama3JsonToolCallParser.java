package io.chorus.tools;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Llama 3.1, 3.2 and 3.3 JSON calls: the whole output is {@code {"name": "f", "parameters": {...}}}
 * (or "arguments"), optionally after {@code <|python_tag|>}, several separated by ';'. Output that
 * does not start that way is plain content.
 */
public final class Llama3JsonToolCallParser implements ToolCallParser {
    public static final String NAME = "llama3_json";
    static final ToolCallScanner.Syntax SYNTAX = new ToolCallScanner.Syntax("<|python_tag|>", null, true,
            ToolCallScanner.Body.SEMICOLON_LIST, Set.of("parameters", "arguments"));
    private static final ToolCallGrammar.Shape SHAPE = new ToolCallGrammar.Shape("", "; ", "", "parameters", "", "");

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> markerTokens() { return List.of(SYNTAX.start()); }

    @Override
    public String grammar(List<ToolCallGrammar.Function> functions, boolean parallel) {
        return ToolCallGrammar.build(SHAPE, functions, parallel);
    }

    @Override
    public ToolCallStream stream(boolean incremental, RandomGenerator ids) {
        return new ToolCallScanner(SYNTAX, incremental, () -> ToolCallIds.openAi(ids));
    }
}
