package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.structured.GrammarSpec;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tools.ToolCallParser;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/** {@code POST /v1/chat/completions}, streaming and not. */
final class ChatCompletions {
    private final ChorusServer server;
    private final ServerRequest request;
    private final LoadedModel model;
    private final Tokenizer tok;
    private final String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    private final long created = Instant.now().getEpochSecond();

    ChatCompletions(ChorusServer server, LoadedModel model, ServerRequest request) {
        this.server = server;
        this.request = request;
        this.model = model;
        this.tok = model.tokenizer();
    }

    void handle(JsonNode body, ServerResponse res) throws IOException, InterruptedException {
        server.checkModel(body, model);
        try (Admission.Ticket ticket = server.admit(1)) { // before any rendering or tokenization
            run(body, res);
        }
    }

    private void run(JsonNode body, ServerResponse res) throws IOException, InterruptedException {
        boolean stream = Params.bool(body, "stream", false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);
        RequestFields.checkChat(body);
        ToolRequest tools = ToolRequest.read(body);
        ToolCallParser parser = tools.parser(model.outputParsers());
        ChatPrompt.Rendered prompt = ChatPrompt.render(model, body, server.options().parseSpecialInContent());
        int promptLen = prompt.tokenIds().length;
        SamplingParams.Builder b = Params.sampling(body, tok.vocabSize(), model.generationDefaults());
        boolean hasMct = Params.present(body, "max_completion_tokens");
        Integer max = hasMct ? Params.integer(body, "max_completion_tokens") : Params.integer(body, "max_tokens");
        b.maxTokens(Params.maxTokens(max, promptLen, model.maxModelLen(), hasMct ? "max_completion_tokens" : "max_tokens", "messages"));
        boolean logprobs = Params.bool(body, "logprobs", false);
        Integer top = Params.integer(body, "top_logprobs");
        if (top != null && !logprobs) throw ApiError.badRequest("top_logprobs requires logprobs to be true", "top_logprobs");
        if (top != null && (top < 0 || top > SamplingParams.MAX_LOGPROBS)) {
            throw ApiError.badRequest("top_logprobs must be in [0, " + SamplingParams.MAX_LOGPROBS + "], got " + top, "top_logprobs");
        }
        if (logprobs) b.logprobs(top != null ? top : 0);
        SamplingParams sp;
        try {
            sp = b.build();
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest(e.getMessage(), e.param());
        }
        GrammarSpec callGrammar = tools.grammar(parser);
        if (callGrammar != null) {
            if (sp.grammar() != null) throw ApiError.badRequest("tool_choice \"required\" or a named function cannot be combined with another output constraint", "tool_choice");
            sp = sp.toBuilder().grammar(callGrammar).build();
        }
        ChatOutput output = new ChatOutput(model.outputParsers(), prompt.text(), parser, tools.parallel(), sp.grammar() != null, sp.n());
        Integer priority = Params.integer(body, "priority");
        ChorusServer.Submitted s = server.submit(model, id, prompt.tokenIds(), sp, priority != null ? priority : 0);
        Generation g = new Generation(model.detokenizers(), sp, s.handle(), s.timer(),
                model.outputParsers().alwaysRender(parser != null, output.readsReasoning()));
        try {
            if (stream) stream(g, sp, output, res, includeUsage, promptLen, logprobs);
            else complete(g, sp, output, res, promptLen, logprobs);
        } finally {
            s.timer().complete(promptLen, g.totalTokens());
        }
    }

