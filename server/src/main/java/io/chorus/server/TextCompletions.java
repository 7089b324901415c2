package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * {@code POST /v1/completions} (legacy text completions), streaming and not, with echo and logprobs.
 * A list of prompts runs as one engine request per prompt, side by side; choice {@code index} is
 * {@code prompt * n + completion}, as OpenAI numbers them.
 */
final class TextCompletions {
    private final ChorusServer server;
    private final ServerRequest request;
    private final LoadedModel model;
    private final Tokenizer tok;
    private final String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
    private final long created = Instant.now().getEpochSecond();

    /** One prompt as token ids, and its text for echo. */
    private record Prompt(int[] ids, String text) {}

    /** One prompt's run: its engine request and the text and logprobs of its n completions. */
    private final class Run {
        final int first; // choice index of completion 0
        final Prompt prompt;
        final SamplingParams sp;
        ChorusServer.Submitted submitted;
        Generation generation;
        final StringBuilder[] texts;
        final LogprobsJson.Legacy[] logprobs;
        final boolean[] echoed;

        Run(int first, Prompt prompt, SamplingParams sp) {
            this.first = first;
            this.prompt = prompt;
            this.sp = sp;
            this.texts = new StringBuilder[sp.n()];
            this.logprobs = new LogprobsJson.Legacy[sp.n()];
            this.echoed = new boolean[sp.n()];
            for (int i = 0; i < sp.n(); i++) {
                texts[i] = new StringBuilder();
                logprobs[i] = new LogprobsJson.Legacy(0);
            }
        }
    }

    TextCompletions(ChorusServer server, LoadedModel model, ServerRequest request) {
        this.server = server;
        this.request = request;
        this.model = model;
        this.tok = model.tokenizer();
    }

    void handle(JsonNode body, ServerResponse res) throws IOException, InterruptedException {
        server.checkModel(body, model);
        boolean stream = Params.bool(body, "stream", false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);
        if (Params.present(body, "suffix")) throw ApiError.badRequest("suffix is not supported", "suffix");
        // One engine request per prompt; all are admitted before any of them is tokenized.
        try (Admission.Ticket ticket = server.admit(promptCount(body))) {
            run(body, res, stream, includeUsage);
        }
    }

    /** How many prompts {@code body.prompt} holds, read from the JSON alone (400 when it is missing). */
    private static int promptCount(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiError.badRequest("prompt is required", "prompt");
        if (p.isArray() && !p.isEmpty() && (p.get(0).isTextual() || p.get(0).isArray())) return p.size();
        return 1;
    }

    private void run(JsonNode body, ServerResponse res, boolean stream, boolean includeUsage) throws IOException, InterruptedException {
        List<Prompt> prompts = prompts(body);
        Integer bestOf = Params.integer(body, "best_of");
        Integer n = Params.integer(body, "n");
        if (bestOf != null && bestOf != (n != null ? n : 1)) throw ApiError.badRequest("best_of must equal n (beam search is not supported)", "best_of");
        Integer logprobs = Params.integer(body, "logprobs");
        boolean echo = Params.bool(body, "echo", false);
        Integer maxTokens = Params.integer(body, "max_tokens");
        Integer priority = Params.integer(body, "priority");
        List<Run> runs = new ArrayList<>();
        for (Prompt p : prompts) {
            SamplingParams.Builder b = Params.sampling(body, tok.vocabSize(), model.generationDefaults());
            b.maxTokens(Params.maxTokens(maxTokens, p.ids().length, model.maxModelLen(), "max_tokens", "prompt"));
            if (logprobs != null) b.logprobs(logprobs);
            if (logprobs != null && echo) b.promptLogprobs(logprobs);
            try {
                SamplingParams sp = b.build();
                runs.add(new Run(runs.isEmpty() ? 0 : runs.getLast().first + sp.n(), p, sp));
            } catch (InvalidRequestException e) {
                throw ApiError.badRequest(e.getMessage(), e.param());
            }
        }
        try {
            for (int k = 0; k < runs.size(); k++) {
                Run r = runs.get(k);
                String rid = runs.size() == 1 ? id : id + "-" + k;
                r.submitted = server.submit(model, rid, r.prompt.ids(), r.sp, priority != null ? priority : 0);
                r.generation = new Generation(model.detokenizers(), r.sp, r.submitted.handle(), r.submitted.timer());
            }
            respond(runs, res, stream, includeUsage, echo, logprobs != null);
        } finally {
            for (Run r : runs) {
                if (r.submitted == null) continue;
                if (r.generation != null) {
                    r.generation.abort(); // a no-op for a finished request; stops the others when one failed
                    r.submitted.timer().complete(r.prompt.ids().length, r.generation.totalTokens());
                }
            }
        }
    }

    /** The prompts: a string, a list of token ids, or a list of either. */
    private List<Prompt> prompts(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiError.badRequest("prompt is required", "prompt");
        List<Prompt> out = new ArrayList<>();
        if (p.isArray() && !p.isEmpty() && (p.get(0).isTextual() || p.get(0).isArray())) {
            for (JsonNode e : p) out.add(prompt(e));
        } else {
            out.add(prompt(p));
        }
        return out;
    }

