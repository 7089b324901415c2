package io.chorus.server;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tokenizer.template.ChatTemplates;
import io.chorus.tokenizer.template.TemplateException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Chat messages to prompt token ids through the model's chat template. */
final class ChatPrompt {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatPrompt() {}

    /** The rendered prompt and its token ids. */
    record Rendered(String text, int[] tokenIds) {}

    /**
     * Renders {@code body.messages} (content as a string or a list of text parts) with
     * add_generation_prompt (default true), bos/eos token text, tools and chat_template_kwargs, then
     * encodes with special tokens parsed, adding BOS only when the text does not already start with it.
     */
    static Rendered render(LoadedModel m, JsonNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.badRequest("messages must be a non-empty array", "messages");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode msg = messages.get(i);
            String param = "messages[" + i + "]";
            if (!msg.isObject()) throw ApiError.badRequest(param + " must be an object", param);
            if (!msg.path("role").isTextual()) throw ApiError.badRequest(param + ".role must be a string", param + ".role");
            JsonNode content = msg.get("content");
            if (content != null && !content.isNull() && !content.isTextual() && !content.isArray()) {
                throw ApiError.badRequest(param + ".content must be a string or an array of content parts", param + ".content");
            }
            if (content != null && content.isArray()) {
                for (JsonNode part : content) {
                    if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                        throw ApiError.badRequest(param + ".content: only text parts ({\"type\": \"text\", \"text\": ...}) are supported",
                                param + ".content");
                    }
                }
            }
        }
        List<Map<String, Object>> list = JSON.convertValue(messages, new TypeReference<>() {});
        Tokenizer tok = m.tokenizer();
        Map<String, Object> vars = new HashMap<>();
        if (Params.present(body, "chat_template_kwargs")) {
            JsonNode kw = body.get("chat_template_kwargs");
            if (!kw.isObject()) throw ApiError.badRequest("chat_template_kwargs must be an object", "chat_template_kwargs");
            vars.putAll(JSON.convertValue(kw, new TypeReference<Map<String, Object>>() {}));
        }
        vars.put("messages", ChatTemplates.flattenTextContent(list, "\n"));
        vars.put("add_generation_prompt", Params.bool(body, "add_generation_prompt", true));
        String bos = tok.bosId() >= 0 ? m.tokenText(tok.bosId()) : "";
        String eos = tok.eosId() >= 0 ? m.tokenText(tok.eosId()) : "";
        vars.put("bos_token", bos);
        vars.put("eos_token", eos);
        if (Params.present(body, "tools")) {
            if (!body.get("tools").isArray()) throw ApiError.badRequest("tools must be an array", "tools");
            vars.put("tools", JSON.convertValue(body.get("tools"), new TypeReference<List<Object>>() {}));
        }
        String text;
        try {
            text = m.chatTemplate().render(vars);
        } catch (TemplateException e) {
            if (e.raisedByTemplate()) throw ApiError.badRequest(e.templateMessage(), "messages");
            throw ApiError.badRequest("the chat template failed on these messages: " + e.getMessage(), "messages");
        }
        boolean startsWithBos = !bos.isEmpty() && text.startsWith(bos);
        int[] ids = tok.encode(text, !startsWithBos, true);
        return new Rendered(text, ids);
    }
}
