package io.chorus.server;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.util.List;
import java.util.Set;

/**
 * Cross-origin access for browser pages ({@code --allowed-origins}). A request from an allowed
 * origin gets {@code Access-Control-Allow-Origin} (and {@code Vary: Origin}) before any handler
 * runs, so every answer carries it: JSON, SSE streams and errors alike. A preflight ({@code OPTIONS}
 * with {@code Access-Control-Request-Method}) is answered here with 204, before authentication,
 * since browsers never send credentials on it; one from another origin gets 400 and no CORS header,
 * as Starlette (vLLM's front end) answers. Requests without an {@code Origin} pass untouched.
 */
final class Cors implements Filter {
    static final HeaderName ALLOW_ORIGIN = HeaderNames.create("Access-Control-Allow-Origin");
    static final HeaderName ALLOW_METHODS = HeaderNames.create("Access-Control-Allow-Methods");
    static final HeaderName ALLOW_HEADERS = HeaderNames.create("Access-Control-Allow-Headers");
    static final HeaderName MAX_AGE = HeaderNames.create("Access-Control-Max-Age");
    static final HeaderName REQUEST_METHOD = HeaderNames.create("Access-Control-Request-Method");
    static final HeaderName REQUEST_HEADERS = HeaderNames.create("Access-Control-Request-Headers");
    static final String METHODS = "GET, POST, DELETE, OPTIONS";
    /** Always allowed; the headers a preflight asks for are added to them (OpenAI's SDKs send several of their own). */
    static final String BASE_HEADERS = "Authorization, Content-Type";
    /** How long a browser may reuse a preflight answer, in seconds (Starlette's default). */
    static final int MAX_AGE_SECONDS = 600;

    private final boolean any;
    private final Set<String> origins;

    private Cors(List<String> allowed) {
        this.any = allowed.contains("*");
        this.origins = Set.copyOf(allowed);
    }

    /** The filter for {@code --allowed-origins}, or null when none are allowed (no CORS at all). */
    static Cors of(List<String> allowed) {
        List<String> cleaned = allowed.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return cleaned.isEmpty() ? null : new Cors(cleaned);
    }

    boolean allows(String origin) {
        return any || origins.contains(origin);
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String origin = req.headers().first(HeaderNames.ORIGIN).orElse(null);
        if (origin == null) {
            chain.proceed();
            return;
        }
        boolean preflight = req.prologue().method().equals(Method.OPTIONS) && req.headers().contains(REQUEST_METHOD);
        if (!allows(origin)) {
            if (preflight) ChorusServer.sendError(res, ApiError.badRequest("Disallowed CORS origin: " + origin, null));
            else chain.proceed();
            return;
        }
        res.header(ALLOW_ORIGIN, any ? "*" : origin);
        res.header(HeaderNames.VARY, "Origin");
        if (!preflight) {
            chain.proceed();
            return;
        }
        String asked = req.headers().first(REQUEST_HEADERS).orElse("").strip();
        res.header(ALLOW_METHODS, METHODS);
        res.header(ALLOW_HEADERS, asked.isEmpty() ? BASE_HEADERS : BASE_HEADERS + ", " + asked);
        res.header(MAX_AGE, String.valueOf(MAX_AGE_SECONDS));
        res.status(Status.NO_CONTENT_204).send();
    }
}
