package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import io.chorus.engine.api.EngineStats;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Many clients at once share engine steps and get their own answers; a client that leaves frees its blocks. */
class ConcurrencyTest {
    static final int CLIENTS = 32;
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

    @Test
    void thirtyTwoStreamingClientsGetTheirSoloAnswersInSharedBatches() throws Exception {
        List<String> solo = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            solo.add(client.chat().completions().create(ChatApiTest.params("Client " + i + " says hello", 16).build())
                    .choices().get(0).message().content().orElse(""));
        }
        String before = TestServers.get(server, "/metrics").body();
        List<Future<String>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < CLIENTS; i++) {
                String prompt = "Client " + i + " says hello";
                results.add(pool.submit(() -> {
                    StringBuilder text = new StringBuilder();
                    try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(ChatApiTest.params(prompt, 16).build())) {
                        s.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
                    }
                    return text.toString();
                }));
            }
            for (int i = 0; i < CLIENTS; i++) assertThat(results.get(i).get()).as("client %d", i).isEqualTo(solo.get(i));
        }
        String after = TestServers.get(server, "/metrics").body();
        String label = "{model_name=\"tiny\"}";
        double tokens = TestServers.metric(after, "vllm:generation_tokens_total" + label) - TestServers.metric(before, "vllm:generation_tokens_total" + label);
        double steps = TestServers.metric(after, "chorus:engine_steps_total" + label) - TestServers.metric(before, "chorus:engine_steps_total" + label);
        assertThat(tokens).isEqualTo(CLIENTS * 16);
        assertThat(tokens / steps).as("tokens generated per engine step").isGreaterThan(2);
        assertThat(TestServers.metric(after, "chorus:max_step_seqs" + label)).isGreaterThan(1);
        awaitIdle();
        String idle = TestServers.get(server, "/metrics").body();
        assertThat(TestServers.metric(idle, "vllm:num_requests_running" + label)).isZero();
        assertThat(TestServers.metric(idle, "vllm:kv_cache_usage_perc" + label)).isZero();
    }

    @Test
    void clientDisconnectMidStreamAbortsTheRequest() throws Exception {
        awaitIdle();
        long abortsBefore = server.model().engine().stats().finishedAbort();
        String body = "{\"model\":\"tiny\",\"prompt\":\"Keep going\",\"max_tokens\":1000,\"ignore_eos\":true,\"stream\":true}";
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) events++;
            assertThat(events).isEqualTo(3);
        }
        awaitIdle();
        EngineStats s = server.model().engine().stats();
        assertThat(s.finishedAbort()).isEqualTo(abortsBefore + 1);
        assertThat(s.running()).isZero();
        assertThat(s.kvUsage()).isZero();
    }

    static void awaitIdle() throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < until) {
            EngineStats s = server.model().engine().stats();
            if (s.running() == 0 && s.waiting() == 0 && s.kvUsage() == 0) return;
            Thread.sleep(5);
        }
        throw new AssertionError("engine not idle after 10 s: " + server.model().engine().stats());
    }
}
