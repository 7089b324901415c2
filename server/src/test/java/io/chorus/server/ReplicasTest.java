package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas behind real HAProxy and nginx, configured as scripts/replicas configures them: requests
 * spread over both; a rolling restart (drain, start again) under steady streaming load loses no
 * request; a replica stopped at once (no drain, as after SIGKILL) is taken out and no later request
 * fails; header affinity keeps a conversation's prefix cached. Replicas run in this JVM (a restart
 * is a drain and a new server on the same port) so the whole class takes seconds; scripts/replicas-measure
 * does the same with real processes and SIGKILL. Skipped with a message where haproxy or nginx is absent.
 */
class ReplicasTest {
    private static final Duration DELAY = Duration.ofSeconds(1); // > HAProxy's 2 failed checks 100 ms apart, with slack for a busy machine

    @TempDir Path dir;
    private final ChorusServer[] replicas = new ChorusServer[2];
    private final int[] ports = new int[2];
    private Process balancer;

    @AfterEach
    void stop() throws Exception {
        if (balancer != null) {
            balancer.destroy();
            balancer.waitFor();
        }
        for (ChorusServer s : replicas) if (s != null) s.close();
    }

    private void startReplicas() throws Exception {
        for (int i = 0; i < replicas.length; i++) {
            ports[i] = ProxiesTest.freePort();
            startReplica(i);
        }
    }

    private void startReplica(int i) {
        replicas[i] = TestServers.start(o -> o.withPort(ports[i]).withThreads(1));
    }

    private int haproxy(int port, int stats) throws Exception {
        Path haproxy = ProxiesTest.binary("haproxy");
        assumeTrue(haproxy != null, "haproxy is not installed (apt-get install haproxy): skipping the replicas test through HAProxy");
        startReplicas();
        Files.writeString(dir.resolve("haproxy.cfg"), """
                defaults
                  mode http
                  timeout connect 1s
                  timeout client 60s
                  timeout server 60s
                  timeout check 2s
                  retries 3
                  option redispatch
                  retry-on conn-failure empty-response
                frontend fe
                  bind 127.0.0.1:%1$d
                  default_backend be
                backend be
                  balance leastconn
                  stick-table type string len 64 size 1k expire 10m
                  stick on req.hdr(x-session-id)
                  option httpchk GET /health
                  default-server check inter 100ms fall 2 rise 2
                  server r1 127.0.0.1:%3$d
                  server r2 127.0.0.1:%4$d
                listen stats
                  bind 127.0.0.1:%2$d
                  stats enable
                  stats uri /stats
                """.formatted(port, stats, ports[0], ports[1]));
        balancer = new ProcessBuilder(haproxy.toString(), "-db", "-f", dir.resolve("haproxy.cfg").toString()).redirectErrorStream(true).start();
        ProxiesTest.awaitListening(stats, balancer);
        for (int i = 0; i < 2; i++) assertThat(awaitStatus(stats, i, "UP")).isEqualTo("UP");
        return port;
    }

    private int nginx(boolean sticky) throws Exception {
        Path nginx = ProxiesTest.binary("nginx");
        assumeTrue(nginx != null, "nginx is not installed (apt-get install nginx): skipping the replicas test through nginx");
        startReplicas();
        int port = ProxiesTest.freePort();
        balancer = ProxiesTest.startNginx(nginx, dir, """
                upstream replicas {
                  %3$s
                  server 127.0.0.1:%1$d max_fails=0;
                  server 127.0.0.1:%2$d max_fails=0;
                }
                server {
                  listen 127.0.0.1:%4$d;
                  proxy_read_timeout 60s;
                  proxy_next_upstream error timeout http_503 non_idempotent;
                  location / { proxy_pass http://replicas; }
                }""".formatted(ports[0], ports[1], sticky ? "hash $http_x_session_id consistent;" : "least_conn;", port));
        ProxiesTest.awaitListening(port, balancer);
        return port;
    }

