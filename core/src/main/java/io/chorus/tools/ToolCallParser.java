package io.chorus.tools;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Finds the tool calls a model wrote in its output, in one model family's syntax. Stateless and
 * thread-safe; each completion gets its own {@link #stream}.
 */
public interface ToolCallParser {
    /** The name {@code --tool-call-parser} takes. */
    String name();

    /**
     * The text of the tokens that mark calls ({@code <tool_call>}, {@code [TOOL_CALLS]}, ...): the
     * detokenizer must render them even when special tokens are skipped, or the parser never sees them.
     */
    List<String> markerTokens();

    /**
     * A parser for one completion. {@code incremental}: report each call's name as soon as it is
     * known and its arguments as they arrive (streaming); false: report a call only once its JSON is
     * complete and valid, so invalid JSON stays content (a whole response).
     */
    ToolCallStream stream(boolean incremental, RandomGenerator ids);

    /**
     * A GBNF grammar (root rule {@code root}) matching exactly the calls to {@code functions} in this
     * syntax, arguments held to each parameter schema; one call, or one or more when {@code parallel}.
     */
    String grammar(List<ToolCallGrammar.Function> functions, boolean parallel);

    /** Parses a whole output at once. */
    default ParsedOutput parse(String output, RandomGenerator ids) {
        return ChatOutputParser.parse(output, null, false, this, ids);
    }
}
