package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.chorus.model.SyntheticModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** chorus pull and --model hf:... as a user runs them, against a local server that answers as the hub does. */
class PullCommandTest {
    @TempDir Path dir;
    HttpServer hub;
    byte[] gguf;
    String oldCache;

    @BeforeEach
    void up() throws Exception {
        Path model = dir.resolve("made.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 3, model);
        gguf = Files.readAllBytes(model);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(gguf));
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", x -> {
            String path = x.getRequestURI().getPath();
            if (path.equals("/api/models/acme/tiny-GGUF")) {
                byte[] body = "{\"siblings\":[{\"rfilename\":\"tiny-q8_0.gguf\"},{\"rfilename\":\"tiny-q4_k_m.gguf\"}]}".getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(200, body.length);
                x.getResponseBody().write(body);
            } else if (path.equals("/acme/tiny-GGUF/resolve/main/tiny-q4_k_m.gguf")) {
                x.getResponseHeaders().add("X-Linked-Etag", "\"" + sha + "\"");
                x.getResponseHeaders().add("X-Linked-Size", String.valueOf(gguf.length));
                x.getResponseHeaders().add("Location", "/cdn/blob");
                x.sendResponseHeaders(302, -1);
            } else if (path.equals("/cdn/blob")) {
                x.sendResponseHeaders(200, gguf.length);
                x.getResponseBody().write(gguf);
            } else {
                x.sendResponseHeaders(404, -1);
            }
            x.close();
        });
        hub.start();
        oldCache = System.getProperty("chorus.cache");
        System.setProperty("chorus.cache", dir.resolve("cache").toString());
    }

    @AfterEach
    void down() {
        hub.stop(0);
        if (oldCache == null) System.clearProperty("chorus.cache"); else System.setProperty("chorus.cache", oldCache);
    }

    private record Run(int exit, String out, String err) {}

    private Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        StringWriter cliErr = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(cliErr, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + cliErr);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    String url() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    @Test
    void pullPicksTheQ4KMFileDownloadsItWithProgressAndPrintsItsPath() throws Exception {
        Run r = run("pull", "acme/tiny-GGUF", "--hub-url", url());
        assertThat(r.exit()).as(r.err()).isZero();
        Path cached = dir.resolve("cache/hub/acme/tiny-GGUF/main/tiny-q4_k_m.gguf");
        assertThat(r.out()).isEqualTo(cached + System.lineSeparator());
        assertThat(Files.readAllBytes(cached)).isEqualTo(gguf);
        assertThat(r.err()).contains("chorus: picked tiny-q4_k_m.gguf from acme/tiny-GGUF")
                .contains("tiny-q4_k_m.gguf [" + "=".repeat(30) + "] 100%")
                .contains("chorus: saved " + cached);
        // Then the model is used by hf: name, from the cache.
        Run info = run("info", "hf:acme/tiny-GGUF/tiny-q4_k_m.gguf", "--hub-url", url());
        assertThat(info.exit()).as(info.err()).isZero();
        assertThat(info.out()).contains("architecture   qwen2").contains("file           " + cached);
        assertThat(info.err()).contains("chorus: already downloaded: " + cached);
    }

    @Test
    void anHfModelIsDownloadedOnFirstUseAndErrorsAreOneLine() {
        Run t = run("tokenize", "--model", "hf:acme/tiny-GGUF/tiny-q4_k_m.gguf", "--hub-url", url(), "--text", "hi");
        assertThat(t.exit()).as(t.err()).isZero();
        assertThat(t.out()).startsWith("[");
        Run missing = run("pull", "acme/tiny-GGUF/other.gguf", "--hub-url", url());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("chorus: other.gguf: not found at " + url() + "/acme/tiny-GGUF/resolve/main/other.gguf");
        hub.stop(0);
        Run offline = run("pull", "acme/tiny-GGUF/x.gguf", "--hub-url", url());
        assertThat(offline.exit()).isEqualTo(1);
        assertThat(offline.err()).contains("chorus: cannot reach the hub at " + url() + " (offline? or set --hub-url)");
    }

    @Test
    void theProgressLineShowsSizeRateAndEta() {
        TerminalProgress p = new TerminalProgress(new PrintStream(new ByteArrayOutputStream()), true);
        p.start("m.gguf", 0, 4L << 30);
        p.advance(1L << 30);
        String line = p.line(System.nanoTime());
        assertThat(line).startsWith("m.gguf [=======                       ]  25%  1.00 GiB / 4.00 GiB  ").contains("/s  ETA ");
    }
}
