package io.chorus.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One file from the hub into the cache: GET its resolve URL, follow the redirects by hand (so the
 * hub's own headers, which carry the checksum, are kept, and the token goes to the hub only, never
 * to the CDN it redirects to), write into {@code FILE.part}, and resume a partial {@code .part}
 * with a Range request. The file gets its final name only once its size and checksum match what the
 * hub reported; a mismatch removes the partial file.
 */
final class ResumableDownload {
    private static final int MAX_REDIRECTS = 10;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HttpClient http;
    private final URI hub;
    private final String token;

    ResumableDownload(HttpClient http, URI hub, String token) {
        this.http = http;
        this.hub = hub;
        this.token = token;
    }

    /** Downloads {@code url} to {@code dest} ({@code name} for messages and the progress bar). */
    void fetch(URI url, Path dest, String name, DownloadProgress progress) {
        Path part = dest.resolveSibling(dest.getFileName() + ".part");
        try {
            Files.createDirectories(dest.getParent());
            long offset = Files.exists(part) ? Files.size(part) : 0;
            Answer a = get(url, offset, name);
            if (a.response.statusCode() == 416) { // asked past the end: the part may be whole already
                a.response.body().close();
                ExpectedFile e = a.expected;
                if (e.size() >= 0 && offset == e.size()) {
                    finish(part, dest, e, name, digestOf(part, e, offset));
                    progress.done();
                    return;
                }
                Files.deleteIfExists(part); // not a prefix of this file: start over
                offset = 0;
                a = get(url, 0, name);
            }
            int status = a.response.statusCode();
            ExpectedFile expected = a.expected;
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(a.response.headers().firstValue("content-range").orElse(""));
                if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                    a.response.body().close();
                    throw new HubException(name + ": the server resumed at the wrong place (" + a.response.headers().firstValue("content-range").orElse("no Content-Range") + ")");
                }
                if (expected.size() < 0 && !m.group(3).equals("*")) expected = expected.withSize(Long.parseLong(m.group(3)));
            } else { // 200: the whole file (a server that ignores Range restarts from zero)
                offset = 0;
                long length = a.response.headers().firstValueAsLong("content-length").orElse(-1);
                if (expected.size() < 0 && length >= 0) expected = expected.withSize(length);
            }
            MessageDigest digest = digestOf(part, expected, offset);
            progress.start(name, offset, expected.size());
            long written = offset;
            try (InputStream in = a.response.body();
                 FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                         offset == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND)) {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(ByteBuffer.wrap(buf, 0, n));
                    if (digest != null) digest.update(buf, 0, n);
                    written += n;
                    progress.advance(n);
                }
            } catch (IOException e) {
                throw new HubException(name + ": the download was interrupted after " + written + (expected.size() >= 0 ? " of " + expected.size() : "")
                        + " bytes (" + e.getMessage() + "); run the same command again to resume it", e);
            }
            finish(part, dest, expected, name, digest);
            progress.done();
        } catch (IOException e) {
            throw new HubException(name + ": cannot write " + part + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(name + ": interrupted", e);
        }
    }

    /** The size and checksum check, then the rename; a mismatch removes the partial file (its bytes are wrong somewhere). */
    private static void finish(Path part, Path dest, ExpectedFile e, String name, MessageDigest digest) throws IOException {
        long size = Files.size(part);
        if (e.size() >= 0 && size != e.size()) {
            if (size < e.size()) throw new HubException(name + ": the download stopped at " + size + " of " + e.size() + " bytes; run the same command again to resume it");
            Files.deleteIfExists(part);
            throw new HubException(name + ": got " + size + " bytes where the hub reported " + e.size() + "; the partial file was removed");
        }
        if (digest != null) {
            String got = ExpectedFile.hex(digest.digest());
            if (!got.equals(e.expected())) {
                Files.deleteIfExists(part);
                throw new HubException(name + ": checksum mismatch: the hub reported " + e.kind() + " " + e.expected() + ", the download has " + got
                        + "; the partial file was removed, run the command again");
            }
        }
        Files.move(part, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A digest fed with the first {@code offset} bytes already in {@code part} (a resumed download); null when nothing can be checked. */
    private static MessageDigest digestOf(Path part, ExpectedFile e, long offset) throws IOException {
        MessageDigest d = e.newDigest();
        if (d == null || offset == 0) return d;
        try (InputStream in = Files.newInputStream(part)) {
            byte[] buf = new byte[1 << 20];
            long left = offset;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; left -= n) d.update(buf, 0, n);
        }
        return d;
    }

    /** The final answer after redirects, with what the hub's first answer said about the file. */
    private record Answer(HttpResponse<InputStream> response, ExpectedFile expected) {}

    private Answer get(URI url, long offset, String name) throws IOException, InterruptedException {
        URI at = url;
        HttpHeaders first = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(at).timeout(Duration.ofMinutes(5)).GET();
            if (offset > 0) b.header("Range", "bytes=" + offset + "-");
            if (token != null && !token.isEmpty() && Objects.equals(at.getAuthority(), hub.getAuthority())) b.header("Authorization", "Bearer " + token);
            HttpResponse<InputStream> r = send(b.build());
            if (first == null) first = r.headers();
            int s = r.statusCode();
            if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
                r.body().close();
                String loc = r.headers().firstValue("location").orElseThrow(() -> new HubException(name + ": a redirect without a Location"));
                at = at.resolve(loc);
                continue;
            }
            if (s == 200 || s == 206 || s == 416) return new Answer(r, ExpectedFile.from(first));
            r.body().close();
            throw HubClient.statusError(s, name, url);
        }
        throw new HubException(name + ": more than " + MAX_REDIRECTS + " redirects from " + url);
    }

    HttpResponse<InputStream> send(HttpRequest req) throws IOException, InterruptedException {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
            throw HubClient.unreachable(req.uri(), e);
        } catch (InterruptedIOException e) {
            throw HubClient.unreachable(req.uri(), e);
        }
    }
}