    private Prompt prompt(JsonNode p) {
        if (p.isTextual()) {
            int[] ids = tok.encode(p.asText(), true, true);
            if (ids.length == 0) throw ApiError.badRequest("the prompt must contain at least one token", "prompt");
            return new Prompt(ids, p.asText());
        }
        if (!p.isArray() || p.isEmpty()) throw ApiError.badRequest("prompt must be a string, a list of token ids, or a list of either", "prompt");
        int[] ids = new int[p.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = p.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt()) {
                throw ApiError.badRequest("prompt must be a string, a list of token ids, or a list of either", "prompt");
            }
            ids[i] = t.asInt();
            if (ids[i] < 0 || ids[i] >= tok.vocabSize()) {
                throw ApiError.badRequest("prompt token id " + ids[i] + " is outside the vocabulary [0, " + tok.vocabSize() + ")", "prompt");
            }
        }
        return new Prompt(ids, tok.decode(ids, true));
    }

    private void respond(List<Run> runs, ServerResponse res, boolean stream, boolean includeUsage, boolean echo, boolean logprobs)
            throws IOException, InterruptedException {
        Sse sse = stream ? new Sse(res) : null;
        // A non-streaming client is watched on its socket: nothing is written to it until the end.
        BooleanSupplier gone = stream ? ConnectionWatch.ALWAYS_CONNECTED : server.watchClient(request);
        try {
            runAll(runs, gone, r -> new Generation.Sink() {
                @Override
                public void text(int index, String text, int[] tokenIds, TokenLogprobs[] lp) throws IOException {
                    String out = text;
                    if (echo && !r.echoed[index]) {
                        r.echoed[index] = true;
                        out = r.prompt.text() + text;
                        if (logprobs) {
                            TokenLogprobs[] plp = r.generation.promptLogprobs();
                            int[] ids = r.prompt.ids();
                            for (int k = 0; k < ids.length; k++) r.logprobs[index].add(tok, ids[k], plp != null && k < plp.length ? plp[k] : null);
                        }
                    }
                    if (logprobs && lp != null) {
                        for (int k = 0; k < tokenIds.length && k < lp.length; k++) r.logprobs[index].add(tok, tokenIds[k], lp[k]);
                    }
                    if (!stream) {
                        r.texts[index].append(out);
                    } else if (!out.isEmpty() || (logprobs && lp != null)) {
                        ObjectNode c = chunk(r.first + index, out, logprobs ? r.logprobs[index].drain() : null, null, includeUsage);
                        synchronized (sse) {
                            sse.send(c);
                        }
                    }
                }

                @Override
                public void finish(int index, String finishReason) throws IOException {
                    if (!stream) return;
                    ObjectNode c = chunk(r.first + index, "", null, finishReason, includeUsage);
                    synchronized (sse) {
                        sse.send(c);
                    }
                }
            });
            int promptTokens = 0, completionTokens = 0;
            String error = null;
            for (Run r : runs) {
                promptTokens += r.prompt.ids().length;
                completionTokens += r.generation.totalTokens();
                if (r.generation.error() != null) error = r.generation.error();
            }
            if (!stream) {
                if (error != null) throw ApiError.internal(error);
                ObjectNode root = base();
                ArrayNode choices = root.putArray("choices");
                for (Run r : runs) {
                    for (int i = 0; i < r.sp.n(); i++) {
                        ObjectNode c = choices.addObject();
                        c.put("index", r.first + i);
                        c.put("text", r.texts[i].toString());
                        if (logprobs) c.set("logprobs", r.logprobs[i].toJson()); else c.putNull("logprobs");
                        c.put("finish_reason", r.generation.finishReason(i));
                    }
                }
                root.set("usage", ChatCompletions.usage(promptTokens, completionTokens));
                ChorusServer.sendJson(res, 200, root);
                return;
            }
            if (error != null) sse.send(ApiError.internal(error).toJson());
            if (includeUsage) {
                ObjectNode last = base();
                last.putArray("choices");
                last.set("usage", ChatCompletions.usage(promptTokens, completionTokens));
                sse.send(last);
            }
            sse.done();
            sse.close();
        } catch (IOException | UncheckedIOException e) {
            throw new Generation.ClientGone(e);
        } finally {
            if (!stream) server.unwatch(request);
        }
    }

    private interface SinkFactory {
        Generation.Sink sink(Run r);
    }

    /** Runs every prompt's generation to the end: inline for one, side by side on virtual threads for several. */
    private void runAll(List<Run> runs, BooleanSupplier gone, SinkFactory sinks) throws InterruptedException {
        if (runs.size() == 1) {
            Run r = runs.getFirst();
            r.generation.run(gone, sinks.sink(r));
            return;
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (Run r : runs) {
                futures.add(pool.submit(() -> {
                    r.generation.run(gone, sinks.sink(r));
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    for (Run r : runs) r.generation.abortFromAnotherThread();
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e.getCause());
                }
            }
        }
    }

    private ObjectNode chunk(int index, String text, JsonNode logprobs, String finishReason, boolean includeUsage) {
        ObjectNode root = base();
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", index);
        c.put("text", text);
        if (logprobs != null) c.set("logprobs", logprobs); else c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        if (includeUsage) root.putNull("usage");
        return root;
    }

    private ObjectNode base() {
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        root.put("id", id);
        root.put("object", "text_completion");
        root.put("created", created);
        root.put("model", model.name());
        root.putNull("system_fingerprint");
        return root;
    }
}
