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
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP front end: an OpenAI-compatible API over one {@link LoadedModel}, on Helidon SE
 * (handlers run on virtual threads and block cheaply on the engine's output streams).
 *
 * <p>Implementation notes. The server listens before the model is loaded and answers 503 until
 * {@link #load} completes, and again once {@link #shutdown} begins. {@code inflight} counts requests
 * submitted to the engine and not yet finished; admission rejects with 429 when it would exceed
 * max-num-seqs + max-queue. Every error leaves through {@link ApiError} as OpenAI's JSON.
 */
public final class ChorusServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ChorusServer.class.getName());
    static final ObjectMapper JSON = new ObjectMapper();
    static final String VERSION = "0.1.0";
    private static final HeaderName RETRY_AFTER = HeaderNames.create("Retry-After");
    private static final long STARTED = Instant.now().getEpochSecond();

    private enum State { LOADING, READY, DRAINING, STOPPED }

    private final ServeOptions options;
    private final byte[] apiKey;
    private final AtomicInteger inflight = new AtomicInteger();
    private volatile State state = State.LOADING;
    private volatile LoadedModel model;
    private volatile ServerMetrics metrics;
    private WebServer web;

    public ChorusServer(ServeOptions options) {
        this.options = options;
        String key = options.apiKey() != null ? options.apiKey() : System.getenv("CHORUS_API_KEY");
        this.apiKey = key != null && !key.isEmpty() ? key.getBytes(StandardCharsets.UTF_8) : null;
    }

    /** Starts listening (answering 503 until a model is loaded). */
    public ChorusServer start() {
        web = WebServer.builder()
                .host(options.host())
                .port(options.port())
                .shutdownHook(false)
                .routing(this::routes)
                .build()
                .start();
        return this;
    }

    /** Loads the model with {@code loader} and starts serving it. */
    public LoadedModel load(Supplier<LoadedModel> loader) {
        LoadedModel m = loader.get();
        ServerMetrics.CacheInfo cache = new ServerMetrics.CacheInfo(m.sizing().blockSize(), m.sizing().numBlocks(),
                options.kvCacheDtype().name().toLowerCase(), m.engineConfig().enablePrefixCaching(), options.memoryUtilization());
        metrics = new ServerMetrics(m.name(), () -> m.engine().stats(), cache);
        model = m;
        if (state == State.LOADING) state = State.READY;
        return m;
    }

    public int port() { return web.port(); }
    /** The served model, or null while loading. */
    public LoadedModel model() { return model; }
    public String url() { return "http://" + options.host() + ":" + port(); }

    /**
     * Graceful shutdown: new requests get 503, in-flight ones get {@code grace} to finish, the rest are
     * aborted, then the listener and the engine stop.
     */
    public synchronized void shutdown(Duration grace) {
        if (state == State.STOPPED) return;
        state = State.DRAINING;
        long deadline = System.nanoTime() + grace.toNanos();
        while (inflight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (inflight.get() > 0) LOG.info("shutdown: aborting " + inflight.get() + " request(s) still running after the grace period");
        LoadedModel m = model;
        if (m != null) m.engine().close(); // aborts what is left; handlers see ABORT and finish their responses
        long drain = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (inflight.get() > 0 && System.nanoTime() < drain) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        state = State.STOPPED;
        if (web != null) web.stop();
        if (m != null) m.close();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    // ---- routing ----

    private void routes(HttpRouting.Builder r) {
        r.get("/health", guard(false, true, (req, res) -> res.status(Status.OK_200).send()))
                .get("/version", guard(false, false, (req, res) -> sendJson(res, 200, JSON.createObjectNode().put("version", VERSION))))
                .get("/metrics", guard(false, true, this::metrics))
                .get("/v1/models", guard(true, true, this::models))
                .post("/v1/chat/completions", guard(true, true, (req, res) -> new ChatCompletions(this, model).handle(readJson(req), res)))
                .post("/v1/completions", guard(true, true, (req, res) -> new TextCompletions(this, model).handle(readJson(req), res)))
                .post("/tokenize", guard(true, true, (req, res) -> Tokenize.tokenize(this, model, readJson(req), res)))
                .post("/detokenize", guard(true, true, (req, res) -> Tokenize.detokenize(this, model, readJson(req), res)))
                .any(guard(false, false, (req, res) -> {
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
        return (req, res) -> {
            try {
                if (auth && apiKey != null && !authorized(req)) throw ApiError.unauthorized();
                State s = state;
                if (needsModel && s == State.LOADING) throw ApiError.unavailable("the model is still loading");
                if (needsModel && s != State.READY) throw ApiError.unavailable("the server is shutting down");
                step.handle(req, res);
            } catch (ApiError e) {
                sendError(res, e);
            } catch (Generation.ClientGone e) {
                // the client went away mid-response; the request was aborted and nothing can be sent
            } catch (Exception e) {
                LOG.log(Level.WARNING, "request " + req.path().path() + " failed", e);
                // Details stay in the log: a client must never see internals (paths, stack traces).
                sendError(res, ApiError.internal("internal server error; see the server log"));
            }
        };
    }

    private boolean authorized(ServerRequest req) {
        String h = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        String token = h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : "";
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), apiKey);
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

    /** A submitted request: its engine handle and timer; {@link #close} releases its admission slot. */
    final class Submitted implements AutoCloseable {
        final RequestHandle handle;
        final RequestTimer timer;
        private boolean closed;

        Submitted(RequestHandle handle, RequestTimer timer) {
            this.handle = handle;
            this.timer = timer;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                inflight.decrementAndGet();
            }
        }
    }

    /** Admits and submits a request to the engine (429 when the queue is full, 400 when it cannot run). */
    Submitted submit(LoadedModel m, String id, int[] prompt, SamplingParams sp, int priority) {
        long cap = (long) m.engineConfig().maxNumSeqs() + (options.maxQueue() != null ? options.maxQueue() : Integer.MAX_VALUE);
        if (inflight.incrementAndGet() > cap) {
            inflight.decrementAndGet();
            throw ApiError.queueFull(1);
        }
        RequestTimer timer = new RequestTimer(metrics, id);
        try {
            // A deadline also bounds a request whose client left without the server noticing (non-streaming).
            java.time.Instant deadline = options.requestTimeout() != null ? java.time.Instant.now().plus(options.requestTimeout()) : null;
            RequestHandle h = m.engine().submit(new EngineRequest(id, prompt, sp, priority, deadline));
            return new Submitted(h, timer);
        } catch (InvalidRequestException e) {
            inflight.decrementAndGet();
            throw ApiError.badRequest(e.getMessage(), e.param());
        } catch (IllegalStateException e) {
            inflight.decrementAndGet();
            throw ApiError.unavailable("the server is shutting down");
        } catch (RuntimeException e) {
            inflight.decrementAndGet();
            throw e;
        }
    }

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
        if (res.isSent()) return;
        try {
            if (e.retryAfterSeconds() != null) res.header(RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
            sendJson(res, e.status(), e.toJson());
        } catch (RuntimeException ignored) {
            // the response was already streaming or the connection is gone: nothing more can be said
        }
    }
}
