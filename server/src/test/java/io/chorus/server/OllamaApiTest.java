package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ollama's native API over raw HTTP: each endpoint's fields and values as Ollama writes them, and its errors. */
class OllamaApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
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

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static List<JsonNode> lines(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/x-ndjson");
        assertThat(r.body()).endsWith("}\n");
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.body().split("\n")) out.add(JSON.readTree(line));
        return out;
    }

    static String chat(long seed, String extra) {
        return "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"options\":{\"seed\":" + seed + "}" + extra + "}";
    }

    static int openAiPromptTokens(String messages) throws Exception {
        return ok(TestServers.post(server, "/v1/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":1,\"messages\":" + messages + "}"))
                .get("usage").get("prompt_tokens").asInt();
    }

    @Test
    void versionTagsAndPsDescribeTheServedModel() throws Exception {
        assertThat(ok(TestServers.get(server, "/api/version")).toString()).isEqualTo("{\"version\":\"" + OllamaApi.API_VERSION + "\"}");
        JsonNode tags = ok(TestServers.get(server, "/api/tags")).get("models");
        assertThat(tags).hasSize(1);
        JsonNode m = tags.get(0);
        assertThat(m.get("name").asText()).isEqualTo("tiny:latest");
        assertThat(m.get("model").asText()).isEqualTo("tiny:latest");
        assertThat(m.get("size").asLong()).isEqualTo(java.nio.file.Files.size(TestServers.modelFile()));
        assertThat(m.get("digest").asText()).matches("[0-9a-f]{64}");
        assertThat(Instant.parse(m.get("modified_at").asText())).isEqualTo(java.nio.file.Files.getLastModifiedTime(TestServers.modelFile()).toInstant());
        JsonNode d = m.get("details");
        assertThat(d.get("format").asText()).isEqualTo("gguf");
        assertThat(d.get("family").asText()).isEqualTo("qwen2");
        assertThat(d.get("families").toString()).isEqualTo("[\"qwen2\"]");
        long params = OllamaApi.parameterCount(server.model().model().ggufFile());
        assertThat(d.get("parameter_size").asText()).isEqualTo(OllamaApi.parameterSize(params));
        assertThat(d.get("quantization_level").asText()).isEqualTo("Q8_0");
        JsonNode ps = ok(TestServers.get(server, "/api/ps")).get("models").get(0);
        assertThat(ps.get("name").asText()).isEqualTo("tiny:latest");
        assertThat(ps.get("digest").asText()).isEqualTo(m.get("digest").asText());
        assertThat(ps.get("size_vram").asLong()).isZero();
        assertThat(ps.get("context_length").asInt()).isEqualTo(server.model().maxModelLen());
        assertThat(Instant.parse(ps.get("expires_at").asText())).isAfter(Instant.parse("2100-01-01T00:00:00Z"));
    }

    @Test
    void theQuantizationLevelIsTheDeclaredMixWhereTheTensorsAgree(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path f = dir.resolve("m.gguf");
        io.chorus.model.SyntheticModel.write(io.chorus.model.SyntheticModel.shape("tiny-llama"), io.chorus.model.SyntheticModel.Mix.Q4_K_M, 1, f);
        try (io.chorus.model.gguf.GgufFile g = io.chorus.model.gguf.GgufFile.open(f)) {
            assertThat(g.getLong("general.file_type")).isEqualTo(15);
            assertThat(OllamaApi.quantization(g)).isEqualTo("Q4_K_M");
        }
        assertThat(OllamaApi.quantization(server.model().model().ggufFile())).isEqualTo("Q8_0");
    }

    @Test
    void parameterSizesAreWrittenAsOllamaWritesThem() {
        assertThat(OllamaApi.parameterSize(494_032_768L)).isEqualTo("494.03M");
        assertThat(OllamaApi.parameterSize(7_615_616_512L)).isEqualTo("7.6B");
        assertThat(OllamaApi.parameterSize(8_030_261_248L)).isEqualTo("8.0B");
        assertThat(OllamaApi.parameterSize(12_345L)).isEqualTo("12.35K");
        assertThat(OllamaApi.parameterSize(999L)).isEqualTo("999");
    }

    @Test
    void showGivesTheTemplateDetailsMetadataAndCapabilities() throws Exception {
        for (String name : List.of("tiny", "tiny:latest")) {
            JsonNode s = ok(TestServers.post(server, "/api/show", "{\"model\":\"" + name + "\"}"));
            assertThat(s.get("template").asText()).isEqualTo(server.model().chatTemplate().source());
            assertThat(s.get("details").get("family").asText()).isEqualTo("qwen2");
            JsonNode info = s.get("model_info");
            assertThat(info.get("general.architecture").asText()).isEqualTo("qwen2");
            assertThat(info.get("qwen2.context_length").asLong()).isEqualTo(server.model().model().config().contextLength());
            assertThat(info.get("general.parameter_count").asLong()).isEqualTo(OllamaApi.parameterCount(server.model().model().ggufFile()));
            assertThat(info.has("tokenizer.ggml.tokens")).isFalse();
            assertThat(info.has("tokenizer.chat_template")).isFalse();
            assertThat(s.get("capabilities").toString()).isEqualTo("[\"completion\",\"tools\"]");
        }
        // Older clients send "name".
        assertThat(ok(TestServers.post(server, "/api/show", "{\"name\":\"tiny\"}")).has("details")).isTrue();
    }

    @Test
    void chatWholeHasOllamasFieldsAndTheOpenAiPathsCounts() throws Exception {
        sampler.script(501, "Hello there.", server.model().tokenizer());
        JsonNode r = ok(TestServers.post(server, "/api/chat", chat(501, ",\"stream\":false,\"keep_alive\":\"5m\"")));
        assertThat(r.get("model").asText()).isEqualTo("tiny");
        Instant created = Instant.parse(r.get("created_at").asText());
        assertThat(created).isBetween(Instant.now().minusSeconds(60), Instant.now());
        assertThat(r.get("message").toString()).isEqualTo("{\"role\":\"assistant\",\"content\":\"Hello there.\"}");
        assertThat(r.get("done").asBoolean()).isTrue();
        assertThat(r.get("done_reason").asText()).isEqualTo("stop");
        assertThat(r.get("prompt_eval_count").asInt()).isEqualTo(openAiPromptTokens("[{\"role\":\"user\",\"content\":\"Hi\"}]"));
        JsonNode openAi = ok(TestServers.post(server, "/v1/chat/completions", "{\"model\":\"tiny\",\"seed\":501,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"));
        assertThat(r.get("eval_count").asInt()).isEqualTo(openAi.get("usage").get("completion_tokens").asInt());
        long total = r.get("total_duration").asLong(), promptEval = r.get("prompt_eval_duration").asLong(), eval = r.get("eval_duration").asLong();
        assertThat(r.get("load_duration").asLong()).isZero();
        assertThat(promptEval).isPositive();
        assertThat(eval).isPositive();
        assertThat(total).isGreaterThanOrEqualTo(promptEval + eval);
        assertThat(r.has("context")).isFalse();
    }

    @Test
    void chatStreamsNdjsonLinesEndingWithTheStatistics() throws Exception {
        sampler.script(502, "Hello there.", server.model().tokenizer());
        List<JsonNode> ls = lines(TestServers.post(server, "/api/chat", chat(502, "")));
        StringBuilder text = new StringBuilder();
        for (JsonNode l : ls.subList(0, ls.size() - 1)) {
            assertThat(l.get("done").asBoolean()).isFalse();
            assertThat(l.has("done_reason")).isFalse();
            assertThat(l.get("message").get("role").asText()).isEqualTo("assistant");
            text.append(l.get("message").get("content").asText());
        }
        assertThat(ls.size()).isGreaterThan(3);
        assertThat(text.toString()).isEqualTo("Hello there.");
        JsonNode last = ls.getLast();
        assertThat(last.get("done").asBoolean()).isTrue();
        assertThat(last.get("message").get("content").asText()).isEmpty();
        assertThat(last.get("done_reason").asText()).isEqualTo("stop");
        assertThat(last.get("eval_count").asInt()).isEqualTo(ls.size() - 1 + 1); // one line per text token, and EOS
        for (String f : List.of("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_duration")) {
            assertThat(last.has(f)).as(f).isTrue();
        }
    }

    @Test
    void stopOptionAndToolCallsInTheStream() throws Exception {
        sampler.script(503, "alpha beta gamma", server.model().tokenizer());
        JsonNode stopped = ok(TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                + "\"options\":{\"seed\":503,\"stop\":[\" gamma\"],\"num_ctx\":4096}}"));
        assertThat(stopped.get("message").get("content").asText()).isEqualTo("alpha beta");
        assertThat(stopped.get("done_reason").asText()).isEqualTo("stop");
        sampler.script(504, "Let me check.\n" + OllamaClientTest.CALL, server.model().tokenizer());
        List<JsonNode> ls = lines(TestServers.post(server, "/api/chat", chat(504, ",\"tools\":" + ToolsApiTest.TOOLS)));
        StringBuilder text = new StringBuilder();
        List<JsonNode> calls = new ArrayList<>();
        for (JsonNode l : ls) {
            text.append(l.get("message").get("content").asText());
            if (l.get("message").has("tool_calls")) calls.add(l.get("message").get("tool_calls"));
        }
        assertThat(text.toString()).isEqualTo("Let me check.");
        assertThat(calls).hasSize(1);
        JsonNode call = calls.getFirst().get(0);
        assertThat(call.get("id").asText()).matches("call_[A-Za-z0-9]{24}");
        assertThat(call.get("function").toString()).isEqualTo("{\"index\":0,\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}");
        assertThat(ls.getLast().get("done_reason").asText()).isEqualTo("stop");
        JsonNode whole = ok(TestServers.post(server, "/api/chat", chat(504, ",\"stream\":false,\"tools\":" + ToolsApiTest.TOOLS))).get("message");
        assertThat(whole.get("content").asText()).isEqualTo("Let me check.");
        assertThat(whole.get("tool_calls").get(0).get("function").toString()).isEqualTo(call.get("function").toString());
    }

    @Test
    void generateTemplatesThePromptAndReturnsAContextToContinueFrom() throws Exception {
        sampler.script(505, "Paris.", server.model().tokenizer());
        JsonNode r = ok(TestServers.post(server, "/api/generate", "{\"model\":\"tiny\",\"stream\":false,\"system\":\"Be brief.\",\"prompt\":\"Capital of France?\","
                + "\"options\":{\"seed\":505}}"));
        assertThat(r.get("response").asText()).isEqualTo("Paris.");
        assertThat(r.get("done_reason").asText()).isEqualTo("stop");
        assertThat(r.has("message")).isFalse();
        int promptTokens = openAiPromptTokens("[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Capital of France?\"}]");
        assertThat(r.get("prompt_eval_count").asInt()).isEqualTo(promptTokens);
        JsonNode ctx = r.get("context");
        assertThat(ctx.size()).isEqualTo(promptTokens + r.get("eval_count").asInt());
        // The context carries on: its tokens come first in the next prompt.
        sampler.script(506, "Berlin.", server.model().tokenizer());
        JsonNode next = ok(TestServers.post(server, "/api/generate", "{\"model\":\"tiny\",\"stream\":false,\"prompt\":\"And Germany?\",\"context\":" + ctx
                + ",\"options\":{\"seed\":506}}"));
        assertThat(next.get("response").asText()).isEqualTo("Berlin.");
        int[] fresh = ChatPrompt.render(server.model(), JSON.readTree("{\"messages\":[{\"role\":\"user\",\"content\":\"And Germany?\"}]}"), false).tokenIds();
        int bos = fresh[0] == server.model().tokenizer().bosId() ? 1 : 0; // the context already starts with it
        assertThat(next.get("prompt_eval_count").asInt()).isEqualTo(ctx.size() + fresh.length - bos);
        assertThat(next.get("context").get(ctx.size()).asInt()).isEqualTo(fresh[bos]);
        for (int i = 0; i < ctx.size(); i++) assertThat(next.get("context").get(i).asInt()).isEqualTo(ctx.get(i).asInt());
    }

    @Test
    void generateStreamsAndRawSkipsTheTemplate() throws Exception {
        sampler.script(507, "four", server.model().tokenizer());
        List<JsonNode> ls = lines(TestServers.post(server, "/api/generate", "{\"model\":\"tiny\",\"prompt\":\"2+2=\",\"raw\":true,\"options\":{\"seed\":507}}"));
        StringBuilder text = new StringBuilder();
        for (JsonNode l : ls) text.append(l.get("response").asText());
        assertThat(text.toString()).isEqualTo("four");
        JsonNode last = ls.getLast();
        int rawTokens = server.model().tokenizer().encode("2+2=", true, true).length;
        assertThat(last.get("prompt_eval_count").asInt()).isEqualTo(rawTokens);
        assertThat(last.get("context").get(0).asInt()).isEqualTo(server.model().tokenizer().encode("2+2=", true, true)[0]);
    }

    @Test
    void anEmptyPromptOrNoMessagesAnswersLoaded() throws Exception {
        JsonNode g = ok(TestServers.post(server, "/api/generate", "{\"model\":\"tiny\"}"));
        assertThat(g.get("response").asText()).isEmpty();
        assertThat(g.get("done").asBoolean()).isTrue();
        assertThat(g.get("done_reason").asText()).isEqualTo("load");
        JsonNode c = ok(TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"messages\":[]}"));
        assertThat(c.get("message").toString()).isEqualTo("{\"role\":\"assistant\",\"content\":\"\"}");
        assertThat(c.get("done_reason").asText()).isEqualTo("load");
    }

    @Test
    void errorsComeInOllamasShapeWithTheRightStatus() throws Exception {
        expectError(TestServers.post(server, "/api/chat", "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"),
                404, "model 'llama3' not found");
        expectError(TestServers.post(server, "/api/show", "{\"model\":\"other:7b\"}"), 404, "model 'other:7b' not found");
        expectError(TestServers.post(server, "/api/chat", "{\"messages\":[]}"), 400, "model is required");
        expectError(TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"What is this?\",\"images\":[\"aGVsbG8=\"]}]}"),
                400, "messages[0].images: images are not supported; the served model reads text only");
        expectError(TestServers.post(server, "/api/generate", "{\"model\":\"tiny\",\"prompt\":\"x\",\"images\":[\"aGVsbG8=\"]}"),
                400, "images: images are not supported; the served model reads text only");
        expectError(TestServers.post(server, "/api/chat", chat(1, ",\"options\":{\"mirostat\":2}").replace("\"options\":{\"seed\":1},", "")),
                400, "options.mirostat is not supported (only 0.0, which changes nothing)");
        expectError(TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"format\":\"xml\"}"),
                400, "format must be \"json\" or a JSON schema object");
        expectError(TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"robot\",\"content\":\"Hi\"}]}"),
                400, "messages[0].role must be system, user, assistant or tool, got 'robot'");
        expectError(TestServers.post(server, "/api/generate", "{\"model\":\"tiny\",\"prompt\":\"x\",\"suffix\":\"y\"}"),
                400, "suffix: fill-in-the-middle is not supported");
        expectError(TestServers.post(server, "/api/chat", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"options\":{\"temperature\":\"hot\"}}"),
                400, "temperature must be a number, got \"hot\"");
        expectError(TestServers.post(server, "/api/chat", "not json"), 400, null);
    }

    static void expectError(HttpResponse<String> r, int status, String message) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.size()).as(r.body()).isEqualTo(1);
        assertThat(body.get("error").isTextual()).as(r.body()).isTrue();
        if (message != null) assertThat(body.get("error").asText()).isEqualTo(message);
    }
}
