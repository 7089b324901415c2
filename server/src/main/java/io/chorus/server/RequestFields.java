package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Request fields of OpenAI's chat API that would change what the answer means and that Chorus does
 * not implement: refused with a 400 naming the field, never silently ignored. Fields that change
 * nothing about the answer ({@code user}, {@code metadata}, {@code store}, {@code service_tier},
 * {@code prompt_cache_key}, {@code safety_identifier}) are accepted and ignored; the README lists both.
 */
final class RequestFields {
    /** Field to the reason it is refused. */
    private static final Map<String, String> CHAT_REFUSED = Map.of(
            "audio", "audio output is not supported",
            "prediction", "predicted outputs are not supported",
            "web_search_options", "web search is not supported",
            "functions", "the legacy functions field is not supported; send tools",
            "function_call", "the legacy function_call field is not supported; send tool_choice",
            "reasoning_effort", "reasoning_effort is not supported; switch thinking with chat_template_kwargs.enable_thinking",
            "verbosity", "verbosity is not supported");

    private RequestFields() {}

    static void checkChat(JsonNode body) {
        for (Map.Entry<String, String> e : CHAT_REFUSED.entrySet()) {
            if (Params.present(body, e.getKey())) throw ApiError.badRequest(e.getKey() + ": " + e.getValue(), e.getKey());
        }
        if (Params.present(body, "modalities")) {
            JsonNode m = body.get("modalities");
            boolean textOnly = m.isArray() && m.size() == 1 && "text".equals(m.get(0).asText(null));
            if (!textOnly) throw ApiError.badRequest("modalities: only [\"text\"] is supported", "modalities");
        }
    }
}
