package io.chorus.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads against two local HTTP servers that behave as the hub and its CDN do: the resolve URL
 * answers a redirect with the file's sha256 and size in X-Linked-Etag / X-Linked-Size, the CDN
 * serves the bytes with Range support; small git files are served directly with their blob id as ETag.
 */
class HubClientTest {
    static final String REPO = "acme/tiny-GGUF";
    static final byte[] FILE = new byte[3_000_000];

    static {
        new Random(1).nextBytes(FILE);
    }

    @TempDir Path cache;
    HttpServer hub, cdn;
    /** What each server saw: "METHOD path | Range | Authorization". */
    final List<String> hubLog = Collections.synchronizedList(new ArrayList<>());
    final List<String> cdnLog = Collections.synchronizedList(new ArrayList<>());
    volatile String reportedSha = sha256(FILE);
    volatile int hubStatus = 0; // 0: behave
    /** Bytes the CDN sends of its next full answer before it drops the connection (-1: all). */
    final AtomicInteger cutAfter = new AtomicInteger(-1);
    volatile String siblings = "[{\"rfilename\":\"README.md\"},{\"rfilename\":\"tiny-Q8_0.gguf\"},{\"rfilename\":\"tiny-Q4_K_M.gguf\"}]";

    @BeforeEach
    void up() throws IOException {
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn.createContext("/", this::cdn);
        cdn.start();
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", this::hub);
        hub.start();
    }

