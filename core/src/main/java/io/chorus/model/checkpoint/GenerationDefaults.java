package io.chorus.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The sampling values a model was published with (generation_config.json), used, as vLLM does,
 * for the fields a request leaves out. Null fields are not set by the model.
 */
public record GenerationDefaults(Double temperature, Double topP, Integer topK, Double minP, Double repetitionPenalty) {
    public static final GenerationDefaults NONE = new GenerationDefaults(null, null, null, null, null);

    /** Reads generation_config.json's sampling keys; NONE when the file is absent. */
    static GenerationDefaults read(JsonNode g) {
        if (g == null || !g.isObject()) return NONE;
        return new GenerationDefaults(number(g, "temperature"), number(g, "top_p"),
                g.hasNonNull("top_k") && g.get("top_k").canConvertToInt() ? g.get("top_k").asInt() : null,
                number(g, "min_p"), number(g, "repetition_penalty"));
    }

    private static Double number(JsonNode g, String key) {
        JsonNode v = g.get(key);
        return v != null && v.isNumber() ? v.asDouble() : null;
    }
}
