package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.chorus.engine.KvCacheSizing;
import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineStats;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.model.gguf.GgufFile;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tokenizer.template.ChatTemplate;
import io.chorus.tokenizer.template.ChatTemplates;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Logprobs in OpenAI's shapes, read back by the official SDK. The server runs over a scripted engine
 * that emits known tokens with known logprobs, so the test does not depend on the sampler.
 */
class LogprobsApiTest {
    static ChorusServer server;
    static OpenAIClient client;
    static Tokenizer tok;
    static int[] script;

    @BeforeAll
    static void up() {
        GgufFile f = GgufFile.open(TestServers.modelFile());
        tok = Tokenizer.fromGguf(f);
        script = tok.encode("ok go", false, false);
        ServeOptions o = TestServers.options();
        EngineConfig config = new EngineConfig(8, 256, 1024, true, SchedulingPolicy.FCFS, List.of());
        LoadedModel m = LoadedModel.of(TestServers.MODEL, TestServers.modelFile(), tok, ChatTemplate.compile(ChatTemplates.CHATML),
                new ScriptedEngine(), config, new KvCacheSizing(64, 16, 1024, 1024, 64, 65536, ""), o);
        server = new ChorusServer(o).start();
        server.load(() -> m);
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    /** Emits {@link #script} one token per event, each with logprob -(i+1)/4 and two alternatives. */
    static final class ScriptedEngine implements EngineClient {
        @Override
        public RequestHandle submit(EngineRequest r) {
            LinkedBlockingQueue<RequestOutput> q = new LinkedBlockingQueue<>();
            int n = r.sampling().n();
            int len = Math.min(script.length, r.sampling().maxTokens());
            TokenLogprobs[] prompt = null;
            if (r.sampling().promptLogprobs() != null) {
                prompt = new TokenLogprobs[r.promptTokenIds().length];
                for (int i = 1; i < prompt.length; i++) prompt[i] = lp(r.promptTokenIds()[i], -1f, r.sampling().promptLogprobs());
            }
            for (int i = 0; i < len; i++) {
                for (int k = 0; k < n; k++) {
                    TokenLogprobs[] l = r.sampling().logprobs() == null ? null
                            : new TokenLogprobs[] {lp(script[i], -(i + 1) / 4f, r.sampling().logprobs())};
                    q.add(new RequestOutput(r.requestId(), k, new int[] {script[i]}, i == len - 1 ? FinishReason.LENGTH : null, null,
                            r.promptTokenIds().length, i + 1, new RequestOutput.Timings(1, 2, 3), null, l, i == 0 ? prompt : null));
                }
            }
            return new RequestHandle() {
                public String requestId() { return r.requestId(); }
                public RequestOutput next(Duration timeout) throws InterruptedException, TimeoutException {
                    return q.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
                }
                public void abort() {}
                public void abort(int index) {}
            };
        }

        static TokenLogprobs lp(int id, float logprob, int top) {
            int[] ids = new int[top];
            float[] lps = new float[top];
            for (int k = 0; k < top; k++) {
                ids[k] = k == 0 ? id : (id + k) % tok.vocabSize(); // neighbours: distinct pieces, so distinct keys in top_logprobs
                lps[k] = k == 0 ? logprob : logprob - k;
            }
            return new TokenLogprobs(id, logprob, 1, ids, lps);
        }

        public void abort(String requestId) {}
        public EngineStats stats() { return EngineStats.EMPTY; }
        public void close() {}
    }

    @Test
    void chatLogprobs() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .addUserMessage("hi").maxCompletionTokens(16).logprobs(true).topLogprobs(2).build());
        List<ChatCompletionTokenLogprob> content = c.choices().get(0).logprobs().get().content().get();
        assertThat(content).hasSize(script.length);
        for (int i = 0; i < script.length; i++) {
            ChatCompletionTokenLogprob t = content.get(i);
            assertThat(t.token()).isEqualTo(LogprobsJson.tokenString(tok, script[i]));
            assertThat(t.logprob()).isEqualTo(-(i + 1) / 4.0);
            assertThat(t.bytes().get()).hasSize(tok.tokenBytes(script[i]).length);
            assertThat(t.topLogprobs()).hasSize(2);
            assertThat(t.topLogprobs().get(1).logprob()).isEqualTo(-(i + 1) / 4.0 - 1);
        }
        StringBuilder text = new StringBuilder();
        content.forEach(t -> text.append(t.token()));
        assertThat(text.toString().strip()).isEqualTo(c.choices().get(0).message().content().get().strip());
    }

    @Test
    void streamedChatLogprobsCoverEveryToken() {
        List<ChatCompletionTokenLogprob> all = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model(TestServers.MODEL).addUserMessage("hi").maxCompletionTokens(16).logprobs(true).topLogprobs(1).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(c -> c.logprobs().flatMap(l -> l.content()).ifPresent(all::addAll)));
        }
        assertThat(all).extracting(ChatCompletionTokenLogprob::logprob).hasSize(script.length).first().isEqualTo(-0.25);
    }

    @Test
    void completionLogprobsWithEcho() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL).prompt("hi there")
                .maxTokens(16).logprobs(3).echo(true).build());
        var lp = c.choices().get(0).logprobs().get();
        int promptLen = tok.encode("hi there", true, true).length;
        assertThat(lp.tokens().get()).hasSize(promptLen + script.length);
        assertThat(lp.tokenLogprobs().get()).hasSize(promptLen + script.length);
        assertThat(lp.tokenLogprobs().get().get(promptLen)).isEqualTo(-0.25);
        assertThat(lp.topLogprobs().get().get(promptLen + 1)._additionalProperties()).hasSize(3);
        List<Long> offsets = lp.textOffset().get();
        for (int i = 1; i < offsets.size(); i++) assertThat(offsets.get(i)).isGreaterThanOrEqualTo(offsets.get(i - 1));
        JsonNode raw = CompletionsApiTest.json(TestServers.post(server, "/v1/completions",
                "{\"prompt\":\"hi\",\"max_tokens\":16,\"logprobs\":3}"));
        assertThat(raw.at("/choices/0/logprobs/top_logprobs/0").size()).isEqualTo(3);
        assertThat(raw.at("/choices/0/logprobs/token_logprobs/1").asDouble()).isEqualTo(-0.5);
    }
}
