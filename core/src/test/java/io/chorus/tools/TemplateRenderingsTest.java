package io.chorus.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.testing.Fixtures;
import io.chorus.tokenizer.template.ChatTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A model writes calls the way its template renders them in the history, so each parser must read
 * back what the fixture templates render for an assistant turn with tool calls.
 */
class TemplateRenderingsTest {
    private static final String ARGS = "{\"city\": \"Zürich\", \"days\": [1, 2], \"opts\": {\"metric\": true}}";

    private static Map<String, Object> arguments() {
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("metric", true);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("city", "Zürich");
        a.put("days", List.of(1, 2));
        a.put("opts", opts);
        return a;
    }

    private static List<Object> tools() {
        Map<String, Object> city = new LinkedHashMap<>(Map.of("type", "string", "description", "The city"));
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("type", "object");
        params.put("properties", Map.of("city", city));
        params.put("required", List.of("city"));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("description", "Weather for a city");
        fn.put("parameters", params);
        return List.of(new LinkedHashMap<>(Map.of("type", "function", "function", fn)));
    }

    private static Map<String, Object> call(String id, String name) {
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", name);
        fn.put("arguments", arguments());
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", id);
        c.put("type", "function");
        c.put("function", fn);
        return c;
    }

    /** What the template renders for the assistant's calls after the generation prompt, end-of-turn text cut. */
    private static String assistantTurn(String template, String bos, String eos, int calls, String endOfTurn) throws IOException {
        ChatTemplate t = ChatTemplate.compile(Files.readString(Fixtures.require("templates/" + template + ".jinja")));
        Map<String, Object> user = Map.of("role", "user", "content", "Weather in Zurich?");
        List<Object> toolCalls = new ArrayList<>();
        for (int i = 0; i < calls; i++) toolCalls.add(call("abcdefgh" + i, i == 0 ? "get_weather" : "get_time"));
        Map<String, Object> assistant = new LinkedHashMap<>();
        assistant.put("role", "assistant");
        assistant.put("content", null);
        assistant.put("tool_calls", toolCalls);
        Map<String, Object> vars = new LinkedHashMap<>(Map.of("bos_token", bos, "eos_token", eos, "tools", tools()));
        vars.put("messages", List.of(user));
        vars.put("add_generation_prompt", true);
        String prompt = t.render(vars);
        vars.put("messages", List.of(user, assistant));
        vars.put("add_generation_prompt", false);
        String full = t.render(vars);
        assertThat(full).startsWith(prompt);
        String turn = full.substring(prompt.length());
        assertThat(turn).endsWith(endOfTurn);
        return turn.substring(0, turn.length() - endOfTurn.length());
    }

    private static void assertCalls(ParsedOutput out, String... names) {
        assertThat(out.content()).isNull();
        assertThat(out.calls()).extracting(ToolCall::name).containsExactly(names);
        assertThat(out.calls()).extracting(ToolCall::arguments).allMatch(ARGS::equals);
    }

    @Test
    void qwen25() throws IOException {
        String turn = assistantTurn("Qwen-Qwen2.5-7B-Instruct", "", "<|im_end|>", 2, "<|im_end|>\n");
        assertThat(turn).startsWith("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + ARGS + "}\n</tool_call>");
        assertCalls(ToolCallParserTest.parseEveryWay(ToolCallParsers.byName("hermes"), turn), "get_weather", "get_time");
    }

    @Test
    void hermes3ToolUse() throws IOException {
        String turn = assistantTurn("NousResearch-Hermes-3-Llama-3.1-8B-tool_use", "<|begin_of_text|>", "<|im_end|>", 2, "<|im_end|>\n");
        assertCalls(ToolCallParserTest.parseEveryWay(ToolCallParsers.detect(template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use")).orElseThrow(), turn),
                "get_weather", "get_time");
    }

    @Test
    void llama31() throws IOException {
        String turn = assistantTurn("meta-llama-Llama-3.1-8B-Instruct", "<|begin_of_text|>", "<|eot_id|>", 1, "<|eot_id|>");
        assertThat(turn).isEqualTo("{\"name\": \"get_weather\", \"parameters\": " + ARGS + "}");
        assertCalls(ToolCallParserTest.parseEveryWay(ToolCallParsers.detect(template("meta-llama-Llama-3.1-8B-Instruct")).orElseThrow(), turn),
                "get_weather");
    }

    @Test
    void mistralNemo() throws IOException {
        String turn = assistantTurn("mistralai-Mistral-Nemo-Instruct-2407", "<s>", "</s>", 2, "</s>");
        assertThat(turn).startsWith("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": " + ARGS + ", \"id\": \"abcdefgh0\"}, ");
        assertCalls(ToolCallParserTest.parseEveryWay(ToolCallParsers.detect(template("mistralai-Mistral-Nemo-Instruct-2407")).orElseThrow(), turn),
                "get_weather", "get_time");
    }

    @Test
    void reasoningTemplatesAreRecognised() throws IOException {
        assertThat(ReasoningParser.detect(template("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")).orElseThrow().name()).isEqualTo("deepseek_r1");
        assertThat(ReasoningParser.detect(template("Qwen-Qwen2.5-7B-Instruct"))).isEmpty();
        assertThat(ToolCallParsers.detect(template("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B"))).isEmpty();
        assertThat(ToolCallParsers.detect(template("Qwen-Qwen2.5-7B-Instruct")).orElseThrow().name()).isEqualTo("hermes");
        assertThat(ToolCallParsers.detect(template("meta-llama-Llama-3.2-3B-Instruct")).orElseThrow().name()).isEqualTo("llama3_json");
        assertThat(ToolCallParsers.detect(template("microsoft-Phi-3.5-mini-instruct"))).isEmpty();
        assertThat(ToolCallParsers.detect(template("google-gemma-2-2b-it"))).isEmpty();
    }

    private static String template(String name) throws IOException {
        return Files.readString(Fixtures.require("templates/" + name + ".jinja"));
    }
}
