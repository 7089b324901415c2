package io.chorus.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ToolCallParserTest {
    private static final ToolCallParser HERMES = ToolCallParsers.byName("hermes");
    private static final ToolCallParser LLAMA = ToolCallParsers.byName("llama3_json");
    private static final ToolCallParser MISTRAL = ToolCallParsers.byName("mistral");

    /** Parses whole, and streamed split at every position and char by char: all must say the same. */
    static ParsedOutput parseEveryWay(ToolCallParser p, String output) {
        ParsedOutput whole = p.parse(output, new Random(7));
        for (int k = 0; k <= output.length(); k++) {
            assertThat(streamed(p, List.of(output.substring(0, k), output.substring(k))))
                    .as("split at %d of %s", k, output).isEqualTo(whole);
        }
        List<String> chars = new ArrayList<>();
        for (int i = 0; i < output.length(); i++) chars.add(output.substring(i, i + 1));
        assertThat(streamed(p, chars)).as("char by char").isEqualTo(whole);
        return whole;
    }

    static ParsedOutput streamed(ToolCallParser p, List<String> pieces) {
        ParsedOutput.Collector c = new ParsedOutput.Collector();
        ToolCallStream s = p.stream(true, new Random(7));
        for (String piece : pieces) s.push(piece, c);
        s.finish(c);
        return c.result();
    }

    static String id(int nth) {
        Random r = new Random(7);
        String id = null;
        for (int i = 0; i <= nth; i++) id = ToolCallIds.openAi(r);
        return id;
    }

    @Test
    void hermesCallAfterTextKeepsTheTextAsContentAndTheArgumentsAsWritten() {
        ParsedOutput out = parseEveryWay(HERMES, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}\n</tool_call>");
        assertThat(out).isEqualTo(new ParsedOutput(null, "Let me check.",
                List.of(new ToolCall(id(0), "get_weather", "{\"city\": \"Paris\", \"days\": [1, 2]}"))));
        assertThat(out.calls().getFirst().id()).matches("call_[A-Za-z0-9]{24}");
    }

    @Test
    void nonAsciiTextAndArgumentsSurviveEverySplit() {
        ParsedOutput out = parseEveryWay(HERMES, "Grüße 👋 — 天气\n<tool_call>\n{\"name\": \"say\", \"arguments\": {\"text\": \"👋 ü 天\"}}\n</tool_call>");
        assertThat(out).isEqualTo(new ParsedOutput(null, "Grüße 👋 — 天气", List.of(new ToolCall(id(0), "say", "{\"text\": \"👋 ü 天\"}"))));
    }

    @Test
    void hermesSeveralCallsAndNoOtherTextGiveNullContent() {
        ParsedOutput out = parseEveryWay(HERMES, "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"b\", \"arguments\": {\"x\": \"}{\\\"\"}}\n</tool_call>\n");
        assertThat(out).isEqualTo(new ParsedOutput(null, null, List.of(
                new ToolCall(id(0), "a", "{}"), new ToolCall(id(1), "b", "{\"x\": \"}{\\\"\"}"))));
    }

    @Test
    void hermesInvalidJsonStaysContentMarkupIncluded() {
        String text = "Sure <tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": }}\n</tool_call> done";
        assertThat(HERMES.parse(text, new Random(7))).isEqualTo(new ParsedOutput(null, text, List.of()));
        // Streamed, the call had begun before its arguments broke: it cannot be taken back.
        assertThat(streamed(HERMES, List.of(text))).isEqualTo(new ParsedOutput(null, "Sure  done", List.of(new ToolCall(id(0), "a", "{\"x\": }"))));
        String badName = "<tool_call>{\"name\": 1, \"arguments\": {}}</tool_call>";
        assertThat(parseEveryWay(HERMES, badName)).isEqualTo(new ParsedOutput(null, badName, List.of()));
        String unclosed = "<tool_call>{\"name\": \"a\", \"arguments\": ";
        assertThat(HERMES.parse(unclosed, new Random(7))).isEqualTo(new ParsedOutput(null, unclosed, List.of()));
    }

    @Test
    void hermesOtherKeyOrderStringArgumentsAndMissingEndTagStillParse() {
        assertThat(parseEveryWay(HERMES, "<tool_call>{\"arguments\": {\"q\": 1}, \"name\": \"s\"}</tool_call>"))
                .isEqualTo(new ParsedOutput(null, null, List.of(new ToolCall(id(0), "s", "{\"q\": 1}"))));
        assertThat(parseEveryWay(HERMES, "<tool_call>{\"name\": \"s\", \"arguments\": \"{\\\"q\\\": 1}\"}</tool_call>"))
                .isEqualTo(new ParsedOutput(null, null, List.of(new ToolCall(id(0), "s", "{\"q\": 1}"))));
        assertThat(parseEveryWay(HERMES, "<tool_call>\n{\"name\": \"s\", \"arguments\": {\"q\": 1}}\n"))
                .isEqualTo(new ParsedOutput(null, null, List.of(new ToolCall(id(0), "s", "{\"q\": 1}"))));
    }

    @Test
    void hermesTextBetweenAndAfterCallsIsContentWithoutTheSpacesNextToCalls() {
        ParsedOutput out = parseEveryWay(HERMES, "A  \n<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n\n B <tool_call_x> C\n");
        assertThat(out.content()).isEqualTo("A  \n\n\n B <tool_call_x> C");
        assertThat(out.calls()).hasSize(1);
        assertThat(parseEveryWay(HERMES, "  plain text, no calls  \n")).isEqualTo(new ParsedOutput(null, "  plain text, no calls  \n", List.of()));
        assertThat(parseEveryWay(HERMES, "")).isEqualTo(new ParsedOutput(null, "", List.of()));
    }

    @Test
    void streamingReportsTheNameBeforeTheArgumentsAndHoldsOnlyWhatMayBeATag() {
        List<String> events = new ArrayList<>();
        ToolCallEvents log = new ToolCallEvents() {
            @Override public void content(String text) { events.add("content:" + text); }
            @Override public void callStart(int index, String id, String name) { events.add("start:" + index + ":" + name); }
            @Override public void callArguments(int index, String fragment) { events.add("args:" + index + ":" + fragment); }
        };
        ToolCallStream s = HERMES.stream(true, new Random(1));
        s.push("Hi <tool", log);
        assertThat(events).containsExactly("content:Hi");
        s.push("_call>{\"name\": \"f\", \"arguments\": {\"a\"", log);
        assertThat(events).containsExactly("content:Hi", "start:0:f", "args:0:{\"a\"");
        s.push(": 1}}</tool_call>", log);
        s.finish(log);
        assertThat(events).containsExactly("content:Hi", "start:0:f", "args:0:{\"a\"", "args:0:: 1}");
    }

    @Test
    void llamaJsonCallsWithOrWithoutPythonTagAndSeveralSeparatedBySemicolons() {
        assertThat(parseEveryWay(LLAMA, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}"))
                .isEqualTo(new ParsedOutput(null, null, List.of(new ToolCall(id(0), "get_weather", "{\"city\": \"Paris\"}"))));
        assertThat(parseEveryWay(LLAMA, "<|python_tag|>{\"name\": \"a\", \"arguments\": {\"x\": 1}}; {\"name\": \"b\", \"parameters\": {}}"))
                .isEqualTo(new ParsedOutput(null, null, List.of(new ToolCall(id(0), "a", "{\"x\": 1}"), new ToolCall(id(1), "b", "{}"))));
        assertThat(parseEveryWay(LLAMA, "The answer is {\"name\": \"a\", \"parameters\": {}}"))
                .isEqualTo(new ParsedOutput(null, "The answer is {\"name\": \"a\", \"parameters\": {}}", List.of()));
        assertThat(parseEveryWay(LLAMA, "{\"name\": \"Bob\", \"age\": 3}")).isEqualTo(new ParsedOutput(null, "{\"name\": \"Bob\", \"age\": 3}", List.of()));
        assertThat(parseEveryWay(LLAMA, " <|python")).isEqualTo(new ParsedOutput(null, " <|python", List.of()));
    }

    @Test
    void mistralCallArrayAfterTextWithNineCharacterIds() {
        ParsedOutput out = parseEveryWay(MISTRAL, "Checking. [TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"x\": [1, {\"y\": 2}]}}, {\"name\": \"b\", \"arguments\": {}}]");
        assertThat(out.content()).isEqualTo("Checking.");
        assertThat(out.calls()).extracting(ToolCall::name, ToolCall::arguments)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("a", "{\"x\": [1, {\"y\": 2}]}"), org.assertj.core.groups.Tuple.tuple("b", "{}"));
        assertThat(out.calls()).allSatisfy(c -> assertThat(c.id()).matches("[A-Za-z0-9]{9}"));
        assertThat(parseEveryWay(MISTRAL, "[TOOL_CALLS] not json")).isEqualTo(new ParsedOutput(null, "[TOOL_CALLS] not json", List.of()));
    }

    @Test
    void afterAGoodCallABrokenOneIsDropped() {
        assertThat(parseEveryWay(MISTRAL, "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"name\": 5}]").calls())
                .extracting(ToolCall::name).containsExactly("a");
    }

    @Test
    void parsersAreChosenFromTheTemplateSyntax() {
        assertThat(ToolCallParsers.detect("... <tool_call> ...").orElseThrow().name()).isEqualTo("hermes");
        assertThat(ToolCallParsers.detect("{{ '[TOOL_CALLS][' }}").orElseThrow().name()).isEqualTo("mistral");
        assertThat(ToolCallParsers.detect("<|start_header_id|> \"parameters\": ").orElseThrow().name()).isEqualTo("llama3_json");
        assertThat(ToolCallParsers.detect("{{ messages }}")).isEmpty();
        assertThat(ToolCallParsers.names()).containsExactly("hermes", "llama3_json", "mistral");
    }
}
