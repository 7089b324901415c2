package io.chorus.tools;

import java.util.List;
import java.util.Optional;

/** The tool-call parsers by name, and the one a chat template's own call syntax calls for. */
public final class ToolCallParsers {
    private static final List<ToolCallParser> ALL = List.of(
            SyntaxToolCallParser.HERMES, SyntaxToolCallParser.LLAMA3_JSON, SyntaxToolCallParser.MISTRAL);

    private ToolCallParsers() {}

    /** The names {@code --tool-call-parser} accepts. */
    public static List<String> names() {
        return ALL.stream().map(ToolCallParser::name).toList();
    }

    /** The parser called {@code name}; IllegalArgumentException listing the names when there is none. */
    public static ToolCallParser byName(String name) {
        for (ToolCallParser p : ALL) if (p.name().equals(name)) return p;
        throw new IllegalArgumentException("unknown tool-call parser '" + name + "'; one of " + names());
    }

    /**
     * The parser whose syntax the template teaches the model: {@code <tool_call>} (Hermes, Qwen2.5,
     * Qwen3), {@code [TOOL_CALLS]} (Mistral), or Llama 3's {@code "parameters"} JSON with its
     * ipython role. Empty when the template shows no call syntax.
     */
    public static Optional<ToolCallParser> detect(String templateSource) {
        if (templateSource == null) return Optional.empty();
        if (templateSource.contains("<tool_call>")) return Optional.of(SyntaxToolCallParser.HERMES);
        if (templateSource.contains("[TOOL_CALLS]")) return Optional.of(SyntaxToolCallParser.MISTRAL);
        if (templateSource.contains("<|python_tag|>")
                || templateSource.contains("<|start_header_id|>") && templateSource.contains("\"parameters\"")) {
            return Optional.of(SyntaxToolCallParser.LLAMA3_JSON);
        }
        return Optional.empty();
    }
}
