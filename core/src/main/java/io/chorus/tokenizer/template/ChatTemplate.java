package io.chorus.tokenizer.template;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled Hugging Face chat template ({@code tokenizer.chat_template}). Renders the Jinja subset
 * chat templates use with the semantics of transformers' {@code apply_chat_template}:
 * {@code trim_blocks}, {@code lstrip_blocks}, loop controls, an immutable sandbox, and the globals
 * {@code raise_exception} and {@code strftime_now}. Variable values (such as message content) are
 * data: they are never parsed as template code.
 *
 * <p>Immutable and thread-safe: compile once per model, render per request.
 */
public final class ChatTemplate {
    private final String source;
    private final List<Node> body;

    private ChatTemplate(String source, List<Node> body) {
        this.source = source;
        this.body = body;
    }

    /** Parses {@code source}; throws {@link TemplateException} (with a line number) on syntax errors. */
    public static ChatTemplate compile(String source) {
        return new ChatTemplate(source, List.copyOf(Parser.parse(source)));
    }

    public String source() {
        return source;
    }

    /** Renders with the system clock for {@code strftime_now}. */
    public String render(Map<String, ?> variables) {
        return render(variables, Clock.systemDefaultZone());
    }

    /**
     * Renders the template. Values are plain Java objects as Jackson produces them: Map (insertion
     * ordered), List, String, Integer/Long, Double, Boolean and null. Inputs are not modified.
     *
     * @param clock the time {@code strftime_now} formats (in the clock's zone)
     * @throws TemplateException on a runtime error; {@link TemplateException#raisedByTemplate()}
     *     tells whether the template rejected the input through {@code raise_exception}
     */
    public String render(Map<String, ?> variables, Clock clock) {
        Interpreter.Frame globals = new Interpreter.Frame(null, new HashMap<>(Globals.create(clock)));
        Interpreter.Frame context = new Interpreter.Frame(globals, new HashMap<>(variables));
        return Interpreter.render(body, new Interpreter.Frame(context));
    }
}
