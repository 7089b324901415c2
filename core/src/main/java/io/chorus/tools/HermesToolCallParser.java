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

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> markerTokens() { return List.of(SYNTAX.start(), SYNTAX.end()); }

    @Override
    public ToolCallStream stream(boolean incremental, RandomGenerator ids) {
        return new ToolCallScanner(SYNTAX, incremental, () -> ToolCallIds.openAi(ids));
    }
}
