package io.chorus.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * A completion's output split into reasoning, content and tool calls.
 *
 * @param reasoning the {@code <think>} block's text; null when there was none
 * @param content the text outside calls; null when there are calls and no other text (as OpenAI sends it)
 * @param calls   the calls in output order
 */
public record ParsedOutput(String reasoning, String content, List<ToolCall> calls) {
    public ParsedOutput {
        calls = List.copyOf(calls);
    }

    /** Builds a {@link ParsedOutput} from parser events (streamed pieces joined). */
    public static final class Collector implements ChatOutputParser.Events {
        private final StringBuilder reasoning = new StringBuilder();
        private boolean reasoned;
        private final StringBuilder content = new StringBuilder();
        private final List<String[]> calls = new ArrayList<>(); // {id, name}
        private final List<StringBuilder> args = new ArrayList<>();

        @Override
        public void reasoning(String text) {
            reasoned = true;
            reasoning.append(text);
        }

        @Override
        public void content(String text) {
            content.append(text);
        }

        @Override
        public void callStart(int index, String id, String name) {
            if (index != calls.size()) throw new IllegalStateException("call " + index + " started after " + calls.size() + " calls");
            calls.add(new String[] {id, name});
            args.add(new StringBuilder());
        }

        @Override
        public void callArguments(int index, String fragment) {
            args.get(index).append(fragment);
        }

        public ParsedOutput result() {
            List<ToolCall> out = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) out.add(new ToolCall(calls.get(i)[0], calls.get(i)[1], args.get(i).toString()));
            String text = content.toString();
            return new ParsedOutput(reasoned ? reasoning.toString() : null, out.isEmpty() || !text.isEmpty() ? text : null, out);
        }
    }
}
