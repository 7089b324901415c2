package io.chorus.tools;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Mistral (Nemo, Small, Large 2): {@code [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]} to the
 * end of the output, after optional text. Ids are 9 letters and digits, because Mistral's template
 * refuses any other id when the call comes back in the history.
 */
public final class MistralToolCallParser implements ToolCallParser {
    public static final String NAME = "mistral";
    static final ToolCallScanner.Syntax SYNTAX = new ToolCallScanner.Syntax("[TOOL_CALLS]", null, false,
            ToolCallScanner.Body.ARRAY, Set.of("arguments"));
    private static final ToolCallGrammar.Shape SHAPE = new ToolCallGrammar.Shape("[TOOL_CALLS][", ", ", "]", "arguments", "", "");

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
        return new ToolCallScanner(SYNTAX, incremental, () -> ToolCallIds.alphanumeric(ids, 9));
    }
}
