package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's Ollama client, whole and streaming, against a live server: text, token counts, tools and JSON formats. */
class OllamaClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CALL = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
    static final ToolSpecification WEATHER = ToolSpecification.builder().name("get_weather").description("Weather in a city")
            .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();

    static ScriptedSampler sampler;
    static ChorusServer server;

    @BeforeAll
    static void up() {
        sampler = new ScriptedSampler();
        server = TestServers.start(o -> o.withChatTemplate(TemplateFixtures.require("Qwen-Qwen2.5-7B-Instruct")), sampler.seams());
    }

    @AfterAll
    static void down() {
        server.close();
    }

    static OllamaChatModel chatModel(int seed) {
        return OllamaChatModel.builder().baseUrl(server.url()).modelName(TestServers.MODEL).seed(seed).numPredict(200)
                .timeout(Duration.ofSeconds(60)).build();
    }

    static OllamaStreamingChatModel streamingModel(int seed) {
        return OllamaStreamingChatModel.builder().baseUrl(server.url()).modelName(TestServers.MODEL).seed(seed).numPredict(200)
                .timeout(Duration.ofSeconds(60)).build();
    }

    /** Streams a request; returns the concatenated partials and the complete response. */
    static Streamed stream(OllamaStreamingChatModel model, ChatRequest request) throws Exception {
        StringBuilder partials = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) { partials.append(partial.text()); }

            @Override
            public void onCompleteResponse(ChatResponse response) { done.complete(response); }

            @Override
            public void onError(Throwable error) { done.completeExceptionally(error); }
        });
        ChatResponse response = done.get(60, TimeUnit.SECONDS); // first: the partials all come before it
        return new Streamed(partials.toString(), response);
    }

    record Streamed(String partials, ChatResponse response) {}

    /** The OpenAI path's answer to the same conversation and seed: what the Ollama path must match. */
    static JsonNode openAi(long seed, String user, int maxTokens) throws Exception {
        return ToolsApiTest.ok(TestServers.post(server, "/v1/chat/completions", "{\"model\":\"tiny\",\"seed\":" + seed + ",\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + user + "\"}]}"));
    }

    @Test
    void chatModelGetsTheTextWithTokenCountsAndStop() throws Exception {
        sampler.script(401, "Hello there, friend.", server.model().tokenizer());
        ChatResponse r = chatModel(401).chat(UserMessage.from("Hi"));
        assertThat(r.aiMessage().text()).isEqualTo("Hello there, friend.");
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        JsonNode usage = openAi(401, "Hi", 200).get("usage");
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(usage.get("prompt_tokens").asInt()).isGreaterThan(10);
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(usage.get("completion_tokens").asInt()).isGreaterThan(5);
    }

    @Test
    void streamingModelGetsTheSameTextPieceByPiece() throws Exception {
        sampler.script(402, "One, two, three.", server.model().tokenizer());
        Streamed s = stream(streamingModel(402), ChatRequest.builder().messages(UserMessage.from("Count")).build());
        assertThat(s.partials()).isEqualTo("One, two, three.");
        assertThat(s.response().aiMessage().text()).isEqualTo("One, two, three.");
        assertThat(s.response().finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(s.response().tokenUsage().outputTokenCount()).isEqualTo(openAi(402, "Count", 200).get("usage").get("completion_tokens").asInt());
    }

    @Test
    void numPredictCutsTheAnswerWithFinishReasonLength() throws Exception {
        sampler.script(403, "One, two, three, four, five, six.", server.model().tokenizer());
        OllamaChatModel m = OllamaChatModel.builder().baseUrl(server.url()).modelName(TestServers.MODEL).seed(403).numPredict(3)
                .timeout(Duration.ofSeconds(60)).build();
        ChatResponse r = m.chat(UserMessage.from("Count"));
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(3);
        assertThat(r.aiMessage().text()).isEqualTo(openAi(403, "Count", 3).get("choices").get(0).get("message").get("content").asText()).hasSize(3);
    }

    @Test
    void aToolCallComesBackAsAToolExecutionRequestAndItsResultIsRenderedNextTurn() throws Exception {
        sampler.script(404, CALL, server.model().tokenizer());
        ChatRequest first = ChatRequest.builder().messages(UserMessage.from("Weather in Paris?")).toolSpecifications(WEATHER).build();
        for (ChatResponse r : List.of(chatModel(404).chat(first), stream(streamingModel(404), first).response())) {
            assertThat(r.aiMessage().text()).isNull();
            assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
            List<ToolExecutionRequest> calls = r.aiMessage().toolExecutionRequests();
            assertThat(calls).hasSize(1);
            assertThat(calls.getFirst().name()).isEqualTo("get_weather");
            assertThat(JSON.readTree(calls.getFirst().arguments())).isEqualTo(JSON.readTree("{\"city\":\"Paris\"}"));
        }
        AiMessage asked = chatModel(404).chat(first).aiMessage();
        sampler.script(405, "It is sunny in Paris.", server.model().tokenizer());
        ChatResponse answer = chatModel(405).chat(ChatRequest.builder().messages(UserMessage.from("Weather in Paris?"), asked,
                ToolExecutionResultMessage.from(asked.toolExecutionRequests().getFirst(), "sunny, 24 C")).toolSpecifications(WEATHER).build());
        assertThat(answer.aiMessage().text()).isEqualTo("It is sunny in Paris.");
        // The call and its result reached the template: Qwen's renders both.
        String rendered = ChatPrompt.render(server.model(), JSON.readTree("""
                {"messages":[{"role":"user","content":"Weather in Paris?"},
                 {"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                 {"role":"tool","content":"sunny, 24 C"}]}"""), false).text();
        assertThat(rendered).contains("<tool_call>\n{\"name\": \"get_weather\"", "<tool_response>\nsunny, 24 C\n</tool_response>");
        assertThat(answer.tokenUsage().inputTokenCount()).isEqualTo(ChatPrompt.render(server.model(), JSON.readTree("""
                {"messages":[{"role":"user","content":"Weather in Paris?"},
                 {"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                 {"role":"tool","content":"sunny, 24 C"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather in a city",
                 "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}"""), false).tokenIds().length);
    }

    @Test
    void aJsonSchemaFormatMakesARandomModelAnswerMatchingJson() throws Exception {
        ResponseFormat format = ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(JsonSchema.builder().name("Answer")
                .rootElement(JsonObjectSchema.builder().addEnumProperty("color", List.of("red", "green")).addIntegerProperty("count")
                        .addBooleanProperty("ok").required("color", "count", "ok").build()).build()).build();
        for (int seed = 0; seed < 3; seed++) {
            OllamaChatModel m = OllamaChatModel.builder().baseUrl(server.url()).modelName(TestServers.MODEL).seed(seed).temperature(1.0)
                    .numPredict(200).responseFormat(format).timeout(Duration.ofSeconds(60)).build();
            String text = m.chat(UserMessage.from("Pick a color.")).aiMessage().text();
            JsonNode answer = JSON.readTree(text);
            assertThat(answer.get("color").asText()).as(text).isIn("red", "green");
            assertThat(answer.get("count").isIntegralNumber()).as(text).isTrue();
            assertThat(answer.get("ok").isBoolean()).as(text).isTrue();
            assertThat(answer.size()).isEqualTo(3);
        }
    }

    @Test
    void formatJsonMakesTheAnswerAJsonObject() throws Exception {
        String free = TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"JSON\"}],"
                + "\"options\":{\"seed\":9,\"temperature\":1.0,\"num_predict\":8}}").body();
        String json = TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"stream\":false,\"format\":\"json\",\"messages\":[{\"role\":\"user\",\"content\":\"JSON\"}],"
                + "\"options\":{\"seed\":9,\"temperature\":1.0,\"num_predict\":8}}").body();
        assertThat(JSON.readTree(free).get("message").get("content").asText()).doesNotStartWith("{");
        assertThat(JSON.readTree(json).get("message").get("content").asText()).startsWith("{");
        OllamaChatModel m = OllamaChatModel.builder().baseUrl(server.url()).modelName(TestServers.MODEL).seed(9).temperature(1.0).numPredict(8)
                .responseFormat(ResponseFormat.JSON).timeout(Duration.ofSeconds(60)).build();
        assertThat(m.chat(UserMessage.from("JSON")).aiMessage().text()).isEqualTo(JSON.readTree(json).get("message").get("content").asText());
    }
}