    private void complete(Generation g, SamplingParams sp, ChatOutput output, ServerResponse res, int promptLen, boolean logprobs)
            throws InterruptedException {
        int n = sp.n();
        StringBuilder[] texts = new StringBuilder[n];
        List<List<TokenLogprobs>> lps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            texts[i] = new StringBuilder();
            lps.add(new ArrayList<>());
        }
        try {
            g.run(server.watchClient(request), new Generation.Sink() {
                @Override
                public void text(int index, String text, int[] tokenIds, TokenLogprobs[] lp) {
                    texts[index].append(text);
                    if (lp != null) lps.get(index).addAll(Arrays.asList(lp));
                }

                @Override
                public void finish(int index, String finishReason) {}
            });
        } finally {
            server.unwatch(request);
        }
        if (g.error() != null) throw ApiError.internal(g.error());
        ObjectNode root = base("chat.completion");
        ArrayNode choices = root.putArray("choices");
        for (int i = 0; i < n; i++) {
            ObjectNode c = choices.addObject();
            c.put("index", i);
            ChatOutput.Message m = output.message(texts[i].toString(), g.finishReason(i));
            c.set("message", m.json());
            if (logprobs) c.set("logprobs", LogprobsJson.chat(tok, lps.get(i)));
            else c.putNull("logprobs");
            c.put("finish_reason", m.finishReason());
        }
        root.set("usage", usage(promptLen, g.totalTokens()));
        ChorusServer.sendJson(res, 200, root);
    }

    private void stream(Generation g, SamplingParams sp, ChatOutput output, ServerResponse res, boolean includeUsage, int promptLen,
                        boolean logprobs)
            throws IOException, InterruptedException {
        try (Sse sse = new Sse(res)) {
            for (int i = 0; i < sp.n(); i++) {
                ObjectNode delta = ChorusServer.JSON.createObjectNode().put("role", "assistant").put("content", "");
                sse.send(chunk(i, delta, null, null, includeUsage));
            }
            g.run(new Generation.Sink() {
                @Override
                public void text(int index, String text, int[] tokenIds, TokenLogprobs[] lp) throws IOException {
                    if (text.isEmpty() && lp == null) return;
                    JsonNode l = logprobs && lp != null ? LogprobsJson.chat(tok, Arrays.asList(lp)) : null;
                    if (output.active()) {
                        sendDeltas(index, text.isEmpty() ? List.of() : output.push(index, text), l);
                        return;
                    }
                    ObjectNode delta = ChorusServer.JSON.createObjectNode();
                    if (!text.isEmpty()) delta.put("content", text);
                    sse.send(chunk(index, delta, l, null, includeUsage));
                }

                /** Parsed deltas, the logprobs on the first (or on an empty delta when the text is held back). */
                private void sendDeltas(int index, List<ObjectNode> deltas, JsonNode l) throws IOException {
                    if (deltas.isEmpty() && l != null) sse.send(chunk(index, ChorusServer.JSON.createObjectNode(), l, null, includeUsage));
                    for (int k = 0; k < deltas.size(); k++) sse.send(chunk(index, deltas.get(k), k == 0 ? l : null, null, includeUsage));
                }

                @Override
                public void finish(int index, String finishReason) throws IOException {
                    String reason = finishReason;
                    if (output.active()) {
                        sendDeltas(index, output.finish(index), null);
                        reason = output.finishReason(index, finishReason);
                    }
                    sse.send(chunk(index, ChorusServer.JSON.createObjectNode(), null, reason, includeUsage));
                }
            });
            if (g.error() != null) sse.send(ApiError.internal(g.error()).toJson());
            if (includeUsage) {
                ObjectNode last = base("chat.completion.chunk");
                last.putArray("choices");
                last.set("usage", usage(promptLen, g.totalTokens()));
                sse.send(last);
            }
            sse.done();
        } catch (IOException | UncheckedIOException e) {
            g.abort();
            throw new Generation.ClientGone(e);
        }
    }

    private ObjectNode chunk(int index, ObjectNode delta, JsonNode logprobs, String finishReason, boolean includeUsage) {
        ObjectNode root = base("chat.completion.chunk");
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", index);
        c.set("delta", delta);
        if (logprobs != null) c.set("logprobs", logprobs); else c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        if (includeUsage) root.putNull("usage");
        return root;
    }

    private ObjectNode base(String object) {
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model.name());
        root.putNull("system_fingerprint");
        return root;
    }

    static ObjectNode usage(int prompt, int completion) {
        ObjectNode u = ChorusServer.JSON.createObjectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }
}
