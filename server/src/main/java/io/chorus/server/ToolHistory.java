package io.chorus.server;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.util.List;
import java.util.Map;

/**
 * Tool calls and tool results in the chat history, on their way to the template. OpenAI clients send
 * a call's arguments as a JSON string; chat templates expect the object ({@code arguments | tojson},
 * {@code arguments | items}), so a string holding a JSON object is handed over parsed (as vLLM does).
 * Mistral's template accepts only 9-character ids, so longer ids are cut to their last 9 characters
 * for it (as vLLM does).
 */
final class ToolHistory {
    private static final ObjectMapper JSON = BoundedJson.mapper();

    private ToolHistory() {}

    /** 400 naming the field when an assistant's tool_calls or a tool message's tool_call_id is malformed. */
    static void check(JsonNode msg, String param) {
        JsonNode calls = msg.get("tool_calls");
        if (calls != null && !calls.isNull()) {
            if (!"assistant".equals(msg.path("role").asText())) {
                throw ApiError.badRequest(param + ".tool_calls is only allowed on assistant messages", param + ".tool_calls");
            }
            if (!calls.isArray()) throw ApiError.badRequest(param + ".tool_calls must be an array", param + ".tool_calls");
            for (int k = 0; k < calls.size(); k++) {
                String at = param + ".tool_calls[" + k + "]";
                JsonNode c = calls.get(k);
                JsonNode fn = c.path("function");
                if (!c.isObject() || !fn.isObject() || !fn.path("name").isTextual()) {
                    throw ApiError.badRequest(at + " must be {\"id\": ..., \"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": ...}}", at);
                }
                JsonNode args = fn.get("arguments");
                if (args != null && !args.isNull() && !args.isTextual() && !args.isObject()) {
                    throw ApiError.badRequest(at + ".function.arguments must be a JSON string", at + ".function.arguments");
                }
                if (c.has("id") && !c.get("id").isTextual()) throw ApiError.badRequest(at + ".id must be a string", at + ".id");
            }
        }
        JsonNode id = msg.get("tool_call_id");
        if (id != null && !id.isNull() && !id.isTextual()) {
            throw ApiError.badRequest(param + ".tool_call_id must be a string", param + ".tool_call_id");
        }
    }

    /** Parses string arguments that hold a JSON object; cuts ids to 9 characters when {@code nineCharIds}. */
    @SuppressWarnings("unchecked")
    static void prepare(List<Map<String, Object>> messages, boolean nineCharIds) {
        for (Map<String, Object> msg : messages) {
            if (nineCharIds && msg.get("tool_call_id") instanceof String id) msg.put("tool_call_id", lastNine(id));
            if (!(msg.get("tool_calls") instanceof List<?> calls)) continue;
            for (Object o : calls) {
                Map<String, Object> call = (Map<String, Object>) o;
                if (nineCharIds && call.get("id") instanceof String id) call.put("id", lastNine(id));
                Map<String, Object> fn = (Map<String, Object>) call.get("function");
                if (fn.get("arguments") instanceof String s) {
                    Object parsed = parseObject(s);
                    if (parsed != null) fn.put("arguments", parsed);
                }
            }
        }
    }

    private static Object parseObject(String s) {
        try {
            JsonNode n = JSON.readTree(s);
            return n != null && n.isObject() ? JSON.convertValue(n, new TypeReference<Map<String, Object>>() {}) : null;
        } catch (Exception e) {
            return null; // not JSON: the template gets the string as the client sent it
        }
    }

    private static String lastNine(String id) {
        return id.length() > 9 ? id.substring(id.length() - 9) : id;
    }
}
