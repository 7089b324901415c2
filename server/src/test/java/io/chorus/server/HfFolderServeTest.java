package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * `chorus serve --model DIR` over the Hugging Face fixture folders: the chat template and
 * tokenizer.json of the folder render and count the prompt as the reference does, and a greedy
 * completion from the reference prompt ids returns the float64 reference's greedy text.
 */
class HfFolderServeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path folder(String name) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 5 && dir != null; i++, dir = dir.getParent()) {
            for (Path c : new Path[] {dir.resolve("shared/fixtures/hf"), dir.resolveSibling("shared").resolve("fixtures/hf")}) {
                if (Files.isDirectory(c.resolve(name))) return c.resolve(name);
            }
        }
        assumeTrue(false, "shared/fixtures/hf/" + name + " not found; skipping");
        return null;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-bf16", "qwen2-bf16", "llama-fp8", "llama-awq", "llama-gptq"})
    void servesFolderWithItsTokenizerAndChatTemplate(String name) throws IOException {
        Path dir = folder(name);
        JsonNode ref = JSON.readTree(dir.resolve("ref.json").toFile());
        JsonNode chat = ref.get("tokenizer").get("chat_example");
        boolean bos = ref.get("tokenizer").get("adds_bos").asBoolean();
        try (ChorusServer s = TestServers.start(o -> o.withModel(dir))) {
            OpenAIClient client = TestServers.client(s);
            ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                    .addSystemMessage(chat.get("messages").get(0).get("content").asText())
                    .addUserMessage(chat.get("messages").get(1).get("content").asText())
                    .temperature(0.0).maxCompletionTokens(6).build());
            // the rendered ChatML conversation, tokenized with its special tokens, plus BOS where the tokenizer adds it
            assertThat(c.usage().get().promptTokens()).isEqualTo(chat.get("ids_add_special_tokens_false").size() + (bos ? 1 : 0));
            assertThat(c.choices().getFirst().message().content()).isPresent();

            // Greedy from the reference prompt ids: the reference's greedy ids up to its first near-tie, as text.
            int[] greedy = ReferenceIds.ints(ref.get("numpy_ref").get("greedy_ids"));
            JsonNode margins = ref.get("numpy_ref").get("greedy_margins");
            int clear = 0;
            while (clear < greedy.length && margins.get(clear).asDouble() >= 0.05) clear++;
            String body = "{\"model\":\"" + TestServers.MODEL + "\",\"prompt\":" + ref.get("prompt_ids") + ",\"max_tokens\":" + clear
                    + ",\"temperature\":0,\"repetition_penalty\":1,\"logprobs\":0}"; // no generation_config.json penalty
            HttpResponse<String> r = TestServers.post(s, "/v1/completions", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode tokens = JSON.readTree(r.body()).get("choices").get(0).get("logprobs").get("tokens");
            assertThat(tokens.size()).isEqualTo(clear);
            StringBuilder want = new StringBuilder(), got = new StringBuilder();
            for (int i = 0; i < clear; i++) {
                want.append(s.model().tokenizer().decode(new int[] {greedy[i]}));
                got.append(tokens.get(i).asText());
            }
            assertThat(got.toString()).isEqualTo(want.toString());
            assertThat(JSON.readTree(r.body()).get("choices").get(0).get("text").asText()).isEqualTo(want.toString());
        }
    }

    /** Reads int arrays from reference JSON. */
    static final class ReferenceIds {
        static int[] ints(JsonNode a) {
            int[] out = new int[a.size()];
            for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
            return out;
        }
    }
}
