package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tool calls through the whole server: a scripted output read back as OpenAI tool_calls, whole and streamed. */
class ToolsApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather in a city\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]";
    static final String CALL = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";

    static ScriptedSampler sampler;
    static ChorusServer server;
    static OpenAIClient client;

    /** The SDK's tool helper: a class becomes a function named after it, with a JSON Schema of its fields. */
    public static class GetWeather {
        public String city;
    }

    @BeforeAll
    static void up() {
        sampler = new ScriptedSampler();
        server = TestServers.start(o -> o.withChatTemplate(TemplateFixtures.require("Qwen-Qwen2.5-7B-Instruct")), sampler.seams());
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    static String request(long seed, String extra) {
        return "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"max_tokens\":200,\"seed\":" + seed
                + ",\"tools\":" + TOOLS + extra + "}";
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void aCallComesBackAsToolCallsWithNullContentAndFinishReasonToolCalls() throws Exception {
        sampler.script(101, CALL, server.model().tokenizer());
        JsonNode c = ok(TestServers.post(server, "/v1/chat/completions", request(101, ""))).get("choices").get(0);
        JsonNode msg = c.get("message");
        assertThat(msg.get("content").isNull()).isTrue();
        assertThat(msg.get("tool_calls")).hasSize(1);
        JsonNode call = msg.get("tool_calls").get(0);
        assertThat(call.get("id").asText()).matches("call_[A-Za-z0-9]{24}");
        assertThat(call.get("type").asText()).isEqualTo("function");
        assertThat(call.get("function").get("name").asText()).isEqualTo("get_weather");
        assertThat(call.get("function").get("arguments").asText()).isEqualTo("{\"city\": \"Paris\"}");
        assertThat(c.get("finish_reason").asText()).isEqualTo("tool_calls");
    }

    @Test
    void theSdkReadsCallsWholeAndAccumulatesThemFromTheStream() {
        sampler.script(102, "Checking.\n" + CALL + "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", server.model().tokenizer());
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(TestServers.MODEL).addUserMessage("Weather in Paris?")
                .addTool(GetWeather.class).seed(102).maxCompletionTokens(200).build();
        ChatCompletion whole = client.chat().completions().create(params);
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(ch -> { chunks.add(ch); acc.accumulate(ch); });
        }
        for (ChatCompletion c : List.of(whole, acc.chatCompletion())) {
            ChatCompletion.Choice choice = c.choices().get(0);
            assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            assertThat(choice.message().content()).contains("Checking.");
            List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream().map(t -> t.asFunction()).toList();
            assertThat(calls).extracting(t -> t.function().name()).containsExactly("get_weather", "get_time");
            assertThat(calls.get(0).function().arguments(GetWeather.class).city).isEqualTo("Paris");
            assertThat(calls.get(1).function().arguments()).isEqualTo("{}");
        }
        // Streamed: markup never shows as content; a call's id and name come before its arguments.
        String streamedContent = chunks.stream().flatMap(ch -> ch.choices().stream()).flatMap(ch -> ch.delta().content().stream())
                .reduce("", String::concat);
        assertThat(streamedContent).isEqualTo("Checking.");
        assertThat(chunks.stream().flatMap(ch -> ch.choices().stream()).filter(ch -> ch.delta().toolCalls().isPresent()).count()).isGreaterThan(2);
    }

    @Test
    void parallelToolCallsFalseKeepsTheFirstCall() throws Exception {
        sampler.script(103, CALL + "\n" + CALL, server.model().tokenizer());
        JsonNode msg = ok(TestServers.post(server, "/v1/chat/completions", request(103, ",\"parallel_tool_calls\":false"))).get("choices").get(0).get("message");
        assertThat(msg.get("tool_calls")).hasSize(1);
        String stream = TestServers.post(server, "/v1/chat/completions", request(103, ",\"parallel_tool_calls\":false,\"stream\":true")).body();
        assertThat(stream).contains("\"index\":0").doesNotContain("\"index\":1,\"id\"");
    }

    @Test
    void toolChoiceNoneAndInvalidJsonLeaveTheTextAsContent() throws Exception {
        sampler.script(104, CALL, server.model().tokenizer());
        JsonNode none = ok(TestServers.post(server, "/v1/chat/completions", request(104, ",\"tool_choice\":\"none\""))).get("choices").get(0);
        assertThat(none.get("message").get("content").asText()).isEqualTo(CALL);
        assertThat(none.get("message").has("tool_calls")).isFalse();
        assertThat(none.get("finish_reason").asText()).isEqualTo("stop");
        String broken = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }}\n</tool_call>";
        sampler.script(105, broken, server.model().tokenizer());
        JsonNode c = ok(TestServers.post(server, "/v1/chat/completions", request(105, ""))).get("choices").get(0);
        assertThat(c.get("message").get("content").asText()).isEqualTo(broken);
        assertThat(c.get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void historyWithCallsAndToolResultsRendersThroughTheTemplate() throws Exception {
        String body = "{\"model\":\"tiny\",\"max_tokens\":1,\"tools\":" + TOOLS + ",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"22 C\"}]}";
        ok(TestServers.post(server, "/v1/chat/completions", body));
        JsonNode tokens = ok(TestServers.post(server, "/tokenize", body));
        int[] ids = JSON.convertValue(tokens.get("tokens"), int[].class);
        String prompt = server.model().tokenizer().decode(ids);
        // The arguments string reached the template as an object, so tojson wrote the object, not a quoted string.
        assertThat(prompt).contains("assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>")
                .contains("user\n<tool_response>\n22 C\n</tool_response><|im_end|>");
    }

    @Test
    void badToolsAndUnimplementedFieldsAre400sNamingTheField() throws Exception {
        String[][] cases = {
            {"\"tools\":[{\"type\":\"retrieval\"}]", "tools[0].type"},
            {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name\"}}]", "tools[0].function.name"},
            {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"string\"}}}]", "tools[0].function.parameters"},
            {"\"tools\":" + TOOLS + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}", "tool_choice"},
            {"\"tools\":" + TOOLS + ",\"tool_choice\":\"sometimes\"", "tool_choice"},
            {"\"tool_choice\":\"required\"", "tool_choice"},
            {"\"tools\":" + TOOLS + ",\"tool_choice\":\"required\",\"response_format\":{\"type\":\"json_object\"}", "tool_choice"},
            {"\"functions\":[{\"name\":\"f\"}]", "functions"},
            {"\"function_call\":\"auto\"", "function_call"},
            {"\"audio\":{\"voice\":\"alloy\",\"format\":\"wav\"}", "audio"},
            {"\"modalities\":[\"text\",\"audio\"]", "modalities"},
            {"\"prediction\":{\"type\":\"content\",\"content\":\"x\"}", "prediction"},
            {"\"web_search_options\":{}", "web_search_options"},
            {"\"reasoning_effort\":\"low\"", "reasoning_effort"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = TestServers.post(server, "/v1/chat/completions",
                    "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + c[0] + "}");
            JsonNode e = ErrorsTest.error(r, 400);
            assertThat(e.get("param").asText()).as(c[0]).isEqualTo(c[1]);
        }
        HttpResponse<String> image = TestServers.post(server, "/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\","
                + "\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}");
        assertThat(ErrorsTest.error(image, 400).get("param").asText()).isEqualTo("messages[0].content");
        // Fields that change nothing about the answer are accepted.
        ok(TestServers.post(server, "/v1/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"user\":\"u1\",\"metadata\":{\"k\":\"v\"},\"store\":false,\"modalities\":[\"text\"],\"service_tier\":\"auto\"}"));
    }

    @Test
    void aTemplateWithoutCallSyntaxRefusesToReadCallsButAllowsToolChoiceNone() throws Exception {
        try (ChorusServer plain = TestServers.start(o -> o)) {
            JsonNode e = ErrorsTest.error(TestServers.post(plain, "/v1/chat/completions", request(1, "")), 400);
            assertThat(e.get("param").asText()).isEqualTo("tools");
            assertThat(e.get("message").asText()).contains("--tool-call-parser");
            ok(TestServers.post(plain, "/v1/chat/completions", request(1, ",\"tool_choice\":\"none\"")));
        }
    }
}
