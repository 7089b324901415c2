package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.model.SyntheticModel;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code chorus serve} as a real child process, stopped with SIGTERM in the middle of a stream, as a
 * container runtime or Kubernetes stops it: the stream completes, the process exits 0, and the
 * log keeps every line written during the drain.
 */
class ServeShutdownProcessTest {
    private static final Pattern SERVING = Pattern.compile("serving \\S+ at http://127\\.0\\.0\\.1:(\\d+)/v1");

    @TempDir Path dir;

    /** The child's output (stdout and stderr), line by line, as it comes. */
    static final class Log {
        private final List<String> lines = new ArrayList<>();

        Log(InputStream in) {
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) add(l);
                } catch (java.io.IOException ignored) {
                    // the child is gone
                }
            });
        }

        private synchronized void add(String line) {
            lines.add(line);
            notifyAll();
        }

        /** Waits (bounded) for a line matching {@code p}; returns its matcher. */
        synchronized Matcher await(Pattern p, long timeoutMillis) throws InterruptedException {
            long until = System.currentTimeMillis() + timeoutMillis;
            for (int seen = 0; ; ) {
                for (; seen < lines.size(); seen++) {
                    Matcher m = p.matcher(lines.get(seen));
                    if (m.find()) return m;
                }
                long left = until - System.currentTimeMillis();
                if (left <= 0) throw new AssertionError("no line matching " + p + " in:\n" + String.join("\n", lines));
                wait(left);
            }
        }

        synchronized List<String> lines() { return List.copyOf(lines); }
    }

    @Test
    void sigtermDuringAStreamLetsItFinishAndExitsZeroWithTheWholeLog() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 3, model);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--model", model.toString(),
                "--port", "0", "--served-model-name", "tiny", "--kv-cache-memory", "16M", "--threads", "2",
                "--shutdown-delay", "1", "--shutdown-grace", "60").redirectErrorStream(true).start();
        try {
            Log log = new Log(p.getInputStream());
            int port = Integer.parseInt(log.await(SERVING, 120_000).group(1));
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(120_000);
                String body = "{\"model\":\"tiny\",\"prompt\":\"once upon a time\",\"max_tokens\":200,\"ignore_eos\":true,\"stream\":true}";
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                StringBuilder received = new StringBuilder();
                byte[] buf = new byte[8192];
                while (!received.toString().contains("data: {")) {
                    int n = in.read(buf);
                    assertThat(n).as("the stream started").isPositive();
                    received.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
                // SIGTERM through the handle: Process.destroy() would also close our ends of the child's pipes
                assertThat(p.toHandle().destroy()).isTrue();
                received.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)); // close-delimited on HTTP/1.0
                assertThat(received.toString()).startsWith("HTTP/1.1 200 OK").endsWith("data: [DONE]\n\n")
                        .contains("\"finish_reason\":\"length\"");
            }
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(0);
            log.await(Pattern.compile("chorus: stopped"), 10_000);
            List<String> lines = log.lines();
            int shutdown = indexOf(lines, "chorus: shutting down");
            int access = indexOf(lines, "prompt=");
            int stopped = indexOf(lines, "chorus: stopped");
            assertThat(shutdown).isNotNegative();
            assertThat(lines.get(access)).contains(" output=200 ").contains("finish=length");
            assertThat(access).as("the access line of the request that finished during the drain is kept").isGreaterThan(shutdown);
            assertThat(stopped).isGreaterThan(access);
        } finally {
            p.destroyForcibly();
        }
    }

    static int indexOf(List<String> lines, String part) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(part)) return i;
        return -1;
    }
}
