package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.RequestOutput;
import io.chorus.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * {@code POST /v1/embeddings} for a model served with {@code --task embed}: each input (a string, a
 * list of token ids, or a list of either) runs as one prefill-only engine request, all of them side
 * by side so the scheduler batches them into the same steps, and comes back as its pooled,
 * L2-normalised final hidden state, as floats or as base64 of little-endian float32 (OpenAI's
 * {@code encoding_format}).
 */
final class Embeddings {
    private static final Duration WATCH_PERIOD = Duration.ofMillis(50);

    private final ChorusServer server;
    private final LoadedModel model;
    private final ServerRequest request;
    private final String id = "embd-" + UUID.randomUUID().toString().replace("-", "");

    Embeddings(ChorusServer server, LoadedModel model, ServerRequest request) {
        this.server = server;
        this.model = model;
        this.request = request;
    }

    void handle(JsonNode body, ServerResponse res) throws InterruptedException {
        if (server.options().task() != ServeOptions.Task.EMBED) {
            throw ApiError.badRequest("this server generates text; start it with --task embed to serve /v1/embeddings", null);
        }
        server.checkModel(body, model);
        String format = Params.string(body, "encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64")) {
            throw ApiError.badRequest("encoding_format must be float or base64", "encoding_format");
        }
        int dim = model.hiddenSize();
        if (Params.present(body, "dimensions")) {
            JsonNode d = body.get("dimensions");
            if (!d.isIntegralNumber() || d.asLong() != dim) {
                throw ApiError.badRequest("dimensions cannot change this model's embedding size of " + dim, "dimensions");
            }
        }
        int count = inputCount(body);
        try (Admission.Ticket ticket = server.admit(count)) {
            List<int[]> inputs = inputs(body.get("input"), model.tokenizer());
            List<ChorusServer.SubmittedEmbedding> runs = new ArrayList<>();
            BooleanSupplier gone = server.watchClient(request);
            try {
                for (int k = 0; k < inputs.size(); k++) runs.add(server.submitEmbedding(model, id + "-" + k, inputs.get(k)));
                float[][] vectors = new float[runs.size()][];
                for (int k = 0; k < runs.size(); k++) vectors[k] = await(runs.get(k), gone);
                sendResponse(res, inputs, vectors, "base64".equals(format));
            } finally {
                server.unwatch(request);
                for (ChorusServer.SubmittedEmbedding r : runs) {
                    r.handle().abort(); // a no-op once finished; stops the rest when one failed or the client left
                    r.timer().complete(r.promptTokens(), 0);
                }
            }
        }
    }

    /** Waits for one input's vector; aborts and throws {@link Generation.ClientGone} when the client leaves. */
    private static float[] await(ChorusServer.SubmittedEmbedding run, BooleanSupplier gone) throws InterruptedException {
        while (true) {
            if (gone.getAsBoolean()) throw new Generation.ClientGone(new java.io.IOException("the client closed the connection"));
            RequestOutput out;
            try {
                out = run.handle().next(WATCH_PERIOD);
            } catch (TimeoutException busy) {
                continue;
            }
            if (out == null) throw ApiError.internal("the engine ended the request without an embedding");
            if (!out.finished()) continue;
            if (out.finishReason() == FinishReason.STOP && out.embedding() != null) {
                run.timer().finished("stop");
                return out.embedding();
            }
            run.timer().finished(out.finishReason() == FinishReason.ABORT ? "abort" : "error");
            if (out.finishReason() == FinishReason.ABORT) throw ApiError.unavailable("the request was aborted (timeout or shutdown)");
            throw ApiError.internal(out.error() != null ? out.error() : "the engine failed on this request");
        }
    }

    private void sendResponse(ServerResponse res, List<int[]> inputs, float[][] vectors, boolean base64) {
        ObjectNode root = ChorusServer.JSON.createObjectNode().put("object", "list");
        ArrayNode data = root.putArray("data");
        long promptTokens = 0;
        for (int k = 0; k < vectors.length; k++) {
            ObjectNode e = data.addObject().put("object", "embedding").put("index", k);
            if (base64) {
                ByteBuffer b = ByteBuffer.allocate(vectors[k].length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : vectors[k]) b.putFloat(f);
                e.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode v = e.putArray("embedding");
                for (float f : vectors[k]) v.add(f);
            }
            promptTokens += inputs.get(k).length;
        }
        root.put("model", model.name());
        root.putObject("usage").put("prompt_tokens", promptTokens).put("total_tokens", promptTokens);
        ChorusServer.sendJson(res, 200, root);
    }

    /** How many inputs {@code body.input} holds, read from the JSON alone (400 when it is missing). */
    private static int inputCount(JsonNode body) {
        JsonNode in = body.get("input");
        if (in == null || in.isNull()) throw ApiError.badRequest("input is required", "input");
        if (in.isArray() && !in.isEmpty() && (in.get(0).isTextual() || in.get(0).isArray())) return in.size();
        return 1;
    }

    /** The inputs as token ids: a string, a list of token ids, or a list of strings or of token-id lists. */
    static List<int[]> inputs(JsonNode in, Tokenizer tok) {
        List<int[]> out = new ArrayList<>();
        if (in.isArray() && !in.isEmpty() && (in.get(0).isTextual() || in.get(0).isArray())) {
            for (JsonNode e : in) out.add(input(e, tok));
        } else {
            out.add(input(in, tok));
        }
        return out;
    }

    private static int[] input(JsonNode in, Tokenizer tok) {
        if (in.isTextual()) {
            int[] ids = tok.encode(in.asText(), true, false);
            if (ids.length == 0) throw ApiError.badRequest("an input must contain at least one token", "input");
            return ids;
        }
        if (!in.isArray() || in.isEmpty()) {
            throw ApiError.badRequest("input must be a string, a list of token ids, or a list of either", "input");
        }
        int[] ids = new int[in.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = in.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt()) {
                throw ApiError.badRequest("input must be a string, a list of token ids, or a list of either", "input");
            }
            ids[i] = t.asInt();
            if (ids[i] < 0 || ids[i] >= tok.vocabSize()) {
                throw ApiError.badRequest("input token id " + ids[i] + " is outside the vocabulary [0, " + tok.vocabSize() + ")", "input");
            }
        }
        return ids;
    }
}
