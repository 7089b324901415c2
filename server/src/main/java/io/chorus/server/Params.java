package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.chorus.engine.api.SamplingParams;
import io.chorus.model.checkpoint.GenerationDefaults;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Typed reads of request fields with OpenAI-style 400 errors naming the parameter, and the mapping
 * of the sampling fields shared by chat and completions onto {@link SamplingParams}.
 */
final class Params {
    private Params() {}

    /** At most 64 characters of client text, for quoting it back in an error message. */
    static String clip(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    static boolean present(JsonNode body, String field) {
        JsonNode v = body.get(field);
        return v != null && !v.isNull();
    }

    static Double number(JsonNode body, String field) {
        if (!present(body, field)) return null;
        JsonNode v = body.get(field);
        if (!v.isNumber()) throw ApiError.badRequest(field + " must be a number, got " + v, field);
        return v.asDouble();
    }

    static Integer integer(JsonNode body, String field) {
        if (!present(body, field)) return null;
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw ApiError.badRequest(field + " must be an integer, got " + v, field);
        return v.asInt();
    }

    static Long longInt(JsonNode body, String field) {
        if (!present(body, field)) return null;
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiError.badRequest(field + " must be an integer, got " + v, field);
        return v.asLong();
    }

    static boolean bool(JsonNode body, String field, boolean fallback) {
        if (!present(body, field)) return fallback;
        JsonNode v = body.get(field);
        if (!v.isBoolean()) throw ApiError.badRequest(field + " must be true or false, got " + v, field);
        return v.asBoolean();
    }

    static String string(JsonNode body, String field) {
        if (!present(body, field)) return null;
        JsonNode v = body.get(field);
        if (!v.isTextual()) throw ApiError.badRequest(field + " must be a string, got " + v, field);
        return v.asText();
    }

    static List<String> stringOrList(JsonNode body, String field) {
        if (!present(body, field)) return List.of();
        JsonNode v = body.get(field);
        if (v.isTextual()) return List.of(v.asText());
        if (!v.isArray()) throw ApiError.badRequest(field + " must be a string or an array of strings", field);
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) throw ApiError.badRequest(field + " must be a string or an array of strings", field);
            out.add(s.asText());
        }
        return out;
    }

    static List<Integer> intList(JsonNode body, String field) {
        if (!present(body, field)) return List.of();
        JsonNode v = body.get(field);
        if (!v.isArray()) throw ApiError.badRequest(field + " must be an array of integers", field);
        List<Integer> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isIntegralNumber() || !s.canConvertToInt()) throw ApiError.badRequest(field + " must be an array of integers", field);
            out.add(s.asInt());
        }
        return out;
    }

    /**
     * The sampling fields chat and completions share (OpenAI's and vLLM's extra ones). Logprobs,
     * max_tokens and n-specific rules are left to the caller.
     */
    static SamplingParams.Builder sampling(JsonNode body, int vocabSize) {
        return sampling(body, vocabSize, GenerationDefaults.NONE);
    }

    /** As {@link #sampling(JsonNode, int)}, starting from the model's published sampling values. */
    static SamplingParams.Builder sampling(JsonNode body, int vocabSize, GenerationDefaults defaults) {
        SamplingParams.Builder b = SamplingParams.builder();
        if (defaults.temperature() != null) b.temperature(defaults.temperature());
        if (defaults.topP() != null) b.topP(defaults.topP());
        if (defaults.topK() != null) b.topK(defaults.topK());
        if (defaults.minP() != null) b.minP(defaults.minP());
        if (defaults.repetitionPenalty() != null) b.repetitionPenalty(defaults.repetitionPenalty());
        Double d;
        Integer i;
        if ((d = number(body, "temperature")) != null) b.temperature(d);
        if ((d = number(body, "top_p")) != null) b.topP(d);
        if ((i = integer(body, "top_k")) != null) b.topK(i);
        if ((d = number(body, "min_p")) != null) b.minP(d);
        if ((d = number(body, "presence_penalty")) != null) b.presencePenalty(d);
        if ((d = number(body, "frequency_penalty")) != null) b.frequencyPenalty(d);
        if ((d = number(body, "repetition_penalty")) != null) b.repetitionPenalty(d);
        if ((i = integer(body, "n")) != null) b.n(i);
        if ((i = integer(body, "min_tokens")) != null) b.minTokens(i);
        Long seed = longInt(body, "seed");
        if (seed != null) b.seed(seed);
        b.ignoreEos(bool(body, "ignore_eos", false));
        b.includeStopStrInOutput(bool(body, "include_stop_str_in_output", false));
        b.skipSpecialTokens(bool(body, "skip_special_tokens", true));
        b.stop(stringOrList(body, "stop"));
        List<Integer> stopIds = intList(body, "stop_token_ids");
        checkIds(stopIds, vocabSize, "stop_token_ids");
        b.stopTokenIds(stopIds);
        List<Integer> allowed = intList(body, "allowed_token_ids");
        checkIds(allowed, vocabSize, "allowed_token_ids");
        b.allowedTokenIds(allowed);
        b.grammar(StructuredOutputParams.grammar(body));
        if (present(body, "logit_bias")) {
            JsonNode lb = body.get("logit_bias");
            if (!lb.isObject()) throw ApiError.badRequest("logit_bias must be an object of token id to bias", "logit_bias");
            Map<Integer, Float> bias = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = lb.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw ApiError.badRequest("logit_bias keys must be token ids, got '" + e.getKey() + "'", "logit_bias");
                }
                if (id < 0 || id >= vocabSize) throw ApiError.badRequest("logit_bias token id " + id + " is outside the vocabulary [0, " + vocabSize + ")", "logit_bias");
                if (!e.getValue().isNumber()) throw ApiError.badRequest("logit_bias values must be numbers", "logit_bias");
                bias.put(id, (float) e.getValue().asDouble());
            }
            b.logitBias(bias);
        }
        return b;
    }

    private static void checkIds(List<Integer> ids, int vocabSize, String field) {
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) throw ApiError.badRequest(field + ": token id " + id + " is outside the vocabulary [0, " + vocabSize + ")", field);
        }
    }

    /**
     * The generation budget: {@code requested} when given, else what the context leaves; 400 when the
     * prompt (plus the request) does not fit, naming both numbers.
     */
    static int maxTokens(Integer requested, int promptLen, int maxModelLen, String field, String promptField) {
        if (promptLen >= maxModelLen) {
            throw ApiError.badRequest("This model's maximum context length is " + maxModelLen + " tokens. However, your prompt has "
                    + promptLen + " tokens, which leaves no room to generate. Please shorten the prompt.", promptField);
        }
        if (requested == null) return maxModelLen - promptLen;
        if (requested < 1) throw ApiError.badRequest(field + " must be at least 1, got " + requested, field);
        if ((long) promptLen + requested > maxModelLen) {
            throw ApiError.badRequest("This model's maximum context length is " + maxModelLen + " tokens. However, you requested "
                    + (promptLen + requested) + " tokens (" + promptLen + " in the prompt, " + requested + " for the completion). "
                    + "Please reduce the prompt or " + field + ".", field);
        }
        return requested;
    }
}
