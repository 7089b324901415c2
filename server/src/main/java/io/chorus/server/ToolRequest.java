package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.structured.GrammarSpec;
import io.chorus.tools.ToolCallGrammar;
import io.chorus.tools.ToolCallParser;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A chat request's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}, checked with
 * 400s that name the field. tool_choice "none" renders the tools and reads no calls (vLLM's default);
 * "auto" reads the calls the model makes; "required" and a named function also constrain decoding to
 * calls (see {@link #grammar}).
 */
final class ToolRequest {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    enum Choice { NONE, AUTO, REQUIRED, NAMED }

    private final List<ToolCallGrammar.Function> functions;
    private final Choice choice;
    private final String named;
    private final boolean parallel;

    private ToolRequest(List<ToolCallGrammar.Function> functions, Choice choice, String named, boolean parallel) {
        this.functions = functions;
        this.choice = choice;
        this.named = named;
        this.parallel = parallel;
    }

    static ToolRequest read(JsonNode body) {
        List<ToolCallGrammar.Function> functions = new ArrayList<>();
        if (Params.present(body, "tools")) {
            JsonNode tools = body.get("tools");
            if (!tools.isArray()) throw ApiError.badRequest("tools must be an array", "tools");
            Set<String> names = new HashSet<>();
            for (int i = 0; i < tools.size(); i++) {
                String at = "tools[" + i + "]";
                JsonNode t = tools.get(i);
                if (!t.isObject()) throw ApiError.badRequest(at + " must be an object", at);
                if (!"function".equals(t.path("type").asText(null))) {
                    throw ApiError.badRequest(at + ".type must be \"function\" (the only tool type supported)", at + ".type");
                }
                JsonNode fn = t.get("function");
                if (fn == null || !fn.isObject()) throw ApiError.badRequest(at + ".function must be an object", at + ".function");
                JsonNode name = fn.get("name");
                if (name == null || !name.isTextual() || !NAME.matcher(name.asText()).matches()) {
                    throw ApiError.badRequest(at + ".function.name must be 1 to 64 letters, digits, '_' or '-'", at + ".function.name");
                }
                if (!names.add(name.asText())) {
                    throw ApiError.badRequest("two tools are named '" + name.asText() + "'", at + ".function.name");
                }
                JsonNode desc = fn.get("description");
                if (desc != null && !desc.isNull() && !desc.isTextual()) {
                    throw ApiError.badRequest(at + ".function.description must be a string", at + ".function.description");
                }
                JsonNode params = fn.get("parameters");
                String schema = "{\"type\": \"object\", \"properties\": {}}"; // OpenAI: no parameters = a function without arguments
                if (params != null && !params.isNull()) {
                    if (!params.isObject() || params.has("type") && !"object".equals(params.path("type").asText(null))) {
                        throw ApiError.badRequest(at + ".function.parameters must be a JSON Schema object of type \"object\"",
                                at + ".function.parameters");
                    }
                    schema = params.toString();
                }
                functions.add(new ToolCallGrammar.Function(name.asText(), schema));
            }
        }
        Choice choice = functions.isEmpty() ? Choice.NONE : Choice.AUTO;
        String named = null;
        if (Params.present(body, "tool_choice")) {
            JsonNode c = body.get("tool_choice");
            if (c.isTextual()) {
                choice = switch (c.asText()) {
                    case "none" -> Choice.NONE;
                    case "auto" -> Choice.AUTO;
                    case "required" -> Choice.REQUIRED;
                    default -> throw ApiError.badRequest("tool_choice must be \"none\", \"auto\", \"required\" or"
                            + " {\"type\": \"function\", \"function\": {\"name\": ...}}, got '" + Params.clip(c.asText()) + "'", "tool_choice");
                };
            } else if (c.isObject() && "function".equals(c.path("type").asText(null)) && c.path("function").path("name").isTextual()) {
                choice = Choice.NAMED;
                named = c.get("function").get("name").asText();
                String wanted = named;
                if (functions.stream().noneMatch(f -> f.name().equals(wanted))) {
                    throw ApiError.badRequest("tool_choice names function '" + Params.clip(named) + "', which is not in tools", "tool_choice");
                }
            } else {
                throw ApiError.badRequest("tool_choice must be \"none\", \"auto\", \"required\" or"
                        + " {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
            }
            if (choice != Choice.NONE && functions.isEmpty()) {
                throw ApiError.badRequest("tool_choice " + (c.isTextual() ? "\"" + c.asText() + "\"" : "naming a function") + " needs tools", "tool_choice");
            }
        }
        boolean parallel = Params.bool(body, "parallel_tool_calls", true);
        return new ToolRequest(List.copyOf(functions), choice, named, parallel);
    }

    /** Whether the output is read for calls. */
    boolean readsCalls() {
        return choice != Choice.NONE;
    }

    /** At most one call when false. */
    boolean parallel() {
        return parallel;
    }

    /**
     * The tool-call parser to read calls with; 400 when calls are asked for and the model has none
     * (its template shows no call syntax and no --tool-call-parser was given).
     */
    ToolCallParser parser(OutputParsers parsers) {
        if (!readsCalls()) return null;
        return parsers.toolParser().orElseThrow(() -> ApiError.badRequest("this model's chat template shows no tool-call syntax,"
                + " so calls cannot be read from its output; start the server with --tool-call-parser (hermes, llama3_json or"
                + " mistral), or send tool_choice \"none\"", "tools"));
    }

    /** For "required" and a named function: the grammar that makes the output calls; else null. */
    GrammarSpec grammar(ToolCallParser parser) {
        if (choice != Choice.REQUIRED && choice != Choice.NAMED) return null;
        List<ToolCallGrammar.Function> allowed = choice == Choice.NAMED
                ? functions.stream().filter(f -> f.name().equals(named)).toList() : functions;
        try {
            return GrammarSpec.gbnf(parser.grammar(allowed, parallel && choice == Choice.REQUIRED));
        } catch (InvalidRequestException e) {
            throw ApiError.badRequest("tools: a function's parameters schema cannot be enforced: " + e.getMessage(), "tools");
        }
    }
}
