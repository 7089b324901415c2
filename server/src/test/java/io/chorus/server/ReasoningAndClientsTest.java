package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reasoning content on a DeepSeek-R1 template, and LangChain4j's tool calling and JSON-schema response format against a live server. */
class ReasoningAndClientsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theThinkBlockMovesToReasoningContentWholeAndStreamed() throws Exception {
        ScriptedSampler sampler = new ScriptedSampler();
        try (ChorusServer s = TestServers.start(o -> o.withChatTemplate(TemplateFixtures.require("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")),
                sampler.seams())) {
            // The template opens <think> in the prompt, so the output starts inside the block.
            sampler.script(201, "Two and two.\n</think>\n\nIt is 4.", s.model().tokenizer());
            String req = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"}],\"max_tokens\":100,\"seed\":201";
            JsonNode msg = JSON.readTree(TestServers.post(s, "/v1/chat/completions", req + "}").body()).get("choices").get(0).get("message");
            assertThat(msg.get("reasoning_content").asText()).isEqualTo("Two and two.\n");
            assertThat(msg.get("content").asText()).isEqualTo("It is 4.");
            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            for (String line : TestServers.post(s, "/v1/chat/completions", req + ",\"stream\":true}").body().split("\n")) {
                if (!line.startsWith("data: {")) continue;
                JsonNode delta = JSON.readTree(line.substring(6)).get("choices").get(0).get("delta");
                if (delta.has("reasoning_content")) reasoning.append(delta.get("reasoning_content").asText());
                if (delta.has("content")) content.append(delta.get("content").asText());
                assertThat(delta.path("content").asText()).doesNotContain("think>");
            }
            assertThat(reasoning.toString()).isEqualTo("Two and two.\n");
            assertThat(content.toString()).isEqualTo("It is 4.");
        }
    }

    @Test
    void aForcedCallIsReadAsACallEvenWhereThePromptOpensTheThinkBlock() throws Exception {
        try (ChorusServer s = TestServers.start(o -> o.withChatTemplate(TemplateFixtures.require("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B"))
                .withToolCallParser("hermes"))) {
            String req = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Go\"}],\"max_tokens\":100,\"seed\":3,"
                    + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"go\",\"parameters\":{\"type\":\"object\","
                    + "\"properties\":{\"fast\":{\"type\":\"boolean\"}},\"required\":[\"fast\"]}}}],\"tool_choice\":\"required\"}";
            JsonNode c = ToolsApiTest.ok(TestServers.post(s, "/v1/chat/completions", req)).get("choices").get(0);
            assertThat(c.get("finish_reason").asText()).isEqualTo("tool_calls");
            assertThat(c.get("message").get("tool_calls").get(0).get("function").get("name").asText()).isEqualTo("go");
            assertThat(c.get("message").has("reasoning_content")).isFalse();
        }
    }

    @Test
    void langChain4jGetsJsonMatchingItsSchemaResponseFormatFromARandomModel() throws Exception {
        try (ChorusServer s = TestServers.start(o -> o)) {
            ResponseFormat format = ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(JsonSchema.builder().name("Answer")
                    .rootElement(JsonObjectSchema.builder().addEnumProperty("color", List.of("red", "green")).addIntegerProperty("count")
                            .addBooleanProperty("ok").required("color", "count", "ok").build()).build()).build();
            for (int seed = 0; seed < 5; seed++) {
                OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(s.url() + "/v1").apiKey("none").modelName(TestServers.MODEL)
                        .seed(seed).temperature(1.0).maxTokens(200).strictJsonSchema(true).timeout(Duration.ofSeconds(60))
                        .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).build();
                String text = model.chat(ChatRequest.builder().messages(UserMessage.from("Pick a color.")).responseFormat(format).build()).aiMessage().text();
                JsonNode answer = JSON.readTree(text);
                assertThat(answer.get("color").asText()).as(text).isIn("red", "green");
                assertThat(answer.get("count").isIntegralNumber()).as(text).isTrue();
                assertThat(answer.get("ok").isBoolean()).as(text).isTrue();
                assertThat(answer.size()).isEqualTo(3);
            }
        }
    }

    @Test
    void langChain4jGetsAToolExecutionRequestWithToolChoiceRequired() {
        ScriptedSampler sampler = new ScriptedSampler();
        try (ChorusServer s = TestServers.start(o -> o.withChatTemplate(TemplateFixtures.require("Qwen-Qwen2.5-7B-Instruct")), sampler.seams())) {
            sampler.script(301, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", s.model().tokenizer());
            OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(s.url() + "/v1").apiKey("none").modelName(TestServers.MODEL)
                    .seed(301).maxTokens(200).timeout(Duration.ofSeconds(60)).build();
            ToolSpecification weather = ToolSpecification.builder().name("get_weather").description("Weather in a city")
                    .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
            ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"))
                    .toolSpecifications(weather).toolChoice(ToolChoice.REQUIRED).build());
            List<ToolExecutionRequest> calls = new ArrayList<>(r.aiMessage().toolExecutionRequests());
            assertThat(calls).hasSize(1);
            assertThat(calls.getFirst().name()).isEqualTo("get_weather");
            assertThat(calls.getFirst().arguments()).isEqualTo("{\"city\": \"Paris\"}");
            assertThat(calls.getFirst().id()).startsWith("call_");
        }
    }
}
