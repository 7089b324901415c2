package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import io.chorus.model.SyntheticModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF with a default and a tool_use chat template (Hermes 3's, as its GGUFs carry them) served
 * for real: requests with tools render through tool_use exactly as transformers does, requests
 * without through the default, and Hermes {@code <tool_call>} output comes back as tool_calls.
 */
class NamedChatTemplatesServeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HERMES = "NousResearch-Hermes-3-Llama-3.1-8B-tool_use";
    /** Hermes 3's default template is ChatML; it never mentions tools. */
    static final String CHATML = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    @TempDir static Path tmp;
    static List<JsonNode> cases;
    static ScriptedSampler sampler;
    static ChorusServer server;
    static OpenAIClient client;

    @BeforeAll
    static void up() throws IOException {
        Path toolUse = TemplateFixtures.require(HERMES);
        cases = new ArrayList<>();
        for (JsonNode c : JSON.readTree(toolUse.resolveSibling("cases.json").toFile())) {
            if (c.get("template_file").asText().equals(HERMES + ".jinja")) cases.add(c);
        }
        Path file = tmp.resolve("tiny-hermes.gguf");
        String toolUseSource = Files.readString(toolUse);
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 7, file, w -> w
                .putString("tokenizer.chat_template", CHATML)
                .putString("tokenizer.chat_template.tool_use", toolUseSource)
                .putStrings("tokenizer.chat_templates", new String[] {"tool_use"})
                .putUInt32("qwen2.context_length", 4096)); // the tool_use system prompt alone is ~1,100 of this vocabulary's tokens
        sampler = new ScriptedSampler();
        server = TestServers.start(o -> o.withModel(file), sampler.seams());
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        if (server != null) server.close();
    }

    static ObjectNode body(JsonNode c, boolean tools) {
        ObjectNode b = JSON.createObjectNode();
        b.put("model", TestServers.MODEL);
        b.set("messages", c.get("messages"));
        b.put("add_generation_prompt", c.get("add_generation_prompt").asBoolean());
        if (tools) b.set("tools", c.get("tools"));
        return b;
    }

    @Test
    void withToolsThePromptIsTheToolUseTemplatesRenderingOfEveryReferenceCase() {
        assertThat(cases).hasSize(4);
        String bos = server.model().tokenText(server.model().tokenizer().bosId());
        for (JsonNode c : cases) {
            String expected = c.get("expected").asText();
            // the reference renders Llama 3's BOS text; this vocabulary's BOS is another piece
            assertThat(expected).as(c.get("case").asText()).startsWith("<|begin_of_text|><|im_start|>system\nYou are a function calling AI model.");
            expected = bos + expected.substring("<|begin_of_text|>".length());
            assertThat(ChatPrompt.render(server.model(), body(c, true), false).text()).as(c.get("case").asText()).isEqualTo(expected);
        }
    }

    @Test
    void withoutToolsOrWithAnEmptyListThePromptIsTheDefaultTemplates() {
        JsonNode c = cases.getFirst();
        String chatml = "<|im_start|>user\nHello! What is 2+2?<|im_end|>\n<|im_start|>assistant\n";
        assertThat(ChatPrompt.render(server.model(), body(c, false), false).text()).isEqualTo(chatml);
        ObjectNode empty = body(c, false);
        empty.putArray("tools");
        assertThat(ChatPrompt.render(server.model(), empty, false).text()).isEqualTo(chatml);
    }

    @Test
    void overHttpTheToolsRequestCountsTheToolUsePromptAndTheOtherTheDefault() throws Exception {
        JsonNode c = cases.getFirst();
        int toolIds = ChatPrompt.render(server.model(), body(c, true), false).tokenIds().length;
        int plainIds = ChatPrompt.render(server.model(), body(c, false), false).tokenIds().length;
        assertThat(toolIds).isGreaterThan(plainIds + 100);
        for (boolean tools : new boolean[] {true, false}) {
            ObjectNode b = body(c, tools);
            b.put("max_tokens", 1);
            JsonNode r = JSON.readTree(TestServers.post(server, "/v1/chat/completions", b.toString()).body());
            assertThat(r.path("usage").path("prompt_tokens").asInt()).as(r.toString()).isEqualTo(tools ? toolIds : plainIds);
        }
    }

    @Test
    void hermesToolCallOutputComesBackAsToolCallsThroughTheSdk() {
        sampler.script(201, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", server.model().tokenizer());
        // Hermes's template writes every tool's description into the prompt (and, like jinja2, fails without one)
        FunctionDefinition weather = FunctionDefinition.builder().name("get_weather").description("Weather in a city")
                .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string")))).build()).build();
        ChatCompletion done = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .addUserMessage("Weather in Paris?").addFunctionTool(weather).seed(201).maxCompletionTokens(100).build());
        ChatCompletion.Choice choice = done.choices().getFirst();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream().map(t -> t.asFunction()).toList();
        assertThat(calls).extracting(t -> t.function().name()).containsExactly("get_weather");
        assertThat(calls.getFirst().function().arguments()).isEqualTo("{\"city\": \"Paris\"}");
        assertThat(choice.message().content()).isEmpty();
    }
}
