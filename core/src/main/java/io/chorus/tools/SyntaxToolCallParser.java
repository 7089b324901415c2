package io.chorus.tools;

import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * A tool-call parser for one model family's syntax: how the scanner finds calls in the output, how the
 * forcing grammar writes them, and the shape of the ids given to them. The families differ only in
 * these values, so each is a constant here rather than a class.
 *
 * @param name         the name {@code --tool-call-parser} takes
 * @param syntax       what the scanner looks for
 * @param shape        how {@link ToolCallGrammar} frames the calls
 * @param markerTokens tokens the detokenizer must render for the scanner to see them
 * @param ids          a new call id from the request's random generator
 */
public record SyntaxToolCallParser(String name, ToolCallScanner.Syntax syntax, ToolCallGrammar.Shape shape,
                                   List<String> markerTokens, Function<RandomGenerator, String> ids) implements ToolCallParser {

    /**
     * Hermes, Qwen2.5 and Qwen3: each call is {@code <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>},
     * one or several, with text before, between or after them.
     */
    public static final SyntaxToolCallParser HERMES = new SyntaxToolCallParser("hermes",
            new ToolCallScanner.Syntax("<tool_call>", "</tool_call>", false, ToolCallScanner.Body.ONE_OBJECT, Set.of("arguments")),
            new ToolCallGrammar.Shape("", "\n", "", "arguments", "<tool_call>\n", "\n</tool_call>"),
            List.of("<tool_call>", "</tool_call>"), ToolCallIds::openAi);

    /**
     * Llama 3.1, 3.2 and 3.3 JSON calls: the whole output is {@code {"name": "f", "parameters": {...}}}
     * (or "arguments"), optionally after {@code <|python_tag|>}, several separated by ';'. Output that
     * does not start that way is plain content.
     */
    public static final SyntaxToolCallParser LLAMA3_JSON = new SyntaxToolCallParser("llama3_json",
            new ToolCallScanner.Syntax("<|python_tag|>", null, true, ToolCallScanner.Body.SEMICOLON_LIST, Set.of("parameters", "arguments")),
            new ToolCallGrammar.Shape("", "; ", "", "parameters", "", ""),
            List.of("<|python_tag|>"), ToolCallIds::openAi);

    /**
     * Mistral (Nemo, Small, Large 2): {@code [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]} to the
     * end of the output, after optional text. Ids are 9 letters and digits, because Mistral's template
     * refuses any other id when the call comes back in the history.
     */
    public static final SyntaxToolCallParser MISTRAL = new SyntaxToolCallParser("mistral",
            new ToolCallScanner.Syntax("[TOOL_CALLS]", null, false, ToolCallScanner.Body.ARRAY, Set.of("arguments")),
            new ToolCallGrammar.Shape("[TOOL_CALLS][", ", ", "]", "arguments", "", ""),
            List.of("[TOOL_CALLS]"), random -> ToolCallIds.alphanumeric(random, 9));

    @Override
    public String grammar(List<ToolCallGrammar.Function> functions, boolean parallel) {
        return ToolCallGrammar.build(shape, functions, parallel);
    }

    @Override
    public ToolCallStream stream(boolean incremental, RandomGenerator random) {
        return new ToolCallScanner(syntax, incremental, () -> ids.apply(random));
    }
}
