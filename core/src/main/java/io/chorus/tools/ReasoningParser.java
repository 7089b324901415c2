package io.chorus.tools;

import java.util.List;
import java.util.Optional;

/**
 * Splits a reasoning model's {@code <think>...</think>} block from its answer (DeepSeek-R1 and its
 * distills, Qwen3). Both families use the same tags; they differ in whether the chat template opens
 * {@code <think>} itself at the end of the prompt, which {@link #stream(boolean)} is told.
 */
public final class ReasoningParser {
    public static final String OPEN = "<think>";
    public static final String CLOSE = "</think>";
    private static final List<String> NAMES = List.of("deepseek_r1", "qwen3");

    private final String name;

    private ReasoningParser(String name) {
        this.name = name;
    }

    /** The names {@code --reasoning-parser} accepts. */
    public static List<String> names() { return NAMES; }

    public static ReasoningParser byName(String name) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown reasoning parser '" + name + "'; one of " + NAMES);
        return new ReasoningParser(name);
    }

    /** A parser for templates that mention {@code <think>}: qwen3 where thinking can be switched off, else deepseek_r1. */
    public static Optional<ReasoningParser> detect(String templateSource) {
        if (templateSource == null || !templateSource.contains(OPEN)) return Optional.empty();
        return Optional.of(new ReasoningParser(templateSource.contains("enable_thinking") ? "qwen3" : "deepseek_r1"));
    }

    public String name() { return name; }

    /** The tags, which the detokenizer must render even when special tokens are skipped. */
    public List<String> markerTokens() { return List.of(OPEN, CLOSE); }

    /** True when the rendered prompt leaves the model inside {@code <think>} (the output starts as reasoning). */
    public static boolean promptOpensReasoning(String prompt) {
        return prompt.stripTrailing().endsWith(OPEN);
    }

    /** Where the parts of the output go. */
    public interface Events {
        void reasoning(String text);

        void content(String text);
    }

    /** A parser for one completion; {@code startsInside}: the prompt opened the block. */
    public Stream stream(boolean startsInside) {
        return new Stream(startsInside);
    }

    /**
     * One completion's reader. Before the block: leading whitespace and a possible {@code <think>}
     * are held; anything else makes the whole output content. Inside: reasoning, holding only a tail
     * that may be the start of {@code </think>}. After it: whitespace is dropped, the rest is content.
     * A block that never closes (cut by max_tokens) is all reasoning. Not thread-safe.
     */
    public static final class Stream {
        private enum State { BEFORE, INSIDE_START, INSIDE, AFTER, CONTENT }

        private final StringBuilder in = new StringBuilder();
        private State state;

        private Stream(boolean startsInside) {
            state = startsInside ? State.INSIDE_START : State.BEFORE;
        }

        public void push(String text, Events out) {
            in.append(text);
            drain(false, out);
        }

        public void finish(Events out) {
            drain(true, out);
        }

        private void drain(boolean eof, Events out) {
            while (!in.isEmpty()) {
                switch (state) {
                    case BEFORE, INSIDE_START -> {
                        // A model may write <think> itself even when the prompt opened it: skip it then.
                        int i = 0;
                        while (i < in.length() && Character.isWhitespace(in.charAt(i))) i++;
                        if (i == in.length() && !eof) return;
                        String rest = in.substring(i);
                        if (rest.startsWith(OPEN)) {
                            in.delete(0, i + OPEN.length());
                            state = State.INSIDE;
                        } else if (!eof && OPEN.startsWith(rest)) {
                            return;
                        } else {
                            state = state == State.BEFORE ? State.CONTENT : State.INSIDE;
                        }
                    }
                    case INSIDE -> {
                        int at = in.indexOf(CLOSE);
                        if (at >= 0) {
                            if (at > 0) out.reasoning(in.substring(0, at));
                            in.delete(0, at + CLOSE.length());
                            state = State.AFTER;
                            continue;
                        }
                        int keep = eof ? 0 : ToolCallScanner.heldPrefix(in, CLOSE);
                        if (in.length() > keep) out.reasoning(in.substring(0, in.length() - keep));
                        in.delete(0, in.length() - keep);
                        return;
                    }
                    case AFTER -> {
                        int i = 0;
                        while (i < in.length() && Character.isWhitespace(in.charAt(i))) i++;
                        in.delete(0, i);
                        if (!in.isEmpty()) state = State.CONTENT;
                    }
                    case CONTENT -> {
                        out.content(in.toString());
                        in.setLength(0);
                    }
                }
            }
        }
    }
}
