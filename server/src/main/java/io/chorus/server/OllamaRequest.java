package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Turns an Ollama {@code /api/chat} or {@code /api/generate} body into the OpenAI-shaped body the
 * chat path already reads ({@link ChatPrompt}, {@link Params#sampling}, {@link ToolRequest},
 * {@link StructuredOutputParams}), so both APIs share one set of checks and one engine path.
 *
 * <p>Ollama's options map by name: num_predict (a budget; negative = until the context is full),
 * temperature, top_k, top_p, min_p, repeat_penalty, presence_penalty, frequency_penalty, seed, stop.
 * Options that would change the sampling in ways Chorus does not implement (mirostat, typical_p,
 * tfs_z at a non-neutral value) are refused; those about Ollama's own runtime (num_ctx, num_gpu,
 * num_thread, keep_alive...) change nothing here and are accepted, as Ollama itself ignores
 * options it does not know. {@code format} "json" is OpenAI's json_object, a schema object is a
 * json_schema; {@code images} are refused: the served models read text only.
 */
final class OllamaRequest {
    /** Sampling options with no Chorus equivalent, and the value at which each changes nothing. */
    private static final Map<String, Double> NEUTRAL_ONLY = Map.of("mirostat", 0.0, "typical_p", 1.0, "tfs_z", 1.0);
    /** Ollama's option name to the OpenAI/vLLM field the chat path reads. */
    private static final Map<String, String> RENAMED = Map.of(
            "temperature", "temperature", "top_k", "top_k", "top_p", "top_p", "min_p", "min_p",
            "repeat_penalty", "repetition_penalty", "presence_penalty", "presence_penalty",
            "frequency_penalty", "frequency_penalty", "seed", "seed");
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    private OllamaRequest() {}

    /** What the handler needs besides the translated body. */
    record Translated(ObjectNode body, Integer numPredict, boolean stream) {}

    /** {@code /api/chat}: messages (with tool calls and tool results), tools, format, options, think. */
    static Translated chat(JsonNode in) {
        ObjectNode out = ChorusServer.JSON.createObjectNode();
        JsonNode messages = in.get("messages");
        if (messages != null && !messages.isNull() && !messages.isArray()) throw ApiError.badRequest("messages must be an array", "messages");
        ArrayNode msgs = out.putArray("messages");
        if (messages != null && messages.isArray()) {
            for (int i = 0; i < messages.size(); i++) msgs.add(message(messages.get(i), "messages[" + i + "]"));
        }
        if (Params.present(in, "tools")) out.set("tools", in.get("tools"));
        return common(in, out);
    }

    /**
     * {@code /api/generate} through the chat template: an optional system message and the prompt as
     * the user's turn. Raw prompts bypass the template and are the handler's to encode.
     */
    static Translated generate(JsonNode in) {
        ObjectNode out = ChorusServer.JSON.createObjectNode();
        if (Params.present(in, "images") && !in.get("images").isEmpty()) throw imagesRefused("images");
        if (Params.present(in, "template") && !Params.string(in, "template").isEmpty()) {
            throw ApiError.badRequest("template: a per-request prompt template is not supported; the model's chat template is used"
                    + " (or send raw: true with a formatted prompt)", "template");
        }
        String suffix = Params.string(in, "suffix");
        if (suffix != null && !suffix.isEmpty()) throw ApiError.badRequest("suffix: fill-in-the-middle is not supported", "suffix");
        ArrayNode msgs = out.putArray("messages");
        String system = Params.string(in, "system");
        if (system != null && !system.isEmpty()) msgs.addObject().put("role", "system").put("content", system);
        String prompt = Params.string(in, "prompt");
        msgs.addObject().put("role", "user").put("content", prompt != null ? prompt : "");
        return common(in, out);
    }

