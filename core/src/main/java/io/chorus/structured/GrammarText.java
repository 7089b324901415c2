package io.chorus.structured;

import java.util.ArrayList;
import java.util.List;

/** The GBNF text of a {@link GrammarSpec}, with {@code root} as its start rule. */
final class GrammarText {
    private GrammarText() {}

    static String of(GrammarSpec spec) {
        return switch (spec) {
            case GrammarSpec.JsonObject o -> JsonSchemaGbnf.anyObjectRules("root");
            case GrammarSpec.JsonSchema s -> JsonSchemaGbnf.rules(s.schemaJson(), "root");
            case GrammarSpec.Regex r -> "root ::= " + RegexGbnf.expression(r.pattern(), "regex") + "\n";
            case GrammarSpec.Choice c -> {
                List<String> alts = new ArrayList<>();
                for (String s : c.choices()) alts.add(Gbnf.literal(s));
                yield "root ::= " + String.join(" | ", alts) + "\n";
            }
            case GrammarSpec.Gbnf g -> g.grammarText();
        };
    }

    /** The request parameter to name when the spec is refused. */
    static String param(GrammarSpec spec) {
        return switch (spec) {
            case GrammarSpec.JsonObject o -> "response_format";
            case GrammarSpec.JsonSchema s -> "response_format";
            case GrammarSpec.Regex r -> "regex";
            case GrammarSpec.Choice c -> "choice";
            case GrammarSpec.Gbnf g -> "grammar";
        };
    }
}