    @AfterEach
    void down() {
        hub.stop(0);
        cdn.stop(0);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String log(HttpExchange x) {
        return x.getRequestMethod() + " " + x.getRequestURI().getPath() + " | " + x.getRequestHeaders().getFirst("Range") + " | "
                + x.getRequestHeaders().getFirst("Authorization");
    }

    void hub(HttpExchange x) throws IOException {
        hubLog.add(log(x));
        String path = x.getRequestURI().getPath();
        if (hubStatus != 0) {
            x.sendResponseHeaders(hubStatus, -1);
            x.close();
            return;
        }
        if (path.equals("/api/models/" + REPO)) {
            byte[] body = ("{\"id\":\"" + REPO + "\",\"siblings\":" + siblings + "}").getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        } else if (path.equals("/" + REPO + "/resolve/main/tiny-Q4_K_M.gguf")) {
            x.getResponseHeaders().add("X-Linked-Etag", "\"" + reportedSha + "\"");
            x.getResponseHeaders().add("X-Linked-Size", String.valueOf(FILE.length));
            x.getResponseHeaders().add("ETag", "W/\"0123456789abcdef0123456789abcdef01234567\"");
            x.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/xyz?sig=1");
            x.sendResponseHeaders(302, -1);
            x.close();
        } else if (path.equals("/" + REPO + "/resolve/main/config.json")) { // a small file kept in git: its blob id as ETag
            byte[] body = "{\"a\": 1}\n".getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("ETag", "\"" + gitBlob(body) + "\"");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        } else {
            x.sendResponseHeaders(404, -1);
            x.close();
        }
    }

    static String gitBlob(byte[] body) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-1");
            d.update(("blob " + body.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(d.digest(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    void cdn(HttpExchange x) throws IOException {
        cdnLog.add(log(x));
        String range = x.getRequestHeaders().getFirst("Range");
        int from = 0;
        if (range != null) {
            from = Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
            if (from >= FILE.length) {
                x.sendResponseHeaders(416, -1);
                x.close();
                return;
            }
            x.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (FILE.length - 1) + "/" + FILE.length);
            x.sendResponseHeaders(206, FILE.length - from);
        } else {
            x.sendResponseHeaders(200, FILE.length);
        }
        x.getResponseHeaders().add("ETag", "\"cdn-etag-is-not-the-checksum\"");
        OutputStream out = x.getResponseBody();
        int cut = cutAfter.getAndSet(-1);
        if (cut >= 0) {
            out.write(FILE, from, cut);
            out.flush();
            x.close(); // the connection drops with the answer unfinished
            return;
        }
        out.write(FILE, from, FILE.length - from);
        x.close();
    }

    HubClient client(String token) {
        return new HubClient(URI.create("http://127.0.0.1:" + hub.getAddress().getPort()), token, cache);
    }

    /** A progress that records what it was told. */
    static final class Recorded implements DownloadProgress {
        final List<String> events = new ArrayList<>();
        long bytes;

        @Override public void start(String name, long offset, long total) { events.add("start " + name + " " + offset + " " + total); }
        @Override public void advance(long n) { bytes += n; }
        @Override public void done() { events.add("done " + bytes); }
    }

    @Test
    void aFileFollowsTheRedirectToTheCdnAndIsVerifiedIntoTheCache() throws Exception {
        Recorded p = new Recorded();
        List<String> said = new ArrayList<>();
        Path got = client("secret").pull(HubRef.parse("hf:" + REPO + "/tiny-Q4_K_M.gguf"), p, said::add);
        assertThat(got).isEqualTo(cache.resolve("hub/acme/tiny-GGUF/main/tiny-Q4_K_M.gguf"));
        assertThat(Files.readAllBytes(got)).isEqualTo(FILE);
        assertThat(Files.exists(got.resolveSibling("tiny-Q4_K_M.gguf.part"))).isFalse();
        assertThat(p.events).containsExactly("start tiny-Q4_K_M.gguf 0 " + FILE.length, "done " + FILE.length);
        // The token goes to the hub, never to the CDN.
        assertThat(hubLog).containsExactly("GET /acme/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf | null | Bearer secret");
        assertThat(cdnLog).containsExactly("GET /blobs/xyz | null | null");
        assertThat(said).containsExactly("saved " + got);
        // Cached: the hub is not asked again, so a pulled model works offline.
        hub.stop(0);
        cdn.stop(0);
        assertThat(client(null).pull(HubRef.parse(REPO + "/tiny-Q4_K_M.gguf"), DownloadProgress.NONE, said::add)).isEqualTo(got);
        assertThat(said.getLast()).isEqualTo("already downloaded: " + got);
    }

    @Test
    void anInterruptedDownloadResumesWithARangeRequest() throws Exception {
        cutAfter.set(1_000_000);
        HubRef ref = HubRef.parse(REPO + "/tiny-Q4_K_M.gguf");
        // A dropped connection may lose what was in flight: the part file holds what arrived, and the message says how much.
        HubException cut = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> client(null).pull(ref, DownloadProgress.NONE, s -> { }));
        Path part = cache.resolve("hub/acme/tiny-GGUF/main/tiny-Q4_K_M.gguf.part");
        long kept = Files.size(part);
        assertThat(kept).isBetween(1L, 1_000_000L);
        assertThat(cut.getMessage()).startsWith("tiny-Q4_K_M.gguf: the download was interrupted after " + kept + " of 3000000 bytes (")
                .endsWith("); run the same command again to resume it");
        Recorded p = new Recorded();
        Path got = client(null).pull(ref, p, s -> { });
        assertThat(Files.readAllBytes(got)).isEqualTo(FILE);
        assertThat(cdnLog).containsExactly("GET /blobs/xyz | null | null", "GET /blobs/xyz | bytes=" + kept + "- | null");
        assertThat(hubLog.getLast()).isEqualTo("GET /acme/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf | bytes=" + kept + "- | null");
        assertThat(p.events).containsExactly("start tiny-Q4_K_M.gguf " + kept + " " + FILE.length, "done " + (FILE.length - kept));
    }

    @Test
    void aCompletePartFileIsVerifiedWithoutDownloadingAgain() throws Exception {
        Path part = cache.resolve("hub/acme/tiny-GGUF/main/tiny-Q4_K_M.gguf.part");
        Files.createDirectories(part.getParent());
        Files.write(part, FILE);
        Path got = client(null).pull(HubRef.parse(REPO + "/tiny-Q4_K_M.gguf"), DownloadProgress.NONE, s -> { });
        assertThat(Files.readAllBytes(got)).isEqualTo(FILE);
        assertThat(cdnLog).containsExactly("GET /blobs/xyz | bytes=3000000- | null");
    }

    @Test
    void aChecksumMismatchRemovesThePartialFileAndSaysSo() {
        reportedSha = sha256(new byte[] {1, 2, 3});
        assertThatThrownBy(() -> client(null).pull(HubRef.parse(REPO + "/tiny-Q4_K_M.gguf"), DownloadProgress.NONE, s -> { }))
                .isInstanceOf(HubException.class)
                .hasMessage("tiny-Q4_K_M.gguf: checksum mismatch: the hub reported sha256 " + reportedSha + ", the download has " + sha256(FILE)
                        + "; the partial file was removed, run the command again");
        assertThat(cache.resolve("hub/acme/tiny-GGUF/main/tiny-Q4_K_M.gguf.part")).doesNotExist();
        assertThat(cache.resolve("hub/acme/tiny-GGUF/main/tiny-Q4_K_M.gguf")).doesNotExist();
    }

    @Test
    void aSmallGitFileIsCheckedAgainstItsBlobId() throws Exception {
        Path got = client(null).pull(HubRef.parse(REPO + "/config.json"), DownloadProgress.NONE, s -> { });
        assertThat(Files.readString(got)).isEqualTo("{\"a\": 1}\n");
    }

    @Test
    void withoutAFileTheRepoIsListedAndItsQ4KMPicked() throws Exception {
        List<String> said = new ArrayList<>();
        Path got = client(null).pull(HubRef.parse(REPO), DownloadProgress.NONE, said::add);
        assertThat(got.getFileName().toString()).isEqualTo("tiny-Q4_K_M.gguf");
        assertThat(said.getFirst()).isEqualTo("picked tiny-Q4_K_M.gguf from " + REPO);
        assertThat(hubLog.getFirst()).isEqualTo("GET /api/models/acme/tiny-GGUF | null | null");
        siblings = "[{\"rfilename\":\"tiny-Q8_0.gguf\"},{\"rfilename\":\"tiny-F16.gguf\"}]";
        assertThatThrownBy(() -> client(null).pull(HubRef.parse(REPO), DownloadProgress.NONE, s -> { }))
                .hasMessage(REPO + " has 2 GGUF files; name one, e.g. chorus pull " + REPO + "/tiny-Q8_0.gguf\n  tiny-Q8_0.gguf\n  tiny-F16.gguf");
        siblings = "[{\"rfilename\":\"model.safetensors\"}]";
        assertThatThrownBy(() -> client(null).pull(HubRef.parse(REPO), DownloadProgress.NONE, s -> { }))
                .hasMessageStartingWith(REPO + " has no .gguf files");
    }

    @Test
    void unauthorizedNotFoundAndOfflineAreClearErrors() throws Exception {
        HubRef ref = HubRef.parse(REPO + "/tiny-Q4_K_M.gguf");
        String base = "http://127.0.0.1:" + hub.getAddress().getPort();
        hubStatus = 401;
        assertThatThrownBy(() -> client(null).pull(ref, DownloadProgress.NONE, s -> { }))
                .hasMessage("tiny-Q4_K_M.gguf: the hub answered 401 for " + base + "/acme/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf:"
                        + " the repository is private or gated, or does not exist; set HF_TOKEN to a token that has access");
        assertThatThrownBy(() -> client(null).pull(HubRef.parse(REPO), DownloadProgress.NONE, s -> { }))
                .hasMessageContaining("acme/tiny-GGUF: the hub answered 401");
        hubStatus = 0;
        assertThatThrownBy(() -> client(null).pull(HubRef.parse(REPO + "/nope.gguf"), DownloadProgress.NONE, s -> { }))
                .hasMessage("nope.gguf: not found at " + base + "/acme/tiny-GGUF/resolve/main/nope.gguf (check the repository and file names)");
        hub.stop(0);
        assertThatThrownBy(() -> client(null).pull(ref, DownloadProgress.NONE, s -> { }))
                .isInstanceOf(HubException.class).hasMessageStartingWith("cannot reach the hub at " + base + " (offline? or set --hub-url)");
        assertThat(cache.resolve("hub/acme/tiny-GGUF/main/tiny-Q4_K_M.gguf")).doesNotExist();
    }

    @Test
    void refsParseWithRevisionsAndSubfolders() {
        assertThat(HubRef.parse("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"))
                .isEqualTo(new HubRef("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf", "main"));
        assertThat(HubRef.parse("a/b@v1.0/sub/x.gguf")).isEqualTo(new HubRef("a/b", "sub/x.gguf", "v1.0"));
        assertThat(HubRef.parse("a/b")).isEqualTo(new HubRef("a/b", null, "main"));
        assertThat(client(null).cachePath(HubRef.parse("a/b@v1.0/sub/x.gguf"))).isEqualTo(cache.resolve("hub/a/b/v1.0/sub/x.gguf"));
        assertThat(client(null).resolveUrl(HubRef.parse("a/b/sub/x y.gguf")).toString())
                .isEqualTo("http://127.0.0.1:" + hub.getAddress().getPort() + "/a/b/resolve/main/sub/x%20y.gguf");
        assertThatThrownBy(() -> HubRef.parse("justone")).isInstanceOf(HubException.class);
        assertThatThrownBy(() -> HubRef.parse("a/b/../../etc/passwd")).isInstanceOf(HubException.class);
    }
}
