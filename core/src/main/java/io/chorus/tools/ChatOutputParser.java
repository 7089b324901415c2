package io.chorus.tools;

import java.util.random.RandomGenerator;

/**
 * One completion's output through the reasoning parser, then the tool-call parser on what follows
 * the reasoning (either may be absent). Not thread-safe: one per completion.
 */
public final class ChatOutputParser {
    /** Reasoning, content and calls, in output order. */
    public interface Events extends ToolCallEvents {
        void reasoning(String text);
    }

    private final ReasoningParser.Stream reasoning;
    private final ToolCallStream tools;
    private Events out;
    private final ReasoningParser.Events split = new ReasoningParser.Events() {
        @Override
        public void reasoning(String text) { out.reasoning(text); }

        @Override
        public void content(String text) { toTools(text); }
    };

    /**
     * @param reasoning    null = no reasoning parser
     * @param startsInside the prompt opened the reasoning block
     * @param tools        null = no tool-call parser
     * @param incremental  see {@link ToolCallParser#stream}
     */
    public ChatOutputParser(ReasoningParser reasoning, boolean startsInside, ToolCallParser tools, boolean incremental, RandomGenerator ids) {
        this.reasoning = reasoning != null ? reasoning.stream(startsInside) : null;
        this.tools = tools != null ? tools.stream(incremental, ids) : null;
    }

    public void push(String text, Events events) {
        out = events;
        if (reasoning != null) reasoning.push(text, split);
        else toTools(text);
    }

    public void finish(Events events) {
        out = events;
        if (reasoning != null) reasoning.finish(split);
        if (tools != null) tools.finish(events);
    }

    private void toTools(String text) {
        if (tools != null) tools.push(text, out);
        else out.content(text);
    }

    /** Parses a whole output at once. */
    public static ParsedOutput parse(String output, ReasoningParser reasoning, boolean startsInside, ToolCallParser tools, RandomGenerator ids) {
        ParsedOutput.Collector c = new ParsedOutput.Collector();
        ChatOutputParser p = new ChatOutputParser(reasoning, startsInside, tools, false, ids);
        p.push(output, c);
        p.finish(c);
        return c.result();
    }
}