    /** Options, format, think and stream: the same on both endpoints. */
    private static Translated common(JsonNode in, ObjectNode out) {
        boolean stream = Params.bool(in, "stream", true); // Ollama streams unless told not to
        Integer numPredict = null;
        if (Params.present(in, "options")) {
            JsonNode o = in.get("options");
            if (!o.isObject()) throw ApiError.badRequest("options must be an object", "options");
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String to = RENAMED.get(e.getKey());
                if (to != null && !e.getValue().isNull()) out.set(to, e.getValue());
            }
            for (Map.Entry<String, Double> n : NEUTRAL_ONLY.entrySet()) {
                Double v = Params.number(o, n.getKey());
                if (v != null && v.doubleValue() != n.getValue()) {
                    throw ApiError.badRequest("options." + n.getKey() + " is not supported (only " + n.getValue() + ", which changes nothing)",
                            "options." + n.getKey());
                }
            }
            if (Params.present(o, "stop")) out.set("stop", o.get("stop"));
            numPredict = Params.integer(o, "num_predict");
            if (numPredict != null && numPredict == 0) {
                throw ApiError.badRequest("options.num_predict must be positive, or -1 to generate until the context is full", "options.num_predict");
            }
            if (numPredict != null && numPredict < 0) numPredict = null; // -1 (no limit) and -2 (fill the context) are the same here
            if (Params.present(o, "num_ctx")) Params.integer(o, "num_ctx"); // checked, then ignored: the context is --max-model-len
        }
        if (Params.present(in, "format")) {
            JsonNode f = in.get("format");
            if (f.isTextual() && f.asText().equals("json")) {
                out.putObject("response_format").put("type", "json_object");
            } else if (f.isObject()) {
                ObjectNode rf = out.putObject("response_format").put("type", "json_schema");
                rf.putObject("json_schema").put("name", "format").set("schema", f);
            } else if (!(f.isTextual() && f.asText().isEmpty())) {
                throw ApiError.badRequest("format must be \"json\" or a JSON schema object", "format");
            }
        }
        if (Params.present(in, "think")) {
            JsonNode t = in.get("think");
            if (!t.isBoolean()) throw ApiError.badRequest("think must be true or false", "think");
            out.putObject("chat_template_kwargs").put("enable_thinking", t.asBoolean());
        }
        if (Params.present(in, "keep_alive") && !in.get("keep_alive").isTextual() && !in.get("keep_alive").isNumber()) {
            throw ApiError.badRequest("keep_alive must be a duration (\"5m\") or a number of seconds", "keep_alive");
        }
        return new Translated(out, numPredict, stream);
    }

    /** One Ollama message as OpenAI's: tool calls get ids and string arguments, a tool result its tool's name. */
    private static ObjectNode message(JsonNode m, String at) {
        if (!m.isObject()) throw ApiError.badRequest(at + " must be an object", at);
        String role = Params.string(m, "role");
        if (role == null) throw ApiError.badRequest(at + ".role is required", at + ".role");
        if (!ROLES.contains(role)) throw ApiError.badRequest(at + ".role must be system, user, assistant or tool, got '" + Params.clip(role) + "'", at + ".role");
        if (Params.present(m, "images") && !m.get("images").isEmpty()) throw imagesRefused(at + ".images");
        ObjectNode out = ChorusServer.JSON.createObjectNode();
        out.put("role", role);
        String content = Params.string(m, "content");
        out.put("content", content != null ? content : "");
        if (Params.present(m, "tool_calls")) {
            JsonNode calls = m.get("tool_calls");
            if (!calls.isArray()) throw ApiError.badRequest(at + ".tool_calls must be an array", at + ".tool_calls");
            ArrayNode list = out.putArray("tool_calls");
            for (int k = 0; k < calls.size(); k++) {
                JsonNode fn = calls.get(k).path("function");
                String callAt = at + ".tool_calls[" + k + "]";
                if (!fn.path("name").isTextual()) throw ApiError.badRequest(callAt + ".function.name is required", callAt + ".function.name");
                JsonNode args = fn.get("arguments");
                if (args != null && !args.isNull() && !args.isObject()) {
                    throw ApiError.badRequest(callAt + ".function.arguments must be an object", callAt + ".function.arguments");
                }
                ObjectNode call = list.addObject();
                JsonNode id = calls.get(k).get("id");
                call.put("id", id != null && id.isTextual() ? id.asText() : "call_" + k);
                call.put("type", "function");
                call.putObject("function").put("name", fn.get("name").asText())
                        .put("arguments", args != null && !args.isNull() ? args.toString() : "{}");
            }
        }
        String toolName = Params.string(m, "tool_name");
        if (toolName != null) out.put("name", toolName);
        if (Params.present(m, "tool_call_id")) out.set("tool_call_id", m.get("tool_call_id"));
        return out;
    }

    private static ApiError imagesRefused(String field) {
        return ApiError.badRequest(field + ": images are not supported; the served model reads text only", field);
    }
}
