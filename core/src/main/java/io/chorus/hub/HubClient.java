package io.chorus.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Models from a Hugging Face-compatible hub into a local cache: {@code chorus pull REPO[/FILE]} and
 * {@code --model hf:REPO/FILE.gguf}. Files come from the hub's resolve URLs
 * ({@code /{repo}/resolve/{revision}/{file}}) through {@link ResumableDownload}; a repo named without
 * a file is listed through {@code /api/models/{repo}} and its Q4_K_M GGUF picked. A file already in
 * the cache is used without asking the hub, so a pulled model also serves offline.
 *
 * <p>Cache layout: {@code <root>/hub/<owner>/<name>/<revision>/<file>}, with {@code <root>} from
 * {@code $CHORUS_CACHE}, else {@code ~/.cache/chorus}.
 */
public final class HubClient {
    public static final String DEFAULT_URL = "https://huggingface.co";
    /** The quantization picked when a repo holds several GGUFs: llama.cpp's usual size/quality default. */
    static final String PREFERRED = "q4_k_m";
    private static final ObjectMapper JSON = BoundedJson.mapper();

    private final URI hub;
    private final String token;
    private final Path cacheRoot;
    private final HttpClient http;

    /**
     * @param token a bearer token for private and gated repos (HF_TOKEN), or null; sent to the hub only
     */
    public HubClient(URI hub, String token, Path cacheRoot) {
        this.hub = URI.create(hub.toString().replaceAll("/+$", "") + "/");
        this.token = token;
        this.cacheRoot = cacheRoot;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(20)).build();
    }

    /** A client for the hub at {@code hubUrl} (null: the public hub), with $HF_TOKEN and the default cache. */
    public static HubClient fromEnvironment(String hubUrl) {
        return new HubClient(URI.create(hubUrl != null ? hubUrl : DEFAULT_URL), System.getenv("HF_TOKEN"), defaultCacheRoot());
    }

    /** $CHORUS_CACHE (or the {@code chorus.cache} system property, which an embedding program can set), else ~/.cache/chorus. */
    public static Path defaultCacheRoot() {
        String prop = System.getProperty("chorus.cache");
        if (prop != null && !prop.isEmpty()) return Path.of(prop);
        String env = System.getenv("CHORUS_CACHE");
        if (env != null && !env.isEmpty()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "chorus");
    }

    /** Where {@code ref}'s file lives in the cache. */
    public Path cachePath(HubRef ref) {
        Path p = cacheRoot.resolve("hub").resolve(ref.repo()).resolve(ref.revision());
        for (String seg : ref.file().split("/")) p = p.resolve(seg);
        return p;
    }

    /**
     * The local path of {@code ref}'s file: from the cache, or downloaded now. A ref without a file
     * picks one from the repo's listing. {@code say} gets one-line notes for the user.
     */
    public Path pull(HubRef ref, DownloadProgress progress, Consumer<String> say) {
        HubRef r = ref.file() != null ? ref : ref.withFile(pick(ggufFiles(ref), ref));
        if (ref.file() == null) say.accept("picked " + r.file() + " from " + ref.repo());
        Path dest = cachePath(r);
        if (Files.isRegularFile(dest)) {
            say.accept("already downloaded: " + dest);
            return dest;
        }
        new ResumableDownload(http, hub, token).fetch(resolveUrl(r), dest, r.file(), progress);
        say.accept("saved " + dest);
        return dest;
    }

    URI resolveUrl(HubRef r) {
        StringBuilder path = new StringBuilder(r.repo()).append("/resolve/").append(encode(r.revision()));
        for (String seg : r.file().split("/")) path.append('/').append(encode(seg));
        return hub.resolve(path.toString());
    }

    /** The .gguf files of {@code ref}'s repo, from the hub's model API. */
    public List<String> ggufFiles(HubRef ref) {
        String path = "api/models/" + ref.repo() + ("main".equals(ref.revision()) ? "" : "/revision/" + encode(ref.revision()));
        URI uri = hub.resolve(path);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET();
        if (token != null && !token.isEmpty()) b.header("Authorization", "Bearer " + token);
        JsonNode root;
        try {
            HttpResponse<InputStream> r = new ResumableDownload(http, hub, token).send(b.build());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) throw statusError(r.statusCode(), ref.repo(), uri);
                root = JSON.readTree(in);
            }
        } catch (IOException e) {
            throw new HubException("cannot list " + ref.repo() + " at " + uri + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted", e);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : root.path("siblings")) {
            String f = s.path("rfilename").asText("");
            if (f.toLowerCase(Locale.ROOT).endsWith(".gguf")) out.add(f);
        }
        return out;
    }

    /** The only GGUF, else the only Q4_K_M one; otherwise the user must name one (the message lists them). */
    static String pick(List<String> files, HubRef ref) {
        if (files.isEmpty()) throw new HubException(ref.repo() + " has no .gguf files; Chorus serves GGUF models (look for a repo named ...-GGUF)");
        if (files.size() == 1) return files.getFirst();
        List<String> preferred = files.stream().filter(f -> f.toLowerCase(Locale.ROOT).contains(PREFERRED)).toList();
        if (preferred.size() == 1) return preferred.getFirst();
        throw new HubException(ref.repo() + " has " + files.size() + " GGUF files; name one, e.g. chorus pull " + ref.repo() + "/" + files.getFirst()
                + "\n  " + String.join("\n  ", files));
    }

    static HubException statusError(int status, String name, URI url) {
        return switch (status) {
            case 401, 403 -> new HubException(name + ": the hub answered " + status + " for " + url + ": the repository is private or gated,"
                    + " or does not exist; set HF_TOKEN to a token that has access");
            case 404 -> new HubException(name + ": not found at " + url + " (check the repository and file names)");
            default -> new HubException(name + ": the hub answered HTTP " + status + " for " + url);
        };
    }

    static HubException unreachable(URI url, Exception e) {
        return new HubException("cannot reach the hub at " + url.getScheme() + "://" + url.getAuthority() + " (offline? or set --hub-url): "
                + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
