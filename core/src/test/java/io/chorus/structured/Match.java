package io.chorus.structured;

import java.nio.charset.StandardCharsets;

/** Test helper: whether a grammar matches a text as a whole, byte by byte through its automaton. */
final class Match {
    private Match() {}

    static boolean gbnf(String grammar, String text) {
        return automaton(grammar, text);
    }

    static boolean schema(String schemaJson, String text) {
        return automaton(JsonSchemaGbnf.rules(schemaJson, "root"), text);
    }

    static boolean regex(String regex, String text) {
        return automaton("root ::= " + RegexGbnf.expression(regex, "regex") + "\n", text);
    }

    /** Whether {@code text} is a prefix of some match (the automaton is not dead after it). */
    static boolean prefix(String grammar, String text) {
        GrammarAutomaton a = new GrammarAutomaton(GbnfParser.parse(grammar, "grammar"));
        GrammarAutomaton.State s = a.start();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) s = a.step(s, b & 0xFF);
        return s != GrammarAutomaton.DEAD;
    }

    private static boolean automaton(String grammar, String text) {
        GrammarAutomaton a = new GrammarAutomaton(GbnfParser.parse(grammar, "grammar"));
        GrammarAutomaton.State s = a.start();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) s = a.step(s, b & 0xFF);
        return s.accepting;
    }
}
