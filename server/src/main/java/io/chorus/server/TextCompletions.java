package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.UUID;

/** {@code POST /v1/completions} (legacy text completions), streaming and not, with echo and logprobs. */
final class TextCompletions {
    private final ChorusServer server;
    private final LoadedModel model;
    private final Tokenizer tok;
    private final String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
    private final long created = Instant.now().getEpochSecond();

    TextCompletions(ChorusServer server, LoadedModel model) {
        this.server = server;
        this.model = model;
        this.tok = model.tokenizer();
    }

    void handle(JsonNode body, ServerResponse res) throws IOException, InterruptedException {
        server.checkModel(body, model);
        boolean stream = Params.bool(body, "stream", false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);
        if (Params.present(body, "suffix")) throw ApiError.badRequest("suffix is not supported", "suffix");
        int[] prompt = prompt(body);
        JsonNode p = body.get("prompt");
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) p = p.get(0);
        String promptText = p.isTextual() ? p.asText() : tok.decode(prompt, true); // echo returns the prompt as sent
        SamplingParams.Builder b = Params.sampling(body, tok.vocabSize());
        b.maxTokens(Params.maxTokens(Params.integer(body, "max_tokens"), prompt.length, model.maxModelLen(), "max_tokens", "prompt"));
        Integer bestOf = Params.integer(body, "best_of");
        Integer n = Params.integer(body, "n");
        if (bestOf != null && bestOf != (n != null ? n : 1)) throw ApiError.badRequest("best_of must equal n (beam search is not supported)", "best_of");
        Integer logprobs = Params.integer(body, "logprobs");
        boolean echo = Params.bool(body, "echo", false);
        if (logprobs != null) b.logprobs(logprobs);
        if (logprobs != null && echo) b.promptLogprobs(logprobs);
        SamplingParams sp;
        try {
            sp = b.build();
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest(e.getMessage(), e.param());
        }
        Integer priority = Params.integer(body, "priority");
        try (ChorusServer.Submitted s = server.submit(model, id, prompt, sp, priority != null ? priority : 0)) {
            Generation g = new Generation(tok, sp, s.handle, s.timer);
            try {
                run(g, sp, res, stream, includeUsage, prompt, echo ? promptText : null, logprobs != null);
            } finally {
                s.timer.complete(prompt.length, g.totalTokens());
            }
        }
    }

    /** The prompt as token ids: a string, a list of token ids, or either wrapped in a one-element list. */
    private int[] prompt(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiError.badRequest("prompt is required", "prompt");
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) p = p.get(0);
        else if (p.isArray() && !p.isEmpty() && (p.get(0).isTextual() || p.get(0).isArray())) {
            throw ApiError.badRequest("only one prompt per request is supported; send one request per prompt", "prompt");
        }
        int[] ids;
        if (p.isTextual()) {
            ids = tok.encode(p.asText(), true, true);
        } else if (p.isArray()) {
            ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = p.get(i);
                if (!t.isIntegralNumber() || !t.canConvertToInt()) throw ApiError.badRequest("prompt must be a string or a list of token ids", "prompt");
                ids[i] = t.asInt();
                if (ids[i] < 0 || ids[i] >= tok.vocabSize()) {
                    throw ApiError.badRequest("prompt token id " + ids[i] + " is outside the vocabulary [0, " + tok.vocabSize() + ")", "prompt");
                }
            }
        } else {
            throw ApiError.badRequest("prompt must be a string or a list of token ids", "prompt");
        }
        if (ids.length == 0) throw ApiError.badRequest("the prompt must contain at least one token", "prompt");
        return ids;
    }

    private void run(Generation g, SamplingParams sp, ServerResponse res, boolean stream, boolean includeUsage,
                     int[] prompt, String echoText, boolean logprobs) throws IOException, InterruptedException {
        int n = sp.n();
        StringBuilder[] texts = new StringBuilder[n];
        LogprobsJson.Legacy[] lps = new LogprobsJson.Legacy[n];
        boolean[] echoed = new boolean[n];
        for (int i = 0; i < n; i++) {
            texts[i] = new StringBuilder();
            lps[i] = new LogprobsJson.Legacy(0);
        }
        Sse sse = stream ? new Sse(res) : null;
        try {
            g.run(new Generation.Sink() {
                @Override
                public void text(int index, String text, int[] tokenIds, TokenLogprobs[] lp) throws IOException {
                    String out = text;
                    if (echoText != null && !echoed[index]) {
                        echoed[index] = true;
                        out = echoText + text;
                        if (logprobs) {
                            TokenLogprobs[] plp = g.promptLogprobs();
                            for (int k = 0; k < prompt.length; k++) lps[index].add(tok, prompt[k], plp != null && k < plp.length ? plp[k] : null);
                        }
                    }
                    if (logprobs && lp != null) for (int k = 0; k < tokenIds.length && k < lp.length; k++) lps[index].add(tok, tokenIds[k], lp[k]);
                    if (!stream) {
                        texts[index].append(out);
                    } else if (!out.isEmpty() || (logprobs && lp != null)) {
                        sse.send(chunk(index, out, logprobs ? lps[index].drain() : null, null, includeUsage));
                    }
                }

                @Override
                public void finish(int index, String finishReason) throws IOException {
                    if (stream) sse.send(chunk(index, "", null, finishReason, includeUsage));
                }
            });
            if (!stream) {
                if (g.error() != null) throw ApiError.internal(g.error());
                ObjectNode root = base();
                ArrayNode choices = root.putArray("choices");
                for (int i = 0; i < n; i++) {
                    ObjectNode c = choices.addObject();
                    c.put("index", i);
                    c.put("text", texts[i].toString());
                    if (logprobs) c.set("logprobs", lps[i].toJson()); else c.putNull("logprobs");
                    c.put("finish_reason", g.finishReason(i));
                }
                root.set("usage", ChatCompletions.usage(prompt.length, g.totalTokens()));
                ChorusServer.sendJson(res, 200, root);
                return;
            }
            if (g.error() != null) sse.send(ApiError.internal(g.error()).toJson());
            if (includeUsage) {
                ObjectNode last = base();
                last.putArray("choices");
                last.set("usage", ChatCompletions.usage(prompt.length, g.totalTokens()));
                sse.send(last);
            }
            sse.done();
            sse.close();
        } catch (IOException | UncheckedIOException e) {
            g.abort();
            throw new Generation.ClientGone(e);
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
