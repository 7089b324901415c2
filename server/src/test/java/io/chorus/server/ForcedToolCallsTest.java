package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * tool_choice "required" and a named function on a random-weight model at temperature 1.0 (it never
 * writes a call by itself): every answer must be calls whose arguments validate against the
 * function's schema (checked by a real JSON Schema validator), whole and streamed.
 */
class ForcedToolCallsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    /** 20 parameter schemas: strings bounded so a random model ends them, plus every kind of value. */
    static final List<String> PARAMETERS = List.of(
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":6}},\"required\":[\"city\"]}",
            "{\"type\":\"object\",\"properties\":{\"unit\":{\"enum\":[\"c\",\"f\"]}},\"required\":[\"unit\"]}",
            "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":99}},\"required\":[\"n\"]}",
            "{\"type\":\"object\",\"properties\":{\"on\":{\"type\":\"boolean\"},\"x\":{\"type\":\"null\"}},\"required\":[\"on\",\"x\"]}",
            "{\"type\":\"object\",\"properties\":{}}",
            "{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]},\"minItems\":1,\"maxItems\":3}},\"required\":[\"tags\"]}",
            "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"object\",\"properties\":{\"lat\":{\"type\":\"integer\",\"minimum\":-90,\"maximum\":90},"
                    + "\"lon\":{\"type\":\"integer\",\"minimum\":-180,\"maximum\":180}},\"required\":[\"lat\",\"lon\"]}},\"required\":[\"p\"]}",
            "{\"type\":\"object\",\"properties\":{\"mode\":{\"const\":\"fast\"},\"k\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":5}},\"required\":[\"mode\"]}",
            "{\"type\":\"object\",\"properties\":{\"v\":{\"anyOf\":[{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},{\"type\":\"boolean\"}]}},\"required\":[\"v\"]}",
            "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":4}},\"required\":[\"q\"]}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":3},\"b\":{\"type\":\"string\",\"maxLength\":3}},\"required\":[\"a\"]}",
            "{\"type\":\"object\",\"$defs\":{\"pt\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"required\":[\"x\"]}},"
                    + "\"properties\":{\"from\":{\"$ref\":\"#/$defs/pt\"},\"to\":{\"$ref\":\"#/$defs/pt\"}},\"required\":[\"from\",\"to\"]}",
            "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\",\"pattern\":\"[A-Z]{3}\"}},\"required\":[\"code\"]}",
            "{\"type\":\"object\",\"properties\":{\"r\":{\"type\":\"number\",\"minimum\":0}},\"required\":[\"r\"]}",
            "{\"type\":\"object\",\"properties\":{\"list\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},\"maxItems\":4}},\"required\":[\"list\"]}",
            "{\"type\":\"object\",\"properties\":{\"o\":{\"oneOf\":[{\"type\":\"null\"},{\"enum\":[\"x\",\"y\"]}]}},\"required\":[\"o\"]}",
            "{\"type\":\"object\",\"properties\":{\"deep\":{\"type\":\"object\",\"properties\":{\"deeper\":{\"type\":\"object\",\"properties\":"
                    + "{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}},\"required\":[\"deeper\"]}},\"required\":[\"deep\"]}",
            "{\"type\":\"object\",\"properties\":{\"lang\":{\"enum\":[\"en\",\"fr\",\"de\"]},\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3}},\"required\":[\"lang\",\"n\"]}",
            "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"enum\":[\"yes\",\"no\"]},\"t\":{\"type\":\"boolean\"}},\"required\":[\"s\",\"t\"]}",
            "{\"type\":\"object\",\"properties\":{\"pair\":{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":2,\"maxItems\":2}},\"required\":[\"pair\"]}");

    static ChorusServer server;

    // The synthetic model's template (ChatML) does not render tools, which keeps prompts inside its small
    // context; the parser is named instead of detected.
    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o.withToolCallParser("hermes"));
    }

    @AfterAll
    static void down() {
        server.close();
    }

    private static String tools() {
        StringBuilder t = new StringBuilder("[");
        for (int i = 0; i < PARAMETERS.size(); i++) {
            if (i > 0) t.append(',');
            t.append("{\"type\":\"function\",\"function\":{\"name\":\"f").append(i).append("\",\"parameters\":").append(PARAMETERS.get(i)).append("}}");
        }
        return t.append(']').toString();
    }

    private static String request(long seed, String toolChoice, boolean stream) {
        return "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Call a function.\"}],\"temperature\":1.0,\"max_tokens\":300,"
                + "\"seed\":" + seed + ",\"tools\":" + tools() + ",\"tool_choice\":" + toolChoice + (stream ? ",\"stream\":true" : "") + "}";
    }

    private static void assertValid(String name, String arguments) {
        int i = Integer.parseInt(name.substring(1));
        Schema schema = SCHEMAS.getSchema(PARAMETERS.get(i), InputFormat.JSON);
        assertThat(schema.validate(arguments, InputFormat.JSON)).as(name + " " + arguments).isEmpty();
    }

    @Test
    void namedFunctionsAlwaysGetValidArguments() throws Exception {
        for (int i = 0; i < PARAMETERS.size(); i++) {
            String choice = "{\"type\":\"function\",\"function\":{\"name\":\"f" + i + "\"}}";
            JsonNode c = ToolsApiTest.ok(TestServers.post(server, "/v1/chat/completions", request(1000 + i, choice, false))).get("choices").get(0);
            assertThat(c.get("finish_reason").asText()).as(c.toString()).isEqualTo("tool_calls");
            JsonNode calls = c.get("message").get("tool_calls");
            assertThat(calls).hasSize(1);
            assertThat(calls.get(0).get("function").get("name").asText()).isEqualTo("f" + i);
            assertValid("f" + i, calls.get(0).get("function").get("arguments").asText());
        }
    }

    /** A tool for the OpenAI SDK's helper, which derives the function's name and schema from the class. */
    public static class Forecast {
        public enum Unit { CELSIUS, FAHRENHEIT }

        public Unit unit;
        public long days; // the schema says integer, unbounded: up to 16 digits under the grammar
        public boolean hourly;
    }

    @Test
    void theOpenAiSdksToolHelperGetsCallsItCanReadBackWholeAndStreamed() {
        com.openai.client.OpenAIClient client = TestServers.client(server);
        for (int seed = 0; seed < 3; seed++) {
            var params = com.openai.models.chat.completions.ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                    .addUserMessage("Forecast?").addTool(Forecast.class).temperature(1.0).seed(seed).maxCompletionTokens(300)
                    .toolChoice(com.openai.models.chat.completions.ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
            var whole = client.chat().completions().create(params);
            var acc = com.openai.helpers.ChatCompletionAccumulator.create();
            try (var stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(acc::accumulate);
            }
            for (var c : List.of(whole, acc.chatCompletion())) {
                var choice = c.choices().get(0);
                assertThat(choice.finishReason().asString()).isEqualTo("tool_calls");
                for (var call : choice.message().toolCalls().orElseThrow()) {
                    var fn = call.asFunction().function();
                    assertThat(fn.name()).isEqualTo("Forecast");
                    Forecast f = fn.arguments(Forecast.class);
                    assertThat(f.unit).isNotNull();
                }
            }
        }
    }

    @Test
    void llamaAndMistralSyntaxesToo() throws Exception {
        for (String parser : List.of("llama3_json", "mistral")) {
            try (ChorusServer s = TestServers.start(o -> o.withToolCallParser(parser))) {
                for (int seed = 0; seed < 5; seed++) {
                    // One call each: a random model allowed parallel calls may chain them past any token budget.
                    String body = request(seed, "\"required\"", false).replace("\"tool_choice\"", "\"parallel_tool_calls\":false,\"tool_choice\"");
                    JsonNode c = ToolsApiTest.ok(TestServers.post(s, "/v1/chat/completions", body)).get("choices").get(0);
                    assertThat(c.get("message").get("tool_calls")).as(parser + " " + c).hasSize(1);
                    assertThat(c.get("finish_reason").asText()).as(parser + " " + c).isEqualTo("tool_calls");
                    for (JsonNode call : c.get("message").get("tool_calls")) {
                        assertValid(call.get("function").get("name").asText(), call.get("function").get("arguments").asText());
                    }
                }
            }
        }
    }

    @Test
    void requiredAlwaysGivesCallsWholeAndStreamed() throws Exception {
        for (int seed = 0; seed < 20; seed++) {
            JsonNode c = ToolsApiTest.ok(TestServers.post(server, "/v1/chat/completions", request(seed, "\"required\"", false))).get("choices").get(0);
            assertThat(c.get("finish_reason").asText()).as(c.toString()).isEqualTo("tool_calls");
            assertThat(c.get("message").get("content").isNull()).isTrue();
            for (JsonNode call : c.get("message").get("tool_calls")) assertValid(call.get("function").get("name").asText(), call.get("function").get("arguments").asText());
        }
        for (int seed = 0; seed < 5; seed++) {
            StringBuilder[] args = new StringBuilder[16];
            String[] names = new String[16];
            String finish = null;
            for (String line : TestServers.post(server, "/v1/chat/completions", request(seed, "\"required\"", true)).body().split("\n")) {
                if (!line.startsWith("data: {")) continue;
                JsonNode ch = JSON.readTree(line.substring(6)).get("choices").get(0);
                if (!ch.get("finish_reason").isNull()) finish = ch.get("finish_reason").asText();
                assertThat(ch.get("delta").path("content").asText("")).isEmpty();
                for (JsonNode tc : ch.get("delta").path("tool_calls")) {
                    int k = tc.get("index").asInt();
                    if (tc.has("id")) { names[k] = tc.get("function").get("name").asText(); args[k] = new StringBuilder(); }
                    args[k].append(tc.get("function").get("arguments").asText());
                }
            }
            assertThat(finish).isEqualTo("tool_calls");
            assertThat(names[0]).isNotNull();
            for (int k = 0; k < 16 && names[k] != null; k++) assertValid(names[k], args[k].toString());
        }
    }
}
