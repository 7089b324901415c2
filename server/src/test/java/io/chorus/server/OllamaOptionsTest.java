package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Each Ollama option reaches the sampling parameters as its OpenAI/vLLM twin (the tiny test model's
 * logits are too peaked for sampling options to change its answers, so the mapping is checked on the
 * translated body and the parameters built from it); formats, history, and Ollama's think switch
 * and thinking field end to end.
 */
class OllamaOptionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @Test
    void everySamplingOptionBecomesItsTwinInTheBodyTheChatPathReads() throws Exception {
        OllamaRequest.Translated t = OllamaRequest.chat(JSON.readTree("""
                {"messages":[{"role":"user","content":"Hi"}],"keep_alive":"5m","options":{"temperature":0.7,"top_k":20,"top_p":0.8,"min_p":0.05,
                 "repeat_penalty":1.1,"presence_penalty":0.5,"frequency_penalty":0.25,"seed":42,"stop":["\\n\\n","END"],"num_predict":64,
                 "num_ctx":8192,"num_gpu":99,"num_thread":8,"repeat_last_n":64,"mirostat":0,"typical_p":1.0,"tfs_z":1.0}}"""));
        assertThat(t.body().toString()).isEqualTo("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"temperature\":0.7,\"top_k\":20,"
                + "\"top_p\":0.8,\"min_p\":0.05,\"repetition_penalty\":1.1,\"presence_penalty\":0.5,\"frequency_penalty\":0.25,\"seed\":42,"
                + "\"stop\":[\"\\n\\n\",\"END\"]}");
        assertThat(t.numPredict()).isEqualTo(64);
        // And the chat path turns them into these sampling parameters.
        io.chorus.engine.api.SamplingParams sp = Params.sampling(t.body(), 1000).build();
        assertThat(sp.temperature()).isEqualTo(0.7);
        assertThat(sp.topK()).isEqualTo(20);
        assertThat(sp.topP()).isEqualTo(0.8);
        assertThat(sp.minP()).isEqualTo(0.05);
        assertThat(sp.repetitionPenalty()).isEqualTo(1.1);
        assertThat(sp.presencePenalty()).isEqualTo(0.5);
        assertThat(sp.frequencyPenalty()).isEqualTo(0.25);
        assertThat(sp.seed()).isEqualTo(42L);
        assertThat(sp.stop()).containsExactly("\n\n", "END");
    }

    @Test
    void thinkSwitchesTheTemplateAndTheReasoningComesBackAsThinking() throws Exception {
        ScriptedSampler sampler = new ScriptedSampler();
        try (ChorusServer s = TestServers.start(o -> o.withChatTemplate(TemplateFixtures.require("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")),
                sampler.seams())) {
            sampler.script(601, "Two and two.\n</think>\n\nIt is 4.", s.model().tokenizer());
            String req = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"}],\"options\":{\"seed\":601}";
            JsonNode msg = OllamaApiTest.ok(TestServers.post(s, "/api/chat", req + ",\"stream\":false}")).get("message");
            assertThat(msg.get("thinking").asText()).isEqualTo("Two and two.\n");
            assertThat(msg.get("content").asText()).isEqualTo("It is 4.");
            StringBuilder thinking = new StringBuilder(), content = new StringBuilder();
            for (String line : TestServers.post(s, "/api/chat", req + "}").body().split("\n")) {
                JsonNode m = JSON.readTree(line).get("message");
                thinking.append(m.path("thinking").asText(""));
                content.append(m.get("content").asText());
            }
            assertThat(thinking.toString()).isEqualTo("Two and two.\n");
            assertThat(content.toString()).isEqualTo("It is 4.");
        }
        // think reaches the template as enable_thinking (Qwen3's template reads it).
        JsonNode t = JSON.readTree(OllamaRequest.chat(JSON.readTree("{\"messages\":[],\"think\":false}")).body().toString());
        assertThat(t.get("chat_template_kwargs").toString()).isEqualTo("{\"enable_thinking\":false}");
    }

    @Test
    void formatsAndNumPredictTranslate() throws Exception {
        OllamaRequest.Translated json = OllamaRequest.chat(JSON.readTree("{\"messages\":[],\"format\":\"json\",\"options\":{\"num_predict\":-1}}"));
        assertThat(json.body().get("response_format").toString()).isEqualTo("{\"type\":\"json_object\"}");
        assertThat(json.numPredict()).isNull();
        assertThat(json.stream()).isTrue();
        OllamaRequest.Translated schema = OllamaRequest.chat(JSON.readTree("{\"messages\":[],\"stream\":false,\"format\":{\"type\":\"object\"},\"options\":{\"num_predict\":7}}"));
        assertThat(schema.body().get("response_format").toString())
                .isEqualTo("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"format\",\"schema\":{\"type\":\"object\"}}}");
        assertThat(schema.numPredict()).isEqualTo(7);
        assertThat(schema.stream()).isFalse();
        JsonNode history = OllamaRequest.chat(JSON.readTree("""
                {"messages":[{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]},
                 {"role":"tool","content":"ok","tool_name":"f"}]}""")).body().get("messages");
        assertThat(history.toString()).isEqualTo("[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_0\",\"type\":\"function\","
                + "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]},{\"role\":\"tool\",\"content\":\"ok\",\"name\":\"f\"}]");
    }
}
