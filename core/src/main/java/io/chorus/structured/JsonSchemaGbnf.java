package io.chorus.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.json.BoundedJson;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schema to GBNF: the rules of a grammar whose rule {@code ruleName} matches exactly the JSON
 * texts of the values a schema allows (see the README's API section for the keyword list).
 *
 * <p>Choices made here, all stricter than plain JSON Schema so a model cannot wander:
 * <ul>
 *   <li>Properties come in the order the schema declares them; optional ones may be left out.
 *       Without {@code additionalProperties} no other property is allowed (OpenAI strict mode and
 *       xgrammar do the same); {@code true} or a schema allows extra properties after the declared ones.</li>
 *   <li>Whitespace between tokens is at most one space, or one newline and up to 16 spaces of
 *       indentation. Numbers have at most 16 integer and 16 fraction digits and a 2-digit exponent (so every number fits a double).</li>
 *   <li>Integer bounds are exact. Number (non-integer) bounds are enforced only for a lower bound of
 *       0 (no minus sign); other number bounds are refused.</li>
 *   <li>{@code pattern} is matched as a whole (anchors implicit); {@code oneOf} is treated as {@code anyOf}.</li>
 * </ul>
 * Helper rules are named {@code ruleName-...}, so rules of two schemas can share one grammar.
 */
public final class JsonSchemaGbnf {
    private static final ObjectMapper JSON = BoundedJson.mapper();
    private static final String PARAM = "response_format";
    /** Keywords that only describe: accepted and ignored. */
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict", "name");
    private static final Set<String> SUPPORTED = Set.of("type", "enum", "const", "properties", "required",
            "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern",
            "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref", "nullable");
    private static final int MAX_NUMBER_DIGITS = 16;
    private static final long MAX_ITEMS_EXPANDED = 1000;

    private final JsonNode root;
    private final String prefix;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> refRules = new HashMap<>();
    private int counter;

    private JsonSchemaGbnf(JsonNode root, String prefix) {
        this.root = root;
        this.prefix = prefix;
    }

    /**
     * GBNF rule text defining {@code ruleName} as the JSON values {@code schemaJson} allows, with its
     * helper rules; throws {@link InvalidRequestException} for a keyword it cannot enforce.
     */
    public static String rules(String schemaJson, String ruleName) {
        if (!Gbnf.isRuleName(ruleName)) throw new IllegalArgumentException("bad rule name " + ruleName);
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("the JSON schema is not valid JSON: " + e.getOriginalMessage(), PARAM);
        }
        if (schema == null || !(schema.isObject() || schema.isBoolean())) {
            throw new InvalidRequestException("a JSON schema must be an object or a boolean", PARAM);
        }
        JsonSchemaGbnf g = new JsonSchemaGbnf(schema, ruleName);
        String body = g.visit(schema, "#");
        StringBuilder out = new StringBuilder();
        out.append(ruleName).append(" ::= ").append(body).append('\n');
        for (Map.Entry<String, String> r : g.rules.entrySet()) out.append(r.getKey()).append(" ::= ").append(r.getValue()).append('\n');
        return out.toString();
    }

    /** Rules for any JSON object (what {@code json_object} asks for). */
    static String anyObjectRules(String ruleName) {
        JsonSchemaGbnf g = new JsonSchemaGbnf(null, ruleName);
        String body = g.anyObject();
        StringBuilder out = new StringBuilder().append(ruleName).append(" ::= ").append(body).append('\n');
        for (Map.Entry<String, String> r : g.rules.entrySet()) out.append(r.getKey()).append(" ::= ").append(r.getValue()).append('\n');
        return out.toString();
    }

    /** A GBNF expression (or rule name) for the values {@code s} allows; {@code path} names it in errors. */
    private String visit(JsonNode s, String path) {
        if (s.isBoolean()) return s.booleanValue() ? anyValue() : Gbnf.charClass(CharRanges.NONE);
        if (!s.isObject()) throw invalid(path + " is not a schema (object or boolean expected)");
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!SUPPORTED.contains(k) && !ANNOTATIONS.contains(k)) {
                throw new InvalidRequestException("unsupported JSON Schema keyword '" + k + "' at " + path, PARAM);
            }
        }
        if (s.has("$ref")) {
            if (s.size() > 1 && hasConstraintBesides(s, "$ref")) throw invalid("$ref beside other keywords at " + path + " is not supported");
            return ref(s.get("$ref").asText(), path);
        }
        if (s.has("allOf")) {
            JsonNode all = s.get("allOf");
            if (!all.isArray() || all.size() != 1 || hasConstraintBesides(s, "allOf")) {
                throw new InvalidRequestException("unsupported JSON Schema keyword 'allOf' (only a single-schema allOf) at " + path, PARAM);
            }
            return visit(all.get(0), path + "/allOf/0");
        }
        String alt = s.has("anyOf") ? "anyOf" : s.has("oneOf") ? "oneOf" : null;
        if (alt != null) {
            JsonNode list = s.get(alt);
            if (!list.isArray() || list.isEmpty()) throw invalid(alt + " at " + path + " must be a non-empty array");
            if (hasConstraintBesides(s, alt)) throw invalid(alt + " beside other keywords at " + path + " is not supported");
            List<String> alts = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) alts.add(visit(list.get(i), path + "/" + alt + "/" + i));
            return rule("alt", String.join(" | ", alts));
        }
        if (s.has("const")) return Gbnf.literal(compact(s.get("const")));
        if (s.has("enum")) {
            JsonNode values = s.get("enum");
            if (!values.isArray() || values.isEmpty()) throw invalid("enum at " + path + " must be a non-empty array");
            List<String> alts = new ArrayList<>();
            for (JsonNode v : values) alts.add(Gbnf.literal(compact(v)));
            return rule("enum", String.join(" | ", alts));
        }
        JsonNode type = s.get("type");
        List<String> types = new ArrayList<>();
        if (type == null) {
            if (s.has("properties") || s.has("additionalProperties") || s.has("required")) types.add("object");
            else if (s.has("items") || s.has("prefixItems") || s.has("minItems") || s.has("maxItems")) types.add("array");
            else if (s.has("minLength") || s.has("maxLength") || s.has("pattern") || s.has("format")) types.add("string");
            else if (s.has("minimum") || s.has("maximum") || s.has("exclusiveMinimum") || s.has("exclusiveMaximum")) types.add("number");
            else return anyValue();
        } else if (type.isTextual()) {
            types.add(type.asText());
        } else if (type.isArray() && !type.isEmpty()) {
            for (JsonNode t : type) types.add(t.asText());
        } else {
            throw invalid("type at " + path + " must be a string or a non-empty array");
        }
        if (s.path("nullable").asBoolean(false) && !types.contains("null")) types.add("null");
        List<String> alts = new ArrayList<>();
        for (String t : types) alts.add(typed(s, t, path));
        return alts.size() == 1 ? alts.get(0) : rule("types", String.join(" | ", alts));
    }

    private static boolean hasConstraintBesides(JsonNode s, String keyword) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k)) return true;
        }
        return false;
    }

    private String typed(JsonNode s, String type, String path) {
        return switch (type) {
            case "object" -> object(s, path);
            case "array" -> array(s, path);
            case "string" -> string(s, path);
            case "integer" -> integer(s, path);
            case "number" -> number(s, path);
            case "boolean" -> primitive("boolean", "\"true\" | \"false\"");
            case "null" -> primitive("null", "\"null\"");
            default -> throw invalid("unknown type '" + type + "' at " + path);
        };
    }

    // ---- objects and arrays ----

    private String object(JsonNode s, String path) {
        JsonNode props = s.path("properties");
        if (!props.isMissingNode() && !props.isObject()) throw invalid("properties at " + path + " must be an object");
        Set<String> required = new java.util.HashSet<>();
        for (JsonNode r : s.path("required")) required.add(r.asText());
        List<String> names = new ArrayList<>();
        props.fieldNames().forEachRemaining(names::add);
        for (String r : required) {
            if (!props.has(r)) throw invalid("required property '" + r + "' at " + path + " is not in properties");
        }
        JsonNode additional = s.get("additionalProperties");
        String extraKv = null;
        if (additional != null && !(additional.isBoolean() && !additional.booleanValue())) {
            String value = additional.isBoolean() ? anyValue() : visit(additional, path + "/additionalProperties");
            extraKv = rule("kv", primitive("string", null) + " " + ws() + " \":\" " + ws() + " " + value);
        }
        int n = names.size();
        String id = prefix + "-obj" + (++counter);
        // first[k]: members k.. with none written before; rest[k]: members k.. after at least one member.
        String sep = "\",\" " + ws() + " ";
        String tailFirst = extraKv == null ? "\"\"" : "(" + extraKv + " (" + sep + extraKv + ")*)?";
        String tailRest = extraKv == null ? "\"\"" : "(" + sep + extraKv + ")*";
        for (int k = n; k >= 0; k--) {
            String first, rest;
            if (k == n) {
                first = tailFirst;
                rest = tailRest;
            } else {
                String name = names.get(k);
                String kv = Gbnf.literal(compact(JSON.getNodeFactory().textNode(name))) + " " + ws() + " \":\" " + ws() + " "
                        + visit(props.get(name), path + "/properties/" + name);
                String after = id + "-r" + (k + 1);
                first = kv + " " + after;
                rest = sep + kv + " " + after;
                if (!required.contains(name)) {
                    first += " | " + id + "-f" + (k + 1);
                    rest += " | " + after;
                }
            }
            rules.put(id + "-f" + k, first);
            rules.put(id + "-r" + k, rest);
        }
        return rule("object", "\"{\" " + ws() + " " + id + "-f0 " + ws() + " \"}\"");
    }

    private String array(JsonNode s, String path) {
        long min = s.path("minItems").asLong(0);
        long max = s.has("maxItems") ? s.get("maxItems").asLong() : -1;
        if (min < 0 || (max >= 0 && max < min)) throw invalid("minItems/maxItems at " + path + " allow no array");
        if (min > MAX_ITEMS_EXPANDED || max > MAX_ITEMS_EXPANDED) throw invalid("minItems/maxItems above " + MAX_ITEMS_EXPANDED + " at " + path + " are not supported");
        List<String> prefixItems = new ArrayList<>();
        JsonNode pi = s.get("prefixItems");
        if (pi != null) {
            for (int i = 0; i < pi.size(); i++) prefixItems.add(visit(pi.get(i), path + "/prefixItems/" + i));
        }
        JsonNode itemsNode = s.get("items");
        String item = itemsNode == null ? (pi == null ? anyValue() : null)
                : itemsNode.isBoolean() && !itemsNode.booleanValue() ? null : visit(itemsNode, path + "/items");
        String sep = "\",\" " + ws() + " ";
        // Elements: the prefix items in order, then items; counts bounded by min/max.
        List<String> seq = new ArrayList<>(prefixItems);
        int p = seq.size();
        long maxRest = item == null ? 0 : max < 0 ? -1 : Math.max(0, max - p);
        if (item == null && min > p) throw invalid("minItems at " + path + " exceeds the prefixItems with no items allowed");
        if (max >= 0 && max < p) throw invalid("maxItems at " + path + " is below the number of prefixItems");
        String elements = elements(seq, item, maxRest, min, sep);
        String body = "\"[\" " + ws() + " " + elements + " " + ws() + " \"]\"";
        return rule("array", body);
    }

    /** The elements between the brackets: the prefix items, then between minRest and maxRest (-1: any) items. */
    private String elements(List<String> prefixItems, String item, long maxRest, long minTotal, String sep) {
        List<String> all = new ArrayList<>(prefixItems);
        int p = prefixItems.size();
        // Element i (0-based) is required when i < minTotal; with no maximum, items repeat after the last required one.
        int total = maxRest < 0 ? (int) Math.max(p, minTotal) : p + (int) maxRest;
        String after = maxRest < 0 && item != null ? "(" + sep + item + ")*" : "\"\"";
        String firstAfter = maxRest < 0 && item != null ? "(" + item + " (" + sep + item + ")*)?" : "\"\"";
        // rest[i]: elements i.. given that element i-1 was written; first[i]: elements i.. with none written yet.
        String rest = after, first = firstAfter;
        for (int i = total - 1; i >= 0; i--) {
            String el = i < p ? all.get(i) : item;
            String restRule = rule("items", sep + el + " " + rest);
            String firstRule = rule("items", el + " " + rest);
            if (i >= minTotal) {
                rest = "(" + restRule + ")?";
                first = "(" + firstRule + ")?";
            } else {
                rest = restRule;
                first = firstRule;
            }
        }
        return first;
    }

    // ---- strings ----

    private String string(JsonNode s, String path) {
        if (s.has("format")) {
            String f = s.get("format").asText();
            String body = switch (f) {
                case "date" -> date();
                case "time" -> time();
                case "date-time" -> date() + " \"T\" " + time();
                case "uuid" -> "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}";
                // Within RFC 5321's limits (a local part of at most 50 characters, labels of at most 22), ending
                // in a common top-level domain: validators check the domain against the real list.
                case "email" -> "[a-zA-Z0-9_+-]{1,16} (\".\" [a-zA-Z0-9_+-]{1,16}){0,2} \"@\" ([a-zA-Z0-9] ([a-zA-Z0-9-]{0,20} [a-zA-Z0-9])? \".\"){1,3} "
                        + "(\"com\" | \"org\" | \"net\" | \"edu\" | \"gov\" | \"io\" | \"dev\" | \"ai\" | \"app\" | \"info\" | \"de\" | \"uk\" | \"fr\" | \"jp\")";
                case "ipv4" -> "(" + octet() + " \".\"){3} " + octet();
                default -> throw new InvalidRequestException("unsupported JSON Schema format '" + f + "' at " + path, PARAM);
            };
            if (s.has("pattern") || s.has("minLength") || s.has("maxLength")) {
                throw invalid("format '" + f + "' together with pattern/minLength/maxLength at " + path + " is not supported");
            }
            return rule("format", "\"\\\"\" " + body + " \"\\\"\"");
        }
        if (s.has("pattern")) {
            if (s.has("minLength") || s.has("maxLength")) throw invalid("pattern together with minLength/maxLength at " + path + " is not supported");
            return rule("pattern", "\"\\\"\" " + RegexGbnf.jsonStringContent(s.get("pattern").asText(), PARAM) + " \"\\\"\"");
        }
        long min = s.path("minLength").asLong(0);
        long max = s.has("maxLength") ? s.get("maxLength").asLong() : -1;
        if (min < 0 || (max >= 0 && max < min)) throw invalid("minLength/maxLength at " + path + " allow no string");
        if (min > MAX_ITEMS_EXPANDED || max > MAX_ITEMS_EXPANDED) throw invalid("minLength/maxLength above " + MAX_ITEMS_EXPANDED + " at " + path + " are not supported");
        if (min == 0 && max < 0) return primitive("string", null);
        String ch = primitive("char", null);
        return rule("string", "\"\\\"\" " + ch + "{" + min + "," + (max < 0 ? "" : max) + "} \"\\\"\"");
    }

    /** Real calendar dates only (day 29 of February is left out: it needs the year). */
    private static String date() {
        return "[0-9]{4} \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01])"
                + " | (\"0\" [469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\")"
                + " | \"02\" \"-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]))";
    }

    private static String time() {
        return "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
    }

    private static String octet() {
        return "(\"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" [0-9] [0-9] | [1-9] [0-9] | [0-9])";
    }

    // ---- numbers ----

    private String integer(JsonNode s, String path) {
        BigInteger lo = bound(s, "minimum", "exclusiveMinimum", true, path);
        BigInteger hi = bound(s, "maximum", "exclusiveMaximum", false, path);
        if (lo == null && hi == null) return primitive("integer", null);
        BigInteger limit = BigInteger.TEN.pow(MAX_NUMBER_DIGITS).subtract(BigInteger.ONE);
        if (lo == null) lo = limit.negate();
        if (hi == null) hi = limit;
        if (lo.compareTo(hi) > 0) throw invalid("the bounds at " + path + " allow no integer");
        return rule("int", IntRangeGbnf.range(lo, hi));
    }

    /** An integer bound (rounded inward), or null; exclusive bounds move by one. */
    private static BigInteger bound(JsonNode s, String inclusive, String exclusive, boolean lower, String path) {
        BigInteger b = null;
        if (s.has(inclusive)) b = round(s.get(inclusive), lower, path, inclusive);
        if (s.has(exclusive)) {
            JsonNode e = s.get(exclusive);
            if (e.isBoolean()) throw invalid("boolean " + exclusive + " (draft 4) at " + path + " is not supported");
            BigDecimal v = e.decimalValue();
            BigInteger x = lower ? v.setScale(0, RoundingMode.FLOOR).toBigInteger().add(BigInteger.ONE)
                    : v.setScale(0, RoundingMode.CEILING).toBigInteger().subtract(BigInteger.ONE);
            b = b == null ? x : lower ? b.max(x) : b.min(x);
        }
        return b;
    }

    private static BigInteger round(JsonNode v, boolean lower, String path, String keyword) {
        if (!v.isNumber()) throw invalid(keyword + " at " + path + " must be a number");
        return v.decimalValue().setScale(0, lower ? RoundingMode.CEILING : RoundingMode.FLOOR).toBigInteger();
    }

    private String number(JsonNode s, String path) {
        boolean hasBounds = s.has("minimum") || s.has("maximum") || s.has("exclusiveMinimum") || s.has("exclusiveMaximum");
        if (!hasBounds) return primitive("number", null);
        if (s.has("minimum") && s.get("minimum").isNumber() && s.get("minimum").decimalValue().signum() == 0 && s.size() - annotationCount(s) <= 2) {
            return rule("num", "(\"0\" | [1-9] [0-9]{0," + (MAX_NUMBER_DIGITS - 1) + "}) (\".\" [0-9]{1," + MAX_NUMBER_DIGITS + "})? ([eE] [-+]? [0-9]{1,2})?");
        }
        throw new InvalidRequestException("unsupported JSON Schema bounds on 'number' at " + path
                + " (only minimum 0 is enforced; use type integer for exact bounds)", PARAM);
    }

    private static int annotationCount(JsonNode s) {
        int n = 0;
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) if (ANNOTATIONS.contains(it.next())) n++;
        return n;
    }

    // ---- shared rules ----

    private String ws() {
        return primitive("ws", null);
    }

    /** The rule {@code prefix-name}, defined once (with its standard body when {@code body} is null). */
    private String primitive(String name, String body) {
        String rn = prefix + "-" + name;
        if (!rules.containsKey(rn)) {
            rules.put(rn, ""); // reserve: bodies may refer back to rn
            rules.put(rn, body != null ? body : standard(name));
        }
        return rn;
    }

    private String standard(String name) {
        String digits = "[0-9]{0," + (MAX_NUMBER_DIGITS - 1) + "}";
        return switch (name) {
            case "ws" -> "(\" \" | \"\\n\" \" \"{0,16})?";
            case "char" -> "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})";
            case "string" -> "\"\\\"\" " + primitive("char", null) + "* \"\\\"\"";
            case "integer" -> "\"-\"? (\"0\" | [1-9] " + digits + ")";
            case "number" -> "\"-\"? (\"0\" | [1-9] " + digits + ") (\".\" [0-9]{1," + MAX_NUMBER_DIGITS + "})? ([eE] [-+]? [0-9]{1,2})?";
            case "boolean" -> "\"true\" | \"false\"";
            case "null" -> "\"null\"";
            case "value" -> primitive("object", null) + " | " + primitive("array", null) + " | " + primitive("string", null)
                    + " | " + primitive("number", null) + " | " + primitive("boolean", null) + " | " + primitive("null", null);
            case "object" -> "\"{\" " + ws() + " (" + primitive("string", null) + " " + ws() + " \":\" " + ws() + " " + primitive("value", null)
                    + " (\",\" " + ws() + " " + primitive("string", null) + " " + ws() + " \":\" " + ws() + " " + primitive("value", null) + ")*)? "
                    + ws() + " \"}\"";
            case "array" -> "\"[\" " + ws() + " (" + primitive("value", null) + " (\",\" " + ws() + " " + primitive("value", null) + ")*)? "
                    + ws() + " \"]\"";
            default -> throw new IllegalStateException(name);
        };
    }

    private String anyValue() {
        return primitive("value", null);
    }

    private String anyObject() {
        return primitive("object", null);
    }

    private String ref(String ref, String path) {
        String done = refRules.get(ref);
        if (done != null) return done;
        if (!ref.startsWith("#")) throw new InvalidRequestException("unsupported $ref '" + ref + "' at " + path + " (only local #/... references)", PARAM);
        JsonNode target = root.at(ref.substring(1));
        if (target.isMissingNode()) throw invalid("$ref '" + ref + "' at " + path + " points at nothing");
        String name = prefix + "-ref" + (++counter);
        refRules.put(ref, name);
        rules.put(name, ""); // reserve the name: the body may refer back to it
        rules.put(name, visit(target, ref));
        return name;
    }

    /** A new helper rule with this body; returns its name. */
    private String rule(String hint, String body) {
        String name = prefix + "-" + hint + (++counter);
        rules.put(name, body);
        return name;
    }

    private static String compact(JsonNode v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException("invalid JSON schema: " + message, PARAM);
    }
}
