package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import java.net.http.HttpResponse;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Structured output over HTTP on the random-weight test model, through the OpenAI SDK's helper and raw JSON. */
class StructuredOutputApiTest {
    static ChorusServer server;
    static OpenAIClient client;
    static final ObjectMapper JSON = new ObjectMapper();

    public enum Sky { CLEAR, CLOUDY, RAIN }

    /** What the SDK turns into a strict JSON schema (all properties required, no others). */
    public static class Forecast {
        @JsonPropertyDescription("the sky")
        public Sky sky;
        public boolean windy;
        public long day;
    }

    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o);
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    @Test
    void theSdkStructuredOutputHelperGetsItsClassBack() {
        for (long seed = 1; seed <= 3; seed++) {
            StructuredChatCompletionCreateParams<Forecast> p = ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                    .addUserMessage("Forecast for tomorrow?").temperature(1.0).seed(seed).maxCompletionTokens(200)
                    .responseFormat(Forecast.class).build();
            StructuredChatCompletion<Forecast> c = client.chat().completions().create(p);
            StructuredChatCompletion.Choice<Forecast> choice = c.choices().get(0);
            assertThat(choice.finishReason().asString()).isEqualTo("stop");
            Forecast f = choice.message().content().orElseThrow();
            assertThat(f.sky).isNotNull();
        }
    }

    @Test
    void choiceRegexAndJsonObjectOnCompletionsAndChat() throws Exception {
        JsonNode choice = ok(TestServers.post(server, "/v1/completions", """
                {"model":"tiny","prompt":"Pick one:","max_tokens":20,"temperature":1.0,"seed":4,"n":4,
                 "guided_choice":["alpha","beta","gamma delta"]}"""));
        for (JsonNode c : choice.get("choices")) {
            assertThat(c.get("text").asText()).isIn("alpha", "beta", "gamma delta");
            assertThat(c.get("finish_reason").asText()).isEqualTo("stop");
        }
        JsonNode regex = ok(TestServers.post(server, "/v1/chat/completions", """
                {"model":"tiny","messages":[{"role":"user","content":"A code"}],"max_tokens":30,"temperature":1.0,"seed":5,
                 "structured_outputs":{"regex":"[A-Z]{2}-\\\\d{3}"}}"""));
        String text = regex.get("choices").get(0).get("message").get("content").asText();
        assertThat(Pattern.compile("[A-Z]{2}-\\d{3}").matcher(text).matches()).as(text).isTrue();
        JsonNode obj = ok(TestServers.post(server, "/v1/chat/completions", """
                {"model":"tiny","messages":[{"role":"user","content":"JSON"}],"max_tokens":10,"temperature":1.0,"seed":6,
                 "response_format":{"type":"json_object"}}"""));
        assertThat(obj.get("choices").get(0).get("message").get("content").asText()).startsWith("{");
        JsonNode schema = ok(TestServers.post(server, "/v1/completions", """
                {"model":"tiny","prompt":"n=","max_tokens":20,"temperature":1.0,"seed":7,
                 "response_format":{"type":"json_schema","json_schema":{"name":"n","strict":true,
                   "schema":{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9}},"required":["n"],"additionalProperties":false}}}}"""));
        JsonNode n = JSON.readTree(schema.get("choices").get(0).get("text").asText());
        assertThat(n.get("n").asInt()).isBetween(1, 9);
        assertThat(schema.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void refusalsNameWhatIsWrong() throws Exception {
        String two = """
                {"model":"tiny","prompt":"x","max_tokens":5,"guided_regex":"a+","response_format":{"type":"json_object"}}""";
        assertThat(error(TestServers.post(server, "/v1/completions", two))).contains("at most one output constraint");
        String keyword = """
                {"model":"tiny","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",
                 "json_schema":{"name":"x","schema":{"type":"array","uniqueItems":true}}}}""";
        assertThat(error(TestServers.post(server, "/v1/chat/completions", keyword))).contains("'uniqueItems'");
        String regex = """
                {"model":"tiny","prompt":"x","guided_regex":"(a)\\\\1"}""";
        assertThat(error(TestServers.post(server, "/v1/completions", regex))).contains("backreferences");
        String type = """
                {"model":"tiny","prompt":"x","response_format":{"type":"yaml"}}""";
        assertThat(error(TestServers.post(server, "/v1/completions", type))).contains("response_format.type");
        String grammar = """
                {"model":"tiny","prompt":"x","guided_grammar":"root ::= missing"}""";
        assertThat(error(TestServers.post(server, "/v1/completions", grammar))).contains("'missing'");
        String so = """
                {"model":"tiny","prompt":"x","structured_outputs":{"regex":"a","choice":["a"]}}""";
        assertThat(error(TestServers.post(server, "/v1/completions", so))).contains("exactly one");
        // The server still serves after every refusal.
        ok(TestServers.post(server, "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"max_tokens\":2}"));
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String error(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        return e.get("message").asText();
    }

}
