package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chat completions through the official OpenAI Java SDK against a live server. */
class ChatApiTest {
    static ChorusServer server;
    static OpenAIClient client;

    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o);
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    static ChatCompletionCreateParams.Builder params(String user, int maxTokens) {
        return ChatCompletionCreateParams.builder().model(TestServers.MODEL).addUserMessage(user)
                .maxCompletionTokens(maxTokens).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    @Test
    void nonStreamingChatHasContentUsageAndFinishReason() {
        ChatCompletion c = client.chat().completions().create(params("Hello there", 8).build());
        assertThat(c.model()).isEqualTo(TestServers.MODEL);
        assertThat(c.choices()).hasSize(1);
        ChatCompletion.Choice choice = c.choices().get(0);
        assertThat(choice.message().content()).isPresent();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        assertThat(c.usage().get().completionTokens()).isEqualTo(8);
        assertThat(c.usage().get().promptTokens()).isGreaterThan(3);
        assertThat(c.usage().get().totalTokens()).isEqualTo(c.usage().get().promptTokens() + 8);
    }

    @Test
    void streamingEqualsNonStreamingAndEndsWithUsage() {
        String whole = client.chat().completions().create(params("Stream me", 12).build()).choices().get(0).message().content().orElse("");
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params("Stream me", 12)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunks::add);
        }
        assertThat(chunks.get(0).choices().get(0).delta().role()).isPresent();
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (ChatCompletionChunk ch : chunks) {
            for (ChatCompletionChunk.Choice c : ch.choices()) {
                c.delta().content().ifPresent(text::append);
                if (c.finishReason().isPresent()) finish = c.finishReason().get().asString();
            }
        }
        assertThat(text.toString()).isEqualTo(whole);
        assertThat(finish).isEqualTo("length");
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage().get().completionTokens()).isEqualTo(12);
    }

    @Test
    void nTwoGivesTwoChoices() {
        ChatCompletion c = client.chat().completions().create(params("Two please", 6).n(2).temperature(1.0).seed(3).build());
        assertThat(c.choices()).extracting(ChatCompletion.Choice::index).containsExactly(0L, 1L);
        assertThat(c.usage().get().completionTokens()).isEqualTo(12);
    }

    @Test
    void streamingNTwoGivesEachIndexItsRoleTextAndFinish() {
        ChatCompletion whole = client.chat().completions().create(params("Two streams", 5).n(2).temperature(0.9).seed(5).build());
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        int[] roles = new int[2];
        String[] finish = new String[2];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                params("Two streams", 5).n(2).temperature(0.9).seed(5).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(c -> {
                int i = (int) c.index();
                if (c.delta().role().isPresent()) roles[i]++;
                c.delta().content().ifPresent(text[i]::append);
                c.finishReason().ifPresent(f -> finish[i] = f.asString());
            }));
        }
        for (int i = 0; i < 2; i++) {
            assertThat(roles[i]).isEqualTo(1);
            assertThat(finish[i]).isEqualTo("length");
            assertThat(text[i].toString()).isEqualTo(whole.choices().get(i).message().content().orElse(""));
        }
    }

    @Test
    void stopStringCutsTheTextAndReportsStop() {
        String whole = client.chat().completions().create(params("Stop test", 24).build()).choices().get(0).message().content().orElse("");
        assertThat(whole.length()).isGreaterThan(4);
        String stop = whole.substring(2, 4);
        ChatCompletion c = client.chat().completions().create(params("Stop test", 24).stop(stop).build());
        String text = c.choices().get(0).message().content().orElse("");
        assertThat(text).isEqualTo(whole.substring(0, whole.indexOf(stop)));
        assertThat(c.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    }

    @Test
    void contentPartsRenderLikeAString() {
        String plain = client.chat().completions().create(params("abc def", 6).build()).choices().get(0).message().content().orElse("");
        String raw = TestServers.post(server, "/v1/chat/completions", """
                {"model":"tiny","max_tokens":6,"temperature":0,"ignore_eos":true,
                 "messages":[{"role":"user","content":[{"type":"text","text":"abc def"}]}]}""").body();
        assertThat(raw).contains("\"content\":" + ChorusServer.JSON.valueToTree(plain));
    }

    @Test
    void logprobsComeInOpenAiShape() {
        ChatCompletion c = client.chat().completions().create(params("Logprobs", 4).logprobs(true).topLogprobs(2).build());
        var lp = c.choices().get(0).logprobs();
        // The engine fills logprobs once its sampler computes them; the shape must hold whenever it does.
        lp.ifPresent(l -> {
            assertThat(l.content()).isPresent();
            l.content().get().forEach(t -> assertThat(t.logprob()).isLessThanOrEqualTo(0.0));
        });
    }
}
