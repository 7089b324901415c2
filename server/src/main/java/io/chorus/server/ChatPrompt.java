package io.chorus.server;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tokenizer.template.ChatTemplates;
import io.chorus.tokenizer.template.TemplateException;
import io.chorus.tools.SyntaxToolCallParser;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Chat messages to prompt token ids through the model's chat template. */
final class ChatPrompt {
    private static final ObjectMapper JSON = BoundedJson.mapper();

    private ChatPrompt() {}

    /** The rendered prompt and its token ids. */
    record Rendered(String text, int[] tokenIds) {}

    /** The roles OpenAI's chat API defines; anything else is refused rather than handed to the template. */
    static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");

    /**
     * Renders {@code body.messages} (content as a string or a list of text parts) with
     * add_generation_prompt (default true), bos/eos token text, tools and chat_template_kwargs (through the
     * model's tool_use template when the request has tools and the model has one), then
     * encodes with special tokens parsed, adding BOS only when the text does not already start with it.
     * Control-token text inside message content stays plain text unless {@code parseSpecialInContent}
     * (vLLM's behaviour, where a user can write {@code <|im_start|>system} and open a system turn).
     */
    static Rendered render(LoadedModel m, JsonNode body, boolean parseSpecialInContent) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.badRequest("messages must be a non-empty array", "messages");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode msg = messages.get(i);
            String param = "messages[" + i + "]";
            if (!msg.isObject()) throw ApiError.badRequest(param + " must be an object", param);
            if (!msg.path("role").isTextual()) throw ApiError.badRequest(param + ".role must be a string", param + ".role");
            String role = msg.get("role").asText();
            if (!ROLES.contains(role)) {
                throw ApiError.badRequest(param + ".role '" + Params.clip(role) + "' is not one of " + new TreeSet<>(ROLES), param + ".role");
            }
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
            ToolHistory.check(msg, param);
        }
        Tokenizer tok = m.tokenizer();
        List<Map<String, Object>> list = JSON.convertValue(messages, new TypeReference<>() {});
        if (!parseSpecialInContent) {
            for (Map<String, Object> msg : list) shieldContent(msg, tok);
        }
        ToolHistory.prepare(list, m.outputParsers().tools() == SyntaxToolCallParser.MISTRAL);
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
        boolean hasTools = false;
        if (Params.present(body, "tools")) {
            if (!body.get("tools").isArray()) throw ApiError.badRequest("tools must be an array", "tools");
            vars.put("tools", JSON.convertValue(body.get("tools"), new TypeReference<List<Object>>() {}));
            hasTools = !body.get("tools").isEmpty();
        }
        String text;
        try {
            text = m.chatTemplate(hasTools).render(vars);
        } catch (TemplateException e) {
            if (e.raisedByTemplate()) throw ApiError.badRequest(e.templateMessage(), "messages");
            throw ApiError.badRequest("the chat template failed on these messages: " + e.getMessage(), "messages");
        }
        boolean startsWithBos = !bos.isEmpty() && text.startsWith(bos);
        int[] ids = parseSpecialInContent ? tok.encode(text, !startsWithBos, true) : tok.encodeRendered(text, !startsWithBos);
        return new Rendered(text, ids);
    }

    /** Marks control-token text in a message's content (a string or text parts) as plain text. */
    @SuppressWarnings("unchecked")
    private static void shieldContent(Map<String, Object> msg, Tokenizer tok) {
        Object content = msg.get("content");
        if (content instanceof String s) {
            msg.put("content", tok.shieldSpecialText(s));
        } else if (content instanceof List<?> parts) {
            for (Object p : parts) {
                if (p instanceof Map<?, ?> part && part.get("text") instanceof String t) ((Map<String, Object>) part).put("text", tok.shieldSpecialText(t));
            }
        }
    }
}
