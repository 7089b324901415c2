package io.chorus.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.SamplingParams;
import io.chorus.json.BoundedJson;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP front end: an OpenAI-compatible API over one {@link LoadedModel}, on Helidon SE
 * (handlers run on virtual threads and block cheaply on the engine's output streams).
 *
 * <p>Implementation notes. The server listens before the model is loaded and answers 503 until
 * {@link #load} completes. {@link #shutdown} drains in the order a load balancer can follow:
 * DRAINING (health 503, requests still served), then the listener closes, then in-flight requests
 * finish or are aborted, then STOPPED (every request 503). {@link Admission} counts engine
 * requests admitted and not yet finished, and rejects with 429 beyond max-num-seqs + the queue bound,
 * before any rendering or tokenization. Every route but /health, the web page at / with its static files (and /metrics with
 * {@code --metrics-public}) needs the API key; the key itself is never logged. An error answered
 * before the request body was read closes the connection, so unread body bytes are never taken for a
 * next request. Every error leaves through {@link ApiError} as OpenAI's JSON.
 */
public final class ChorusServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ChorusServer.class.getName());
    static final ObjectMapper JSON = BoundedJson.mapper();
    static final String VERSION = "0.1.0";
    private static final HeaderName RETRY_AFTER = HeaderNames.create("Retry-After");
    private static final long STARTED = Instant.now().getEpochSecond();

    private enum State { LOADING, READY, DRAINING, STOPPED }

    private final ServeOptions options;
    private final byte[] apiKey;
    private final Admission admission;
    private final ConnectionWatch connections = new ConnectionWatch();
    private volatile State state = State.LOADING;
    private volatile LoadedModel model;
    private volatile ServerMetrics metrics;
    private volatile EngineStatus status;
    private final WebPage page;
    private WebServer web;
    private int port; // kept: Helidon answers -1 once stopped, and the URL still names this server in logs

    public ChorusServer(ServeOptions options) {
        this.options = options;
        String key = options.apiKey() != null ? options.apiKey() : System.getenv("CHORUS_API_KEY");
        this.apiKey = key != null && !key.isEmpty() ? key.getBytes(StandardCharsets.UTF_8) : null;
        this.admission = new Admission(options.maxNumSeqs() + options.queueBound());
        this.page = new WebPage(apiKey != null);
    }

    /** Starts listening (answering 503 until a model is loaded). */
    public ChorusServer start() {
        web = WebServer.builder()
                .host(options.host())
                .port(options.port())
                .shutdownHook(false)
                // Helidon's own wait for open connections outlasts ours, so requests end by finishing or by our abort.
                .shutdownGracePeriod(options.shutdownGrace().plusSeconds(5))
                .addConnectionSelector(new Http10Selector()) // HTTP/1.0 health checks and proxies; Helidon alone answers 505
                .maxTcpConnections(options.maxConnections())
                .addProtocol(Http1Config.builder()
                        .maxPrologueLength(options.maxHeaderBytes())
                        .maxHeadersSize(options.maxHeaderBytes())
                        .build())
                .routing(this::routes)
                .build()
                .start();
        port = web.port();
        return this;
    }

    /** Loads the model with {@code loader} and starts serving it. */
    public LoadedModel load(Supplier<LoadedModel> loader) {
        LoadedModel m = loader.get();
        ServerMetrics.CacheInfo cache = new ServerMetrics.CacheInfo(m.sizing().blockSize(), m.sizing().numBlocks(),
                options.kvCacheDtype().name().toLowerCase(), m.engineConfig().enablePrefixCaching(), options.memoryUtilization());
        metrics = new ServerMetrics(m.name(), () -> m.engine().stats(), cache);
        status = new EngineStatus(m.name(), m.sizing().blockSize(), m.engineConfig(), m.engine());
        model = m;
        if (state == State.LOADING) state = State.READY;
        return m;
    }

    public int port() { return port; }
    /** The served model, or null while loading. */
    public LoadedModel model() { return model; }
    public String url() { return "http://" + options.host() + ":" + port(); }

    /**
     * Graceful shutdown a load balancer can follow without losing a request: /health answers 503 at
     * once while requests are still served for {@code delay} (time for the balancer's health check
     * to take this replica out); then the listener closes, so new connections are refused and go
     * elsewhere; in-flight requests get {@code grace} to finish, the rest are aborted (their blocks
     * freed); then the engine stops. Returns once every handler is done.
     */
    public void shutdown(Duration delay, Duration grace) {
        drain(() -> {
            LOG.info("draining: /health answers 503; requests are still served for " + seconds(delay) + " s, then the listener closes");
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, grace);
    }

    /** {@link #shutdown} with the delay phase given as a step that returns when it is over (tests end it on cue). */
    synchronized void drain(Runnable delay, Duration grace) {
        if (state == State.STOPPED) return;
        state = State.DRAINING;
        delay.run();
        // Helidon's stop closes the listener at once, closes idle connections, and returns once every
        // connection it accepted is done: including requests that arrived just before the close and
        // have not reached the engine yet, which counting engine requests alone would miss.
        Thread listener = Thread.ofPlatform().name("chorus-listener-stop").start(() -> {
            if (web != null) web.stop();
        });
        if (!grace.isZero()) LOG.info("listener closed; " + admission.admitted() + " request(s) in flight get " + seconds(grace) + " s to finish");
        join(listener, grace);
        LoadedModel m = model;
        if (listener.isAlive() && admission.admitted() > 0) LOG.info("aborting " + admission.admitted() + " request(s) still running after the grace period");
        if (m != null) m.engine().close(); // aborts what is left; handlers see ABORT and finish their responses
        EngineStatus st = status;
        if (st != null) st.close();
        state = State.STOPPED;
        connections.close();
        join(listener, null); // bounded by Helidon's own grace period (above ours)
        if (m != null) m.close();
    }

    /** Waits for {@code t} to end, at most {@code limit} (null: no limit). */
    private static void join(Thread t, Duration limit) {
        try {
            if (limit == null) t.join();
            else t.join(limit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? String.valueOf(d.toSeconds()) : String.format("%.1f", d.toMillis() / 1000.0);
    }

    @Override
    public void close() {
        drain(() -> { }, Duration.ZERO); // at once: no delay, no grace
    }

    // ---- routing ----

    private void routes(HttpRouting.Builder r) {
        Cors cors = Cors.of(options.allowedOrigins());
        if (cors != null) r.addFilter(cors);
        r.get("/health", guard(false, true, this::health))
                .get("/version", guard(true, false, (req, res) -> sendJson(res, 200, JSON.createObjectNode().put("version", VERSION))))
                .get("/metrics", guard(!options.metricsPublic(), true, this::metrics))
                .get("/v1/models", guard(true, true, this::models))
                .post("/v1/chat/completions", guard(true, true, (req, res) -> new ChatCompletions(this, model, req).handle(readJson(req), res)))
                .post("/v1/completions", guard(true, true, (req, res) -> new TextCompletions(this, model, req).handle(readJson(req), res)))
                .post("/tokenize", guard(true, true, (req, res) -> Tokenize.tokenize(this, model, readJson(req), res)))
                .post("/v1/embeddings", guard(true, true, (req, res) -> new Embeddings(this, model, req).handle(readJson(req), res)))
                .post("/detokenize", guard(true, true, (req, res) -> Tokenize.detokenize(this, model, readJson(req), res)))
                .post("/api/chat", guard(true, true, OllamaApi::error, (req, res) -> new OllamaChat(this, model, req).chat(readJson(req), res)))
                .post("/api/generate", guard(true, true, OllamaApi::error, (req, res) -> new OllamaChat(this, model, req).generate(readJson(req), res)))
                .get("/api/tags", guard(true, true, OllamaApi::error, (req, res) -> sendJson(res, 200, OllamaApi.tags(model))))
                .get("/api/ps", guard(true, true, OllamaApi::error, (req, res) -> sendJson(res, 200, OllamaApi.ps(model))))
                .post("/api/show", guard(true, true, OllamaApi::error, (req, res) -> sendJson(res, 200, OllamaApi.show(model, readJson(req)))))
                .get("/api/version", guard(true, false, OllamaApi::error, (req, res) -> sendJson(res, 200, OllamaApi.version())))
                .get("/v1/engine/status", guard(true, true, (req, res) -> status.handle(req, res)))
                .get("/", guard(false, false, page::index))
                .get("/static/*", guard(false, false, page::file))
                .any(guard(true, false, (req, res) -> {
                    throw ApiError.notFound("No route for " + req.prologue().method().text() + " " + req.path().path(), "not_found");
                }));
    }

    /** A handler step that can fail with {@link ApiError} or any exception. */
    @FunctionalInterface
    interface Step {
        void handle(ServerRequest req, ServerResponse res) throws Exception;
    }

    /** Wraps a handler with authentication, the readiness check and error mapping. */
    private Handler guard(boolean auth, boolean needsModel, Step step) {
        return guard(auth, needsModel, ApiError::toJson, step);
    }

    /** As above, with errors written by {@code errorBody} (Ollama's API has its own shape). */
    private Handler guard(boolean auth, boolean needsModel, java.util.function.Function<ApiError, JsonNode> errorBody, Step step) {
        return (req, res) -> {
            try {
                if (auth && apiKey != null && !authorized(req)) throw ApiError.unauthorized();
                State s = state;
                if (needsModel && s == State.LOADING) throw ApiError.unavailable("the model is still loading");
                // While draining, requests are still served (a balancer may send some before it sees /health fail).
                if (needsModel && s == State.STOPPED) throw ApiError.unavailable("the server is shutting down");
                step.handle(req, res);
            } catch (ApiError e) {
                sendErrorAndCloseIfBodyUnread(req, res, e, errorBody);
            } catch (Generation.ClientGone e) {
                // The client went away; the request was aborted and nothing can be sent. Closing the
                // connection ourselves keeps Helidon from logging a handler that "sent nothing".
                throw new CloseConnectionException("the client closed the connection");
            } catch (Exception e) {
                LOG.log(Level.WARNING, "request " + req.path().path() + " failed", e);
                // Details stay in the log: a client must never see internals (paths, stack traces).
                sendErrorAndCloseIfBodyUnread(req, res, ApiError.internal("internal server error; see the server log"), errorBody);
            }
        };
    }

    /**
     * An error answered before the whole body was read (413, 401, 429...) closes the connection:
     * reading on would cost what the limit was there to avoid, and the unread bytes must never be
     * parsed as the next request (a proxy reusing the connection would turn that into smuggling).
     * Helidon does not close on a {@code Connection: close} response header alone, so once the answer
     * is out the handler throws its close-connection signal.
     */
    private static void sendErrorAndCloseIfBodyUnread(ServerRequest req, ServerResponse res, ApiError e,
                                                      java.util.function.Function<ApiError, JsonNode> errorBody) {
        boolean hasBody = req.headers().contentLength().orElse(0) > 0 || req.headers().contains(HeaderNames.TRANSFER_ENCODING);
        boolean unread = hasBody && !req.content().consumed() && !res.isSent();
        if (unread) res.header(HeaderValues.CONNECTION_CLOSE);
        sendError(res, e, errorBody.apply(e));
        if (unread) throw new CloseConnectionException("the request body was not read");
    }

    private boolean authorized(ServerRequest req) {
        String h = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        String token = h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : "";
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), apiKey);
    }

    /** 200 only while ready: a draining server fails its health check so balancers stop sending to it. */
    private void health(ServerRequest req, ServerResponse res) {
        if (state != State.READY) throw ApiError.unavailable("the server is shutting down");
        res.status(Status.OK_200).send();
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, ServerMetrics.CONTENT_TYPE);
        res.send(metrics.scrape());
    }

    private void models(ServerRequest req, ServerResponse res) {
        LoadedModel m = model;
        ObjectNode root = JSON.createObjectNode().put("object", "list");
        ArrayNode data = root.putArray("data");
        data.addObject().put("id", m.name()).put("object", "model").put("created", STARTED).put("owned_by", "chorus")
                .put("root", m.name()).putNull("parent").put("max_model_len", m.maxModelLen());
        sendJson(res, 200, root);
    }

    // ---- helpers for the API classes ----

    /** Reads the body as JSON (413 past the limit, 400 when it does not parse or is not an object). */
    JsonNode readJson(ServerRequest req) throws IOException {
        long limit = options.maxBodyBytes();
        if (req.headers().contentLength().orElse(0) > limit) throw ApiError.tooLarge(limit);
        byte[] body;
        try (InputStream in = req.content().inputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        }
        if (body.length > limit) throw ApiError.tooLarge(limit);
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("the request body is not valid JSON: " + e.getOriginalMessage(), null);
        }
        if (node == null || !node.isObject()) throw ApiError.badRequest("the request body must be a JSON object", null);
        return node;
    }

    /** Checks {@code body.model} names the served model (absent is fine). */
    void checkModel(JsonNode body, LoadedModel m) {
        String name = Params.string(body, "model");
        if (name != null && !name.equals(m.name())) throw ApiError.modelNotFound(name);
    }

    /** A submitted request: its engine handle and timer. Its admission ticket is the caller's to close. */
    record Submitted(RequestHandle handle, RequestTimer timer) {}

    /**
     * Admits {@code n} engine requests (429 + Retry-After past the bound). Called first, before the
     * handler renders or tokenizes anything; the handler closes the ticket when its requests are over.
     */
    Admission.Ticket admit(int n) {
        return admission.admit(n);
    }

    /** Submits an admitted request to the engine (400 when it can never run, 503 when shutting down). */
    Submitted submit(LoadedModel m, String id, int[] prompt, SamplingParams sp, int priority) {
        if (options.task() == ServeOptions.Task.EMBED) {
            throw ApiError.badRequest("this server was started with --task embed: it serves /v1/embeddings, not text generation", null);
        }
        try {
            // A deadline also bounds a request whose client left without the server noticing.
            Instant deadline = options.requestTimeout() != null ? Instant.now().plus(options.requestTimeout()) : null;
            RequestHandle h = m.engine().submit(new EngineRequest(id, prompt, sp, priority, deadline));
            return new Submitted(h, new RequestTimer(metrics, id));
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest(e.getMessage(), e.param());
        } catch (IllegalStateException e) {
            throw ApiError.unavailable("the server is shutting down");
        }
    }

    /** A submitted embedding request: its engine handle, timer and prompt length. */
    record SubmittedEmbedding(RequestHandle handle, RequestTimer timer, int promptTokens) {}

    /** Submits an admitted embedding request (prefill only, pooled as the model is served). */
    SubmittedEmbedding submitEmbedding(LoadedModel m, String id, int[] prompt) {
        try {
            Instant deadline = options.requestTimeout() != null ? Instant.now().plus(options.requestTimeout()) : null;
            RequestHandle h = m.engine().submit(EngineRequest.embedding(id, prompt, m.pooling(), deadline));
            return new SubmittedEmbedding(h, new RequestTimer(metrics, id), prompt.length);
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest(e.getMessage(), e.param() != null ? e.param() : "input");
        } catch (IllegalStateException e) {
            throw ApiError.unavailable("the server is shutting down");
        }
    }

    /**
     * Watches the client connection of a non-streaming request while it is generated (true once the
     * client has gone); {@link #unwatch} when the response is over.
     */
    BooleanSupplier watchClient(ServerRequest req) { return connections.watch(req); }

    void unwatch(ServerRequest req) { connections.unwatch(req); }

    /** Engine requests admitted and not yet over (for tests and the shutdown drain). */
    int admitted() { return admission.admitted(); }

    /** Options the handlers read (limits, flags). */
    ServeOptions options() { return options; }

    static void sendJson(ServerResponse res, int status, JsonNode body) {
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        try {
            res.send(JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void sendError(ServerResponse res, ApiError e) {
        sendError(res, e, e.toJson());
    }

    static void sendError(ServerResponse res, ApiError e, JsonNode body) {
        if (res.isSent()) return;
        try {
            if (e.retryAfterSeconds() != null) res.header(RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
            sendJson(res, e.status(), body);
        } catch (RuntimeException ignored) {
            // the response was already streaming or the connection is gone: nothing more can be said
        }
    }
}
