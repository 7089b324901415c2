package io.chorus.structured;

import io.chorus.engine.api.InvalidRequestException;
import java.util.List;

/**
 * What a request's output is constrained to: a JSON object, a JSON Schema, a regular expression, one
 * of a fixed set of strings, or a GBNF grammar (llama.cpp's syntax). Immutable; equal specs (same
 * kind, same text) are equal, so a spec is the key of the compiled-grammar cache.
 */
public sealed interface GrammarSpec {

    /** Any JSON object (OpenAI {@code response_format: json_object}). */
    record JsonObject() implements GrammarSpec {}

    /** A JSON value the schema (JSON text) allows. */
    record JsonSchema(String schemaJson) implements GrammarSpec {
        public JsonSchema {
            requireText(schemaJson, "the JSON schema");
        }
    }

    /** Text that matches the regular expression as a whole (anchors implicit). */
    record Regex(String pattern) implements GrammarSpec {
        public Regex {
            requireText(pattern, "the regular expression");
        }
    }

    /** Exactly one of the strings. */
    record Choice(List<String> choices) implements GrammarSpec {
        public Choice {
            if (choices == null || choices.isEmpty()) throw new InvalidRequestException("choice needs at least one string");
            choices = List.copyOf(choices);
        }
    }

    /** Text the GBNF grammar's {@code root} rule matches. */
    record Gbnf(String grammarText) implements GrammarSpec {
        public Gbnf {
            requireText(grammarText, "the grammar");
        }
    }

    static GrammarSpec jsonObject() { return new JsonObject(); }

    static GrammarSpec jsonSchema(String schemaJson) { return new JsonSchema(schemaJson); }

    static GrammarSpec regex(String pattern) { return new Regex(pattern); }

    static GrammarSpec choice(List<String> choices) { return new Choice(choices); }

    static GrammarSpec gbnf(String grammarText) { return new Gbnf(grammarText); }

    private static void requireText(String s, String what) {
        if (s == null || s.isEmpty()) throw new InvalidRequestException(what + " must not be empty");
    }
}
