package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The shutdown sequence a load balancer follows: health fails at once while requests are still
 * served; then the listener closes; in-flight requests finish within the grace period or are
 * aborted with their blocks freed.
 */
class DrainTest {
    static final String STREAM = "{\"model\":\"tiny\",\"prompt\":\"once upon a time\",\"max_tokens\":%d,\"ignore_eos\":true,\"stream\":true}";

    static CompletableFuture<HttpResponse<String>> startStream(ChorusServer s, int maxTokens) throws InterruptedException {
        CompletableFuture<HttpResponse<String>> stream = CompletableFuture.supplyAsync(
                () -> TestServers.post(s, "/v1/completions", STREAM.formatted(maxTokens)));
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (s.model().engine().stats().running() == 0 && System.nanoTime() < until) Thread.sleep(2);
        assertThat(s.model().engine().stats().running()).isEqualTo(1);
        return stream;
    }

    static boolean refused(ChorusServer s) {
        try (Socket ignored = new Socket("127.0.0.1", s.port())) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The finish reason in the last chunk that has one. */
    static String finishReason(String sse) throws IOException {
        String reason = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode r = ChorusServer.JSON.readTree(line.substring(6)).at("/choices/0/finish_reason");
            if (!r.isMissingNode() && !r.isNull()) reason = r.asText();
        }
        return reason;
    }

    @Test
    void healthFailsAtOnceRequestsAreServedUntilTheListenerClosesAndStreamsFinish() throws Exception {
        ChorusServer s = TestServers.start(o -> o.withShutdownGrace(Duration.ofSeconds(60)));
        try {
            CompletableFuture<HttpResponse<String>> stream = startStream(s, 48);
            CountDownLatch delayOver = new CountDownLatch(1);
            Thread drainer = Thread.ofVirtual().start(() -> s.drain(() -> {
                try {
                    delayOver.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, Duration.ofSeconds(60)));

            HttpResponse<String> health;
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            do {
                health = TestServers.get(s, "/health");
            } while (health.statusCode() == 200 && System.nanoTime() < until);
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(ChorusServer.JSON.readTree(health.body()).at("/error/message").asText()).isEqualTo("the server is shutting down");

            // A balancer that has not yet seen the failed check still sends requests: they are served.
            HttpResponse<String> late = TestServers.post(s, "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"hi\",\"max_tokens\":3,\"ignore_eos\":true}");
            assertThat(late.statusCode()).isEqualTo(200);
            assertThat(ChorusServer.JSON.readTree(late.body()).at("/usage/completion_tokens").asInt()).isEqualTo(3);
            assertThat(TestServers.get(s, "/metrics").statusCode()).as("metrics stay readable while draining").isEqualTo(200);
            assertThat(refused(s)).isFalse();

            delayOver.countDown();
            until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!refused(s) && System.nanoTime() < until) Thread.sleep(5);
            assertThat(refused(s)).as("after the delay the listener is closed").isTrue();

            HttpResponse<String> done = stream.get();
            assertThat(done.statusCode()).isEqualTo(200);
            assertThat(done.body()).endsWith("data: [DONE]\n\n");
            assertThat(finishReason(done.body())).as("the stream ran to its end within the grace period").isEqualTo("length");
            drainer.join();
            assertThat(s.model().engine().stats().finishedAbort()).isZero();
            assertThat(s.model().engine().stats().finishedLength()).isEqualTo(2);
        } finally {
            s.close();
        }
    }

    @Test
    void requestsStillRunningAfterTheGraceAreAbortedAndTheirBlocksFreed() throws Exception {
        ChorusServer s = TestServers.start(o -> o);
        try {
            CompletableFuture<HttpResponse<String>> stream = startStream(s, 1000);
            assertThat(s.model().engine().stats().kvUsage()).isPositive();
            s.shutdown(Duration.ZERO, Duration.ZERO);
            HttpResponse<String> cut = stream.get();
            assertThat(cut.statusCode()).isEqualTo(200);
            assertThat(finishReason(cut.body())).isEqualTo("abort");
            assertThat(cut.body()).endsWith("data: [DONE]\n\n");
            assertThat(s.model().engine().stats().finishedAbort()).isEqualTo(1);
            assertThat(s.model().engine().stats().kvUsage()).isZero();
            assertThat(s.model().engine().stats().running()).isZero();
        } finally {
            s.close();
        }
    }
}
