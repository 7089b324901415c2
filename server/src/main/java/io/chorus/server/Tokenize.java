package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerResponse;
import java.util.List;

/** vLLM's {@code /tokenize} and {@code /detokenize}. */
final class Tokenize {
    private Tokenize() {}

    /** {@code {"prompt": text, "add_special_tokens": true}} or {@code {"messages": [...]}} to token ids. */
    static void tokenize(ChorusServer server, LoadedModel m, JsonNode body, ServerResponse res) {
        server.checkModel(body, m);
        Tokenizer tok = m.tokenizer();
        int[] ids;
        if (Params.present(body, "messages")) {
            ids = ChatPrompt.render(m, body, server.options().parseSpecialInContent()).tokenIds();
        } else {
            String prompt = Params.string(body, "prompt");
            if (prompt == null) throw ApiError.badRequest("prompt (a string) or messages is required", "prompt");
            ids = tok.encode(prompt, Params.bool(body, "add_special_tokens", true), true);
        }
        ObjectNode out = ChorusServer.JSON.createObjectNode();
        out.put("count", ids.length);
        out.put("max_model_len", m.maxModelLen());
        ArrayNode tokens = out.putArray("tokens");
        for (int id : ids) tokens.add(id);
        if (Params.bool(body, "return_token_strs", false)) {
            ArrayNode strs = out.putArray("token_strs");
            for (int id : ids) strs.add(tok.tokenPiece(id));
        }
        ChorusServer.sendJson(res, 200, out);
    }

    /** {@code {"tokens": [ids]}} to {@code {"prompt": text}}. */
    static void detokenize(ChorusServer server, LoadedModel m, JsonNode body, ServerResponse res) {
        server.checkModel(body, m);
        if (!Params.present(body, "tokens")) throw ApiError.badRequest("tokens (an array of token ids) is required", "tokens");
        List<Integer> ids = Params.intList(body, "tokens");
        int vocab = m.tokenizer().vocabSize();
        int[] arr = new int[ids.size()];
        for (int i = 0; i < arr.length; i++) {
            arr[i] = ids.get(i);
            if (arr[i] < 0 || arr[i] >= vocab) throw ApiError.badRequest("token id " + arr[i] + " is outside the vocabulary [0, " + vocab + ")", "tokens");
        }
        ChorusServer.sendJson(res, 200, ChorusServer.JSON.createObjectNode().put("prompt", m.tokenizer().decode(arr, false)));
    }
}
