package io.chorus.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
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

/**
 * Ollama's {@code POST /api/chat} and {@code POST /api/generate}, streamed as NDJSON by default or
 * answered whole with {@code stream: false}. The request is translated by {@link OllamaRequest} and
 * then takes the chat path's own steps: admission, {@link ChatPrompt}, {@link Params#sampling},
 * {@link ToolRequest}, submission, {@link Generation} (timers, metrics, cancel on disconnect) and
 * {@link ChatOutput} (tool calls, reasoning). Only the wire format is Ollama's: messages with tool
 * calls whose arguments are objects, {@code done}/{@code done_reason}, and durations in nanoseconds.
 */
final class OllamaChat {
    /** Which endpoint: chat answers a {@code message}, generate a {@code response} string (and its {@code context}). */
    private enum Kind { CHAT, GENERATE }

    private final ChorusServer server;
    private final ServerRequest request;
    private final LoadedModel model;
    private final Tokenizer tok;
    private final String id = "ollama-" + UUID.randomUUID().toString().replace("-", "");
    private Kind kind;
    private String modelName;

    OllamaChat(ChorusServer server, LoadedModel model, ServerRequest request) {
        this.server = server;
        this.request = request;
        this.model = model;
        this.tok = model.tokenizer();
    }

    void chat(JsonNode body, ServerResponse res) throws IOException, InterruptedException {
        kind = Kind.CHAT;
        modelName = OllamaApi.requireModel(body, model);
        OllamaRequest.Translated t = OllamaRequest.chat(body);
        if (t.body().get("messages").isEmpty()) { // Ollama's way to load a model: nothing to answer
            loaded(res);
            return;
        }
        try (Admission.Ticket ticket = server.admit(1)) { // before any rendering or tokenization
            ToolRequest tools = ToolRequest.read(t.body());
            ToolCallParser parser = tools.parser(model.outputParsers());
            ChatPrompt.Rendered prompt = ChatPrompt.render(model, t.body(), server.options().parseSpecialInContent());
            run(t, prompt.text(), prompt.tokenIds(), parser, false, res);
        }
    }

    void generate(JsonNode body, ServerResponse res) throws IOException, InterruptedException {
        kind = Kind.GENERATE;
        modelName = OllamaApi.requireModel(body, model);
        OllamaRequest.Translated t = OllamaRequest.generate(body);
        String prompt = java.util.Objects.requireNonNullElse(Params.string(body, "prompt"), "");
        List<Integer> context = Params.intList(body, "context");
        if (prompt.isEmpty() && context.isEmpty()) {
            loaded(res);
            return;
        }
        boolean raw = Params.bool(body, "raw", false);
        try (Admission.Ticket ticket = server.admit(1)) {
            String text;
            int[] ids;
            if (raw) {
                text = prompt;
                ids = tok.encode(prompt, context.isEmpty(), true);
            } else {
                ChatPrompt.Rendered r = ChatPrompt.render(model, t.body(), server.options().parseSpecialInContent());
                text = r.text();
                ids = r.tokenIds();
                if (!context.isEmpty() && ids.length > 0 && ids[0] == tok.bosId()) ids = Arrays.copyOfRange(ids, 1, ids.length);
            }
            run(t, text, withContext(context, ids), null, raw, res);
        }
    }

    /** The tokens of an earlier answer's {@code context}, then the new prompt's (Ollama's way to continue a generation). */
    private int[] withContext(List<Integer> context, int[] ids) {
        int[] all = new int[context.size() + ids.length];
        for (int i = 0; i < context.size(); i++) {
            int t = context.get(i);
            if (t < 0 || t >= tok.vocabSize()) {
                throw ApiError.badRequest("context: token id " + t + " is outside the vocabulary [0, " + tok.vocabSize() + ")", "context");
            }
            all[i] = t;
        }
        System.arraycopy(ids, 0, all, context.size(), ids.length);
        if (all.length == 0) throw ApiError.badRequest("the prompt must contain at least one token", "prompt");
        return all;
    }

