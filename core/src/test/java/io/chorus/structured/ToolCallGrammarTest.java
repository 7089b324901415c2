package io.chorus.structured;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.tools.ToolCallGrammar;
import io.chorus.tools.ToolCallParser;
import io.chorus.tools.ToolCallParsers;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The grammars that force tool calls (tool_choice "required" or a named function) accept exactly the
 * calls their parser reads: the call text a chat template renders, and nothing that is not a call.
 * Lives here for the package's grammar automaton.
 */
class ToolCallGrammarTest {
    private static final String WEATHER = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"},"
            + " \"days\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}},"
            + " \"opts\": {\"type\": \"object\", \"properties\": {\"metric\": {\"type\": \"boolean\"}}}}, \"required\": [\"city\"]}";
    private static final List<ToolCallGrammar.Function> FUNCTIONS = List.of(new ToolCallGrammar.Function("get_weather", WEATHER),
            new ToolCallGrammar.Function("get_time", "{\"type\": \"object\", \"properties\": {}}"));
    private static final String ARGS = "{\"city\": \"Zürich\", \"days\": [1, 2], \"opts\": {\"metric\": true}}";

    private static void acceptsAndParses(String parser, String text, int calls, boolean parallel) {
        ToolCallParser p = ToolCallParsers.byName(parser);
        assertThat(Match.gbnf(p.grammar(FUNCTIONS, parallel), text)).as(text).isTrue();
        assertThat(p.parse(text, new Random(1)).calls()).hasSize(calls);
    }

    private static boolean accepts(String parser, List<ToolCallGrammar.Function> fns, boolean parallel, String text) {
        return Match.gbnf(ToolCallParsers.byName(parser).grammar(fns, parallel), text);
    }

    @Test
    void hermesGrammarAcceptsTheQwenTemplatesRendering() {
        String one = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + ARGS + "}\n</tool_call>";
        String two = one + "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
        acceptsAndParses("hermes", one, 1, false);
        acceptsAndParses("hermes", two, 2, true);
        assertThat(accepts("hermes", FUNCTIONS, false, two)).isFalse();
        assertThat(accepts("hermes", FUNCTIONS, true, "Sure. " + one)).isFalse();
        assertThat(accepts("hermes", FUNCTIONS, true, one.replace("get_weather", "get_wether"))).isFalse();
        assertThat(accepts("hermes", FUNCTIONS, true, one.replace("\"Zürich\"", "3"))).isFalse(); // city must be a string
        assertThat(accepts("hermes", FUNCTIONS.subList(1, 2), false, one)).isFalse(); // a named function allows only itself
    }

    @Test
    void llamaGrammarAcceptsTheLlama31TemplatesRenderingAndMistralItsArray() {
        acceptsAndParses("llama3_json", "{\"name\": \"get_weather\", \"parameters\": " + ARGS + "}", 1, false);
        acceptsAndParses("llama3_json", "{\"name\": \"get_time\", \"parameters\": {}}; {\"name\": \"get_time\", \"parameters\": {}}", 2, true);
        acceptsAndParses("mistral", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": " + ARGS + "}, {\"name\": \"get_time\", \"arguments\": {}}]", 2, true);
        assertThat(accepts("mistral", FUNCTIONS, true, "[TOOL_CALLS][]")).isFalse();
    }
}
