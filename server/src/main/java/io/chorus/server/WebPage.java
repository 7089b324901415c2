package io.chorus.server;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The web page at {@code /}: a chat box and a live view of the engine, as static files read once
 * from the classpath (no build step, nothing fetched from elsewhere). The page and its files load
 * without the API key; the page learns from a meta tag whether it must ask for one, so it never
 * makes a request bound to fail. The API it calls checks the key as always.
 */
final class WebPage {
    private static final String BASE = "/io/chorus/server/web/";
    /** Only this server's own files, no inline script or style, no framing by other sites. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

    private record Asset(byte[] body, String contentType) {}

    private final Asset index;
    private final Map<String, Asset> files;

    WebPage(boolean keyRequired) {
        String html = new String(read("index.html"), StandardCharsets.UTF_8)
                .replace("{{AUTH}}", keyRequired ? "required" : "none")
                .replace("{{VERSION}}", ChorusServer.VERSION);
        index = new Asset(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8");
        files = Map.of(
                "/static/chorus.js", new Asset(read("chorus.js"), "text/javascript; charset=utf-8"),
                "/static/chorus.css", new Asset(read("chorus.css"), "text/css; charset=utf-8"));
    }

    void index(ServerRequest req, ServerResponse res) {
        send(res, index);
    }

    void file(ServerRequest req, ServerResponse res) {
        Asset a = files.get(req.path().path());
        if (a == null) throw ApiError.notFound("No route for GET " + req.path().path(), "not_found");
        send(res, a);
    }

    private static void send(ServerResponse res, Asset a) {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, a.contentType());
        res.header(HeaderNames.CACHE_CONTROL, "no-cache"); // revalidated each load: a new server version shows at once
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header(HeaderNames.create("Content-Security-Policy"), CSP);
        res.header(HeaderNames.create("Referrer-Policy"), "no-referrer");
        res.send(a.body());
    }

    private static byte[] read(String name) {
        try (InputStream in = WebPage.class.getResourceAsStream(BASE + name)) {
            if (in == null) throw new IllegalStateException("the web page's file " + name + " is missing from the build");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
