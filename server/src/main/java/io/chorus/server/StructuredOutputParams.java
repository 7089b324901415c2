package io.chorus.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.json.BoundedJson;
import io.chorus.structured.GrammarSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads a request's output constraint, on chat and completions alike, into a {@link GrammarSpec}:
 * OpenAI's {@code response_format} ({@code text}, {@code json_object}, {@code json_schema}), vLLM's
 * {@code structured_outputs} ({@code json}, {@code regex}, {@code choice}, {@code grammar},
 * {@code json_object}) and vLLM's older top-level {@code guided_json}, {@code guided_regex},
 * {@code guided_choice}, {@code guided_grammar}. Grammars are GBNF. At most one constraint per
 * request; options that would change what is allowed and that Chorus does not implement are 400s.
 */
final class StructuredOutputParams {
    private static final ObjectMapper JSON = BoundedJson.mapper();
    private static final List<String> GUIDED = List.of("guided_json", "guided_regex", "guided_choice", "guided_grammar");
    private static final Set<String> STRUCTURED_KEYS = Set.of("json", "regex", "choice", "grammar", "json_object");
    /** vLLM options that only pick a backend or tune fallback: meaningless here, accepted. */
    private static final Set<String> STRUCTURED_IGNORED = Set.of("backend", "disable_fallback", "_backend", "_backend_was_auto");

    private StructuredOutputParams() {}

    /** The request's constraint, or null when it asks for none. */
    static GrammarSpec grammar(JsonNode body) {
        List<String> given = new ArrayList<>();
        GrammarSpec spec = null;
        if (Params.present(body, "response_format")) {
            GrammarSpec s = responseFormat(body.get("response_format"));
            if (s != null) {
                given.add("response_format");
                spec = s;
            }
        }
        if (Params.present(body, "structured_outputs")) {
            given.add("structured_outputs");
            spec = structuredOutputs(body.get("structured_outputs"));
        }
        for (String field : GUIDED) {
            if (!Params.present(body, field)) continue;
            given.add(field);
            spec = guided(field, body.get(field));
        }
        if (Params.present(body, "guided_whitespace_pattern")) {
            throw ApiError.badRequest("guided_whitespace_pattern is not supported (JSON whitespace is fixed: at most one space, "
                    + "or a newline and up to 16 spaces)", "guided_whitespace_pattern");
        }
        if (given.size() > 1) {
            throw ApiError.badRequest("give at most one output constraint; this request has " + String.join(", ", given), given.get(1));
        }
        return spec;
    }

    private static GrammarSpec responseFormat(JsonNode rf) {
        if (!rf.isObject()) throw ApiError.badRequest("response_format must be an object", "response_format");
        String type = Params.string(rf, "type");
        if (type == null) throw ApiError.badRequest("response_format.type is required", "response_format");
        return switch (type) {
            case "text" -> null;
            case "json_object" -> GrammarSpec.jsonObject();
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                if (js == null || !js.isObject()) {
                    throw ApiError.badRequest("response_format.json_schema must be an object with a 'schema'", "response_format");
                }
                JsonNode schema = js.get("schema");
                if (schema == null || schema.isNull()) {
                    throw ApiError.badRequest("response_format.json_schema.schema is required", "response_format");
                }
                // strict true or false: the output follows the schema either way (constrained decoding cannot do less).
                yield schema(schema, "response_format");
            }
            default -> throw ApiError.badRequest("response_format.type must be 'text', 'json_object' or 'json_schema', got '"
                    + Params.clip(type) + "'", "response_format");
        };
    }

    private static GrammarSpec structuredOutputs(JsonNode so) {
        if (!so.isObject()) throw ApiError.badRequest("structured_outputs must be an object", "structured_outputs");
        List<String> kinds = new ArrayList<>();
        for (Iterator<String> it = so.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (so.get(k).isNull() || STRUCTURED_IGNORED.contains(k)) continue;
            if (k.equals("json_object") && !so.get(k).asBoolean(false)) continue;
            if (!STRUCTURED_KEYS.contains(k)) throw ApiError.badRequest("structured_outputs." + k + " is not supported", "structured_outputs");
            kinds.add(k);
        }
        if (kinds.size() != 1) {
            throw ApiError.badRequest("structured_outputs must give exactly one of json, regex, choice, grammar, json_object; got "
                    + (kinds.isEmpty() ? "none" : String.join(", ", kinds)), "structured_outputs");
        }
        String k = kinds.get(0);
        JsonNode v = so.get(k);
        String param = "structured_outputs";
        return switch (k) {
            case "json" -> schema(v, param);
            case "regex" -> spec(() -> GrammarSpec.regex(text(v, param + ".regex")), param);
            case "choice" -> choice(v, param + ".choice");
            case "grammar" -> spec(() -> GrammarSpec.gbnf(text(v, param + ".grammar")), param);
            case "json_object" -> GrammarSpec.jsonObject();
            default -> throw new IllegalStateException(k);
        };
    }

    private static GrammarSpec guided(String field, JsonNode v) {
        return switch (field) {
            case "guided_json" -> schema(v, field);
            case "guided_regex" -> spec(() -> GrammarSpec.regex(text(v, field)), field);
            case "guided_choice" -> choice(v, field);
            case "guided_grammar" -> spec(() -> GrammarSpec.gbnf(text(v, field)), field);
            default -> throw new IllegalStateException(field);
        };
    }

    /** A schema given as a JSON object (or boolean), or as a string holding one. */
    private static GrammarSpec schema(JsonNode v, String param) {
        String text;
        if (v.isObject() || v.isBoolean()) {
            try {
                text = JSON.writeValueAsString(v);
            } catch (JsonProcessingException e) {
                throw ApiError.badRequest("the JSON schema cannot be written back: " + e.getOriginalMessage(), param);
            }
        } else if (v.isTextual()) {
            text = v.asText();
        } else {
            throw ApiError.badRequest(param + " must be a JSON schema (an object or a string holding one)", param);
        }
        String t = text;
        return spec(() -> GrammarSpec.jsonSchema(t), param);
    }

    private static GrammarSpec choice(JsonNode v, String param) {
        if (!v.isArray() || v.isEmpty()) throw ApiError.badRequest(param + " must be a non-empty array of strings", param);
        List<String> out = new ArrayList<>();
        for (JsonNode c : v) {
            if (!c.isTextual()) throw ApiError.badRequest(param + " must be a non-empty array of strings", param);
            out.add(c.asText());
        }
        return GrammarSpec.choice(out);
    }

    private static String text(JsonNode v, String param) {
        if (!v.isTextual()) throw ApiError.badRequest(param + " must be a string", param);
        return v.asText();
    }

    private static GrammarSpec spec(java.util.function.Supplier<GrammarSpec> make, String param) {
        try {
            return make.get();
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest(e.getMessage(), param);
        }
    }
}
