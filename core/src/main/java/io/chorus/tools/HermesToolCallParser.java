package io.chorus.tools;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Hermes, Qwen2.5 and Qwen3: each call is {@code <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>},
 * one or several, with text before, between or after them.
 */
public final class HermesToolCallParser implements ToolCallParser {
    public static final String NAME = "hermes";
    static final ToolCallScanner.Syntax SYNTAX = new ToolCallScanner.Syntax("<tool_call>", "</tool_call>", false,
            ToolCallScanner.Body.ONE_OBJECT, Set.of("arguments"));
    private static final ToolCallGrammar.Shape SHAPE = new ToolCallGrammar.Shape("", "\n", "", "arguments", "<tool_call>\n", "\n</tool_call>");

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> markerTokens() { return List.of(SYNTAX.start(), SYNTAX.end()); }

    @Override
    public String grammar(List<ToolCallGrammar.Function> functions, boolean parallel) {
        return ToolCallGrammar.build(SHAPE, functions, parallel);
    }

    @Override
    public ToolCallStream stream(boolean incremental, RandomGenerator ids) {
        return new ToolCallScanner(SYNTAX, incremental, () -> ToolCallIds.openAi(ids));
    }
}