    /** Nothing to generate: Ollama answers "loaded" at once. */
    private void loaded(ServerResponse res) {
        ObjectNode root = base();
        if (kind == Kind.CHAT) root.putObject("message").put("role", "assistant").put("content", "");
        else root.put("response", "");
        root.put("done_reason", "load");
        root.put("done", true);
        ChorusServer.sendJson(res, 200, root);
    }

    private void run(OllamaRequest.Translated t, String promptText, int[] promptIds, ToolCallParser parser, boolean raw, ServerResponse res)
            throws IOException, InterruptedException {
        int promptLen = promptIds.length;
        SamplingParams.Builder b = Params.sampling(t.body(), tok.vocabSize());
        // Ollama stops at the end of the context rather than refusing a budget past it.
        int room = Params.maxTokens(null, promptLen, model.maxModelLen(), "options.num_predict", kind == Kind.CHAT ? "messages" : "prompt");
        b.maxTokens(t.numPredict() != null ? Math.min(t.numPredict(), room) : room);
        SamplingParams sp;
        try {
            sp = b.build();
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest(e.getMessage(), e.param());
        }
        ChatOutput output = new ChatOutput(model.outputParsers(), promptText, parser, true, raw || sp.grammar() != null, 1);
        ChorusServer.Submitted s = server.submit(model, id, promptIds, sp, 0);
        Generation g = new Generation(model.detokenizers(), sp, s.handle(), s.timer(),
                model.outputParsers().alwaysRender(parser != null, output.readsReasoning()));
        List<Integer> generated = new ArrayList<>();
        try {
            if (t.stream()) stream(g, output, s.timer(), promptIds, generated, res);
            else complete(g, output, s.timer(), promptIds, generated, res);
        } finally {
            s.timer().complete(promptLen, g.totalTokens());
        }
    }

    private void complete(Generation g, ChatOutput output, RequestTimer timer, int[] promptIds, List<Integer> generated, ServerResponse res)
            throws InterruptedException {
        StringBuilder text = new StringBuilder();
        try {
            g.run(server.watchClient(request), new Generation.Sink() {
                @Override
                public void text(int index, String piece, int[] tokenIds, TokenLogprobs[] lp) {
                    text.append(piece);
                    for (int t : tokenIds) generated.add(t);
                }

                @Override
                public void finish(int index, String finishReason) {}
            });
        } finally {
            server.unwatch(request);
        }
        if (g.error() != null) throw ApiError.internal(g.error());
        ChatOutput.Message m = output.message(text.toString(), g.finishReason(0));
        JsonNode msg = m.json();
        ObjectNode root = piece(msg.path("content").asText(""), msg.path("reasoning_content").asText(""), toolCalls(msg.get("tool_calls")));
        finish(root, g.finishReason(0), timer, promptIds, generated);
        ChorusServer.sendJson(res, 200, root);
    }

    private void stream(Generation g, ChatOutput output, RequestTimer timer, int[] promptIds, List<Integer> generated, ServerResponse res)
            throws IOException, InterruptedException {
        ArrayNode calls = ChorusServer.JSON.createArrayNode(); // OpenAI call fragments, assembled; sent whole at the end
        try (Ndjson out = new Ndjson(res)) {
            g.run(new Generation.Sink() {
                @Override
                public void text(int index, String text, int[] tokenIds, TokenLogprobs[] lp) throws IOException {
                    for (int t : tokenIds) generated.add(t);
                    if (text.isEmpty()) return;
                    if (!output.active()) {
                        out.send(piece(text, "", null));
                        return;
                    }
                    send(output.push(index, text));
                }

                @Override
                public void finish(int index, String finishReason) throws IOException {
                    if (output.active()) send(output.finish(index));
                    if (!calls.isEmpty()) out.send(piece("", "", toolCalls(calls)));
                }

                private void send(List<ObjectNode> deltas) throws IOException {
                    for (ObjectNode d : deltas) {
                        if (d.has("tool_calls")) {
                            gather(calls, d.get("tool_calls").get(0));
                        } else if (d.has("content") || d.has("reasoning_content")) {
                            out.send(piece(d.path("content").asText(""), d.path("reasoning_content").asText(""), null));
                        }
                    }
                }
            });
            if (g.error() != null) {
                out.send(ChorusServer.JSON.createObjectNode().put("error", g.error()));
                return;
            }
            ObjectNode last = piece("", "", null);
            finish(last, g.finishReason(0), timer, promptIds, generated);
            out.send(last);
        } catch (IOException | UncheckedIOException e) {
            g.abort();
            throw new Generation.ClientGone(e);
        }
    }