    /** Waits (bounded) until HAProxy's stats show replica {@code i} in {@code status}; returns the last status seen. */
    private static String awaitStatus(int stats, int i, String status) throws Exception {
        String last = "";
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < until) {
            for (String line : ProxiesTest.get(stats, "/stats;csv").body().split("\n")) {
                String[] f = line.split(",", -1);
                if (f.length > 17 && f[0].equals("be") && f[1].equals("r" + (i + 1))) last = f[17];
            }
            if (last.equals(status)) return last;
            Thread.sleep(20);
        }
        return last;
    }

    private double served(int i) {
        return TestServers.metric(TestServers.get(replicas[i], "/metrics").body(), "vllm:request_success_total{");
    }

    private static double counter(ChorusServer s, String name) {
        return TestServers.metric(TestServers.get(s, "/metrics").body(), name + "{");
    }

    private static HttpResponse<String> complete(HttpClient http, int port, String prompt, String session, boolean stream) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(ChorusServer.JSON.createObjectNode().put("model", TestServers.MODEL)
                        .put("prompt", prompt).put("max_tokens", stream ? 6 : 2).put("ignore_eos", true).put("stream", stream).toString()));
        if (session != null) b.header("x-session-id", session);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Streams completions from two clients until stopped; records every request that did not finish normally. */
    private static final class Load implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger done = new AtomicInteger();
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> clients = new ArrayList<>();

        Load(int port) {
            for (int c = 0; c < 2; c++) {
                int client = c;
                clients.add(Thread.ofVirtual().start(() -> {
                    try (HttpClient http = HttpClient.newHttpClient()) {
                        for (int n = 0; running.get(); n++) {
                            try {
                                HttpResponse<String> r = complete(http, port, "client " + client + " request " + n, null, true);
                                String b = r.body();
                                if (r.statusCode() != 200 || !b.endsWith("data: [DONE]\n\n") || !b.contains("\"finish_reason\":\"length\"")) {
                                    failures.add(r.statusCode() + " " + b.substring(Math.max(0, b.length() - 200)));
                                }
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                            done.incrementAndGet();
                        }
                    }
                }));
            }
        }

        /** Waits (bounded) until {@code n} more requests have finished, so the load is really running. */
        void awaitMore(int n) throws InterruptedException {
            int target = done.get() + n;
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (done.get() < target && System.nanoTime() < until) Thread.sleep(10);
            assertThat(done.get()).isGreaterThanOrEqualTo(target);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : clients) t.join();
        }
    }

    /** Drains replica i (as on SIGTERM) while the load runs, starts it again on its port, and waits until it serves. */
    private void restart(int i, int stats) throws Exception {
        replicas[i].shutdown(DELAY, Duration.ofSeconds(20));
        startReplica(i);
        if (stats > 0) assertThat(awaitStatus(stats, i, "UP")).isEqualTo("UP");
    }

    @Test
    void haproxySpreadsRequestsOverTheReplicas() throws Exception {
        int port = haproxy(ProxiesTest.freePort(), ProxiesTest.freePort());
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int n = 0; n < 8; n++) assertThat(complete(http, port, "spread " + n, null, false).statusCode()).isEqualTo(200);
        }
        assertThat(served(0) + served(1)).isEqualTo(8);
        assertThat(served(0)).as("least connections alternates between idle replicas").isEqualTo(4);
    }

    @Test
    void aRollingRestartBehindHaproxyUnderStreamingLoadLosesNoRequest() throws Exception {
        int stats = ProxiesTest.freePort();
        int port = haproxy(ProxiesTest.freePort(), stats);
        Load load = new Load(port);
        try (load) {
            load.awaitMore(4);
            for (int i = 0; i < 2; i++) {
                restart(i, stats);
                load.awaitMore(4);
            }
        }
        assertThat(load.failures).isEmpty();
        assertThat(served(0)).as("the restarted replicas serve again").isPositive();
        assertThat(served(1)).isPositive();
    }

    @Test
    void aReplicaStoppedWithoutDrainIsTakenOutAndNoLaterRequestFails() throws Exception {
        int stats = ProxiesTest.freePort();
        int port = haproxy(ProxiesTest.freePort(), stats);
        replicas[0].close(); // no /health 503 first, no delay: what the balancer sees after SIGKILL
        replicas[0] = null;
        assertThat(awaitStatus(stats, 0, "DOWN")).isEqualTo("DOWN");
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int n = 0; n < 6; n++) {
                HttpResponse<String> r = complete(http, port, "after " + n, null, n % 2 == 0);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
        }
        assertThat(served(1)).isEqualTo(6);
    }

    /** Four conversations of four turns, each turn's prompt the last one plus more; returns the prefix-cache hit rate. */
    private double conversations(int port, boolean affinity, String run) throws Exception {
        double q0 = 0, h0 = 0;
        for (ChorusServer s : replicas) {
            q0 += counter(s, "vllm:prefix_cache_queries_total");
            h0 += counter(s, "vllm:prefix_cache_hits_total");
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int c = 0; c < 4; c++) {
                StringBuilder prompt = new StringBuilder("conversation " + run + c + ":");
                for (int t = 0; t < 4; t++) {
                    prompt.append(" turn ").append(t).append(" of conversation ").append(c).append(" in run ").append(run)
                            .append(" says something new about the weather and asks another question");
                    HttpResponse<String> r = complete(http, port, prompt.toString(), affinity ? run + c : null, false);
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                }
            }
        }
        double q = -q0, h = -h0;
        for (ChorusServer s : replicas) {
            q += counter(s, "vllm:prefix_cache_queries_total");
            h += counter(s, "vllm:prefix_cache_hits_total");
        }
        assertThat(q).isPositive();
        return h / q;
    }

    @Test
    void headerAffinityKeepsTheHitRateHigh() throws Exception {
        int port = haproxy(ProxiesTest.freePort(), ProxiesTest.freePort());
        double with = conversations(port, true, "a");
        double without = conversations(port, false, "b");
        // With affinity every turn after the first finds its whole earlier prompt cached (3 of 4 turns);
        // without, least connections alternates replicas, so each turn finds only the turn before last.
        assertThat(with).as("with affinity").isGreaterThan(0.5);
        assertThat(with).as("with affinity vs without (%.2f)", without).isGreaterThan(without + 0.15);
    }

    @Test
    void nginxWithItsDefaultsSpreadsRestartsAndFailsOverWithoutLosingARequest() throws Exception {
        int port = nginx(false);
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int n = 0; n < 4; n++) assertThat(complete(http, port, "spread " + n, null, false).statusCode()).isEqualTo(200);
        }
        assertThat(served(0)).isEqualTo(2);
        assertThat(served(1)).isEqualTo(2);
        Load load = new Load(port);
        try (load) {
            load.awaitMore(4);
            for (int i = 0; i < 2; i++) {
                restart(i, 0);
                load.awaitMore(4);
            }
        }
        assertThat(load.failures).isEmpty();
        // Stopped without drain, as after SIGKILL: a stream it was serving is lost (nothing can save it),
        // so only requests sent afterwards count; nginx retries their refused connections on the other replica.
        replicas[0].close();
        replicas[0] = null;
        Load after = new Load(port);
        try (after) {
            after.awaitMore(6);
        }
        assertThat(after.failures).isEmpty();
    }

    @Test
    void nginxHashingTheSessionHeaderKeepsTheHitRateHigh() throws Exception {
        int port = nginx(true);
        assertThat(conversations(port, true, "n")).isGreaterThan(0.5);
    }
}
