package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.chorus.bench.serve.BenchResult;
import io.chorus.bench.serve.ResultJson;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code chorus bench} as a user runs it, against a minimal streaming server, then {@code --compare}. */
class BenchCommandTest {
    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    private Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            return new Run(cl.execute(args), out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    /** Streams three one-token chunks, a usage chunk and [DONE] for every completion request. */
    private static HttpServer fakeServer() throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.createContext("/v1/models", ex -> {
            byte[] b = "{\"object\":\"list\",\"data\":[{\"id\":\"tiny\"}]}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        s.createContext("/v1/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, 0);
            try (OutputStream o = ex.getResponseBody()) {
                for (int i = 0; i < 3; i++) {
                    o.write(("data: {\"choices\":[{\"index\":0,\"text\":\" t\",\"finish_reason\":" + (i == 2 ? "\"length\"" : "null") + "}]}\n\n")
                            .getBytes(StandardCharsets.UTF_8));
                    o.flush();
                }
                o.write("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,\"total_tokens\":11}}\n\ndata: [DONE]\n\n"
                        .getBytes(StandardCharsets.UTF_8));
            }
        });
        s.start();
        return s;
    }

    @Test
    void sweepThenCompare() throws Exception {
        HttpServer server = fakeServer();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
            Path json = dir.resolve("a.json");
            Run r = run("bench", "--base-url", url, "--concurrency", "1,2", "--num-prompts", "4", "--input-len", "8",
                    "--output-len", "3", "--no-progress", "--label", "fake", "--result-json", json.toString(),
                    "--plot", dir.resolve("a.png").toString(), "--html", dir.resolve("a.html").toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("Serving Benchmark Result", "Successful requests:", "out tok/s");
            BenchResult res = ResultJson.read(json);
            assertThat(res.settings().model()).isEqualTo("tiny"); // from GET /v1/models
            assertThat(res.levels()).hasSize(2);
            assertThat(res.levels()).allSatisfy(l -> {
                assertThat(l.completed()).isEqualTo(4);
                assertThat(l.totalOutputTokens()).isEqualTo(12);
                assertThat(l.totalInputTokens()).isEqualTo(32);
            });
            assertThat(Files.size(dir.resolve("a.png"))).isGreaterThan(1000);
            assertThat(Files.readString(dir.resolve("a.html"))).contains("data:image/png;base64,");

            Run cmp = run("bench", "--compare", json.toString(), json.toString(), "--label", "one,two",
                    "--plot", dir.resolve("cmp.png").toString());
            assertThat(cmp.exit()).as(cmp.err()).isZero();
            assertThat(cmp.out()).contains("## one", "## two");
            assertThat(Files.size(dir.resolve("cmp.png"))).isGreaterThan(1000);

            Run bad = run("bench", "--compare", json.toString(), "--label", "one,two");
            assertThat(bad.exit()).isEqualTo(1);
            assertThat(bad.err()).contains("one label per --compare file");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void requestRateParsesInf() {
        assertThat(BenchCommand.parseRate("inf")).isInfinite();
        assertThat(BenchCommand.parseRate("2.5")).isEqualTo(2.5);
    }
}