    /** Folds one streamed call fragment ({@code index}, then id/name or an arguments piece) into {@code calls}. */
    private static void gather(ArrayNode calls, JsonNode fragment) {
        int i = fragment.get("index").asInt();
        while (calls.size() <= i) calls.addObject().putObject("function").put("name", "").put("arguments", "");
        ObjectNode call = (ObjectNode) calls.get(i);
        ObjectNode fn = (ObjectNode) call.get("function");
        if (fragment.has("id")) call.put("id", fragment.get("id").asText());
        JsonNode f = fragment.path("function");
        if (f.has("name")) fn.put("name", f.get("name").asText());
        if (f.has("arguments")) fn.put("arguments", fn.get("arguments").asText() + f.get("arguments").asText());
    }

    /** OpenAI tool calls (arguments as a JSON string) as Ollama writes them: arguments as an object; null when none. */
    private static ArrayNode toolCalls(JsonNode openAi) {
        if (openAi == null || openAi.isEmpty()) return null;
        ArrayNode out = ChorusServer.JSON.createArrayNode();
        for (int i = 0; i < openAi.size(); i++) {
            JsonNode c = openAi.get(i);
            ObjectNode call = out.addObject();
            if (c.has("id")) call.put("id", c.get("id").asText());
            ObjectNode fn = call.putObject("function");
            fn.put("index", i);
            fn.put("name", c.path("function").path("name").asText());
            fn.set("arguments", arguments(c.path("function").path("arguments").asText("{}")));
        }
        return out;
    }

    private static JsonNode arguments(String json) {
        try {
            JsonNode n = ChorusServer.JSON.readTree(json);
            return n != null && n.isObject() ? n : new TextNode(json);
        } catch (JsonProcessingException e) {
            return new TextNode(json); // the parser only reports calls whose arguments parsed; kept as sent if not
        }
    }

    /** One line (or the whole answer): text, thinking when there is any, tool calls when there are any; done false. */
    private ObjectNode piece(String content, String thinking, ArrayNode calls) {
        ObjectNode root = base();
        if (kind == Kind.CHAT) {
            ObjectNode msg = root.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", content);
            if (!thinking.isEmpty()) msg.put("thinking", thinking);
            if (calls != null) msg.set("tool_calls", calls);
        } else {
            root.put("response", content);
            if (!thinking.isEmpty()) root.put("thinking", thinking);
        }
        root.put("done", false);
        return root;
    }

    /**
     * Marks {@code root} as the last object: done, done_reason (a call ends with "stop", as in Ollama),
     * generate's context (prompt and answer tokens, to continue from), and the counts and durations in
     * nanoseconds: prompt evaluation until the first token, evaluation from there to the last.
     */
    private void finish(ObjectNode root, String finishReason, RequestTimer timer, int[] promptIds, List<Integer> generated) {
        long now = System.nanoTime();
        long first = timer.firstTokenNanos() != 0 ? timer.firstTokenNanos() : now;
        long last = timer.lastTokenNanos() != 0 ? timer.lastTokenNanos() : now;
        root.put("done_reason", "tool_calls".equals(finishReason) ? "stop" : finishReason);
        root.put("done", true);
        if (kind == Kind.GENERATE) {
            ArrayNode ctx = root.putArray("context");
            for (int t : promptIds) ctx.add(t);
            for (int t : generated) ctx.add(t);
        }
        root.put("total_duration", now - timer.receivedNanos());
        root.put("load_duration", 0); // the model was loaded at start-up
        root.put("prompt_eval_count", promptIds.length);
        root.put("prompt_eval_duration", first - timer.receivedNanos());
        root.put("eval_count", generated.size());
        root.put("eval_duration", Math.max(1, last - first)); // clients divide by it for tokens per second
    }

    private ObjectNode base() {
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        root.put("model", modelName);
        root.put("created_at", Instant.now().toString());
        return root;
    }
}
