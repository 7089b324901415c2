package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chorus behind the real proxies operators put in front of it, with their default settings: nginx
 * (which speaks HTTP/1.0 to upstreams unless told otherwise) and HAProxy (whose HTTP health check
 * is {@code GET /health HTTP/1.0}). Skipped with a message where they are not installed
 * ({@code apt-get install nginx haproxy}).
 */
class ProxiesTest {
    @TempDir Path dir;

    static Path binary(String name) {
        for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/local/sbin").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, name);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void awaitListening(int port, Process p) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < until) {
            assertThat(p.isAlive()).as("the proxy is running: " + new String(p.getInputStream().readNBytes(p.getInputStream().available()))).isTrue();
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        throw new AssertionError("nothing listens on " + port);
    }

    static HttpResponse<String> post(int port, String path, String body) {
        return TestServers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /**
     * Starts nginx in the foreground with its files under {@code dir}, its http block holding
     * {@code http} after the settings every test shares (no logs, temp paths inside {@code dir}).
     */
    static Process startNginx(Path nginx, Path dir, String http) throws IOException {
        Files.writeString(dir.resolve("nginx.conf"), """
                daemon off;
                master_process off;
                worker_processes 1;
                error_log %1$s/error.log;
                pid %1$s/nginx.pid;
                events {}
                http {
                  access_log off;
                  client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy; fastcgi_temp_path %1$s/fcgi;
                  uwsgi_temp_path %1$s/uwsgi; scgi_temp_path %1$s/scgi;
                %2$s
                }
                """.formatted(dir, http.indent(2).stripTrailing()));
        return new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString())
                .redirectErrorStream(true).start();
    }

    static HttpResponse<String> get(int port, String path) {
        return TestServers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build());
    }

    @Test
    void nginxWithItsDefaultProxySettingsPassesEveryKindOfRequest() throws Exception {
        Path nginx = binary("nginx");
        assumeTrue(nginx != null, "nginx is not installed (apt-get install nginx): skipping the test through nginx");
        ChorusServer s = TestServers.start(o -> o);
        int port = freePort();
        Process p = startNginx(nginx, dir,
                "server { listen 127.0.0.1:%d; location / { proxy_pass http://127.0.0.1:%d; } }".formatted(port, s.port()));
        try {
            awaitListening(port, p);
            HttpResponse<String> models = get(port, "/v1/models");
            assertThat(models.statusCode()).as(models.body()).isEqualTo(200);
            assertThat(ChorusServer.JSON.readTree(models.body()).at("/data/0/id").asText()).isEqualTo(TestServers.MODEL);

            HttpResponse<String> chat = post(port, "/v1/chat/completions",
                    "{\"model\":\"tiny\",\"max_tokens\":4,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            assertThat(ChorusServer.JSON.readTree(chat.body()).at("/usage/completion_tokens").asInt()).isEqualTo(4);

            HttpResponse<String> stream = post(port, "/v1/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":5,\"ignore_eos\":true,"
                    + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertThat(stream.statusCode()).isEqualTo(200);
            assertThat(stream.body()).startsWith("data: {").endsWith("data: [DONE]\n\n");
            for (String line : stream.body().split("\n")) assertThat(line).matches("^(data: .*)?$");
            assertThat(stream.body()).contains("\"finish_reason\":\"length\"");
        } finally {
            p.destroy();
            p.waitFor();
            s.close();
        }
    }

    @Test
    void haproxysHealthCheckPassesAndTakesADrainingReplicaOutBeforeItsListenerCloses() throws Exception {
        Path haproxy = binary("haproxy");
        assumeTrue(haproxy != null, "haproxy is not installed (apt-get install haproxy): skipping the test through HAProxy");
        ChorusServer s = TestServers.start(o -> o);
        int port = freePort(), stats = freePort();
        Files.writeString(dir.resolve("haproxy.cfg"), """
                defaults
                  mode http
                  timeout connect 2s
                  timeout client 60s
                  timeout server 60s
                frontend fe
                  bind 127.0.0.1:%1$d
                  default_backend be
                backend be
                  option httpchk GET /health
                  server r1 127.0.0.1:%3$d check inter 100ms fall 2 rise 1
                listen stats
                  bind 127.0.0.1:%2$d
                  stats enable
                  stats uri /stats
                """.formatted(port, stats, s.port()));
        Process p = new ProcessBuilder(haproxy.toString(), "-db", "-f", dir.resolve("haproxy.cfg").toString())
                .redirectErrorStream(true).start();
        CountDownLatch delayOver = new CountDownLatch(1);
        try {
            awaitListening(stats, p);
            assertThat(awaitCheck(stats, "UP", "L7OK")).isEqualTo("UP L7OK 200");
            HttpResponse<String> tok = post(port, "/tokenize", "{\"prompt\":\"hello\"}");
            assertThat(tok.statusCode()).as(tok.body()).isEqualTo(200);

            Thread drainer = Thread.ofVirtual().start(() -> s.drain(() -> {
                try {
                    delayOver.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, Duration.ofSeconds(10)));
            assertThat(awaitCheck(stats, "DOWN", "L7STS")).as("the failed check takes the replica out").isEqualTo("DOWN L7STS 503");
            HttpResponse<String> direct = TestServers.post(s, "/tokenize", "{\"prompt\":\"hello\"}");
            assertThat(direct.statusCode()).as("requests are still served during the delay").isEqualTo(200);
            delayOver.countDown();
            drainer.join();
        } finally {
            delayOver.countDown();
            p.destroy();
            p.waitFor();
            s.close();
        }
    }

    /** Waits (bounded) until HAProxy's stats say r1 has {@code status} after a {@code check} check; returns "status check code". */
    static String awaitCheck(int statsPort, String status, String check) throws Exception {
        String last = "";
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < until) {
            for (String line : get(statsPort, "/stats;csv").body().split("\n")) {
                String[] f = line.split(",", -1);
                if (f.length > 37 && f[0].equals("be") && f[1].equals("r1")) last = f[17] + " " + f[36] + " " + f[37];
            }
            if (last.startsWith(status + " " + check)) return last;
            Thread.sleep(50);
        }
        return last;
    }
}
