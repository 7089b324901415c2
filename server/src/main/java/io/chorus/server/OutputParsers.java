package io.chorus.server;

import io.chorus.tokenizer.Tokenizer;
import io.chorus.tools.ReasoningParser;
import io.chorus.tools.ToolCallParser;
import io.chorus.tools.ToolCallParsers;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * How a model's chat output is read: its tool-call parser and reasoning parser (each from
 * {@code --tool-call-parser} / {@code --reasoning-parser}, or chosen from the chat template; either
 * may be absent), and the ids of their marker tokens, which the detokenizer renders even when
 * special tokens are skipped. Immutable.
 *
 * @param tools     null = tool calls are not read (tools in a request other than tool_choice none are refused)
 * @param reasoning null = no reasoning split
 */
record OutputParsers(ToolCallParser tools, ReasoningParser reasoning, Set<Integer> toolMarkerIds, Set<Integer> reasoningMarkerIds) {
    static final String NONE = "none";

    /** IllegalArgumentException naming the choices when a name is unknown. */
    static OutputParsers resolve(String toolOption, String reasoningOption, ModelChatTemplates templates, Tokenizer tok) {
        String templateSource = templates.defaultTemplate().source();
        // Calls come back in the syntax of the template that rendered the tools: the tool_use one when there is one.
        String toolSource = templates.forRequest(true).source();
        ToolCallParser tools;
        if (toolOption == null) tools = ToolCallParsers.detect(toolSource).orElse(null);
        else if (toolOption.equals(NONE)) tools = null;
        else tools = named(() -> ToolCallParsers.byName(toolOption), "--tool-call-parser");
        ReasoningParser reasoning;
        if (reasoningOption == null) reasoning = ReasoningParser.detect(templateSource).orElse(null);
        else if (reasoningOption.equals(NONE)) reasoning = null;
        else reasoning = named(() -> ReasoningParser.byName(reasoningOption), "--reasoning-parser");
        return new OutputParsers(tools, reasoning, tokenIds(tools != null ? tools.markerTokens() : List.of(), tok),
                tokenIds(reasoning != null ? reasoning.markerTokens() : List.of(), tok));
    }

    /** The ids of the markers the vocabulary has as single (special) tokens. */
    private static Set<Integer> tokenIds(List<String> markers, Tokenizer tok) {
        Set<Integer> ids = new HashSet<>();
        for (String m : markers) {
            int[] enc = tok.encode(m, false, true);
            if (enc.length == 1) ids.add(enc[0]);
        }
        return Set.copyOf(ids);
    }

    private static <T> T named(java.util.function.Supplier<T> lookup, String flag) {
        try {
            return lookup.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }

    /** The marker tokens to render for a request that reads calls ({@code tools}) and/or reasoning. */
    IntPredicate alwaysRender(boolean tools, boolean reasoning) {
        return id -> tools && toolMarkerIds.contains(id) || reasoning && reasoningMarkerIds.contains(id);
    }

    Optional<ToolCallParser> toolParser() {
        return Optional.ofNullable(tools);
    }
}
