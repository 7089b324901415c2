package io.chorus.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

class GbnfParserTest {

    @Test
    void literalsClassesAndReferences() {
        String g = """
                # a greeting
                root ::= greeting " " name   # trailing comment
                greeting ::= "hi" | "hello"
                name ::= [A-Z] [a-z]*
                """;
        assertThat(Match.gbnf(g, "hi Bob")).isTrue();
        assertThat(Match.gbnf(g, "hello Al")).isTrue();
        assertThat(Match.gbnf(g, "hello A")).isTrue();
        assertThat(Match.gbnf(g, "hello al")).isFalse();
        assertThat(Match.gbnf(g, "hey Bob")).isFalse();
        assertThat(Match.gbnf(g, "hi Bob ")).isFalse();
        assertThat(Match.prefix(g, "hel")).isTrue();
        assertThat(Match.prefix(g, "hex")).isFalse();
    }

    @Test
    void repetitionOperatorsCountExactly() {
        String g = "root ::= \"a\"{2,4} \"b\"? [0-9]+ (\"x\" \"y\"){1,}\n";
        assertThat(Match.gbnf(g, "aa1xy")).isTrue();
        assertThat(Match.gbnf(g, "aaaab12xyxy")).isTrue();
        assertThat(Match.gbnf(g, "a1xy")).isFalse();
        assertThat(Match.gbnf(g, "aaaaa1xy")).isFalse();
        assertThat(Match.gbnf(g, "aab1")).isFalse();
        assertThat(Match.gbnf(g, "aabxy")).isFalse();
        assertThat(Match.gbnf(g, "aa1xyx")).isFalse();
        assertThat(Match.gbnf("root ::= \"ab\"{3}\n", "ababab")).isTrue();
        assertThat(Match.gbnf("root ::= \"ab\"{3}\n", "abab")).isFalse();
    }

    @Test
    void escapesNegatedClassesAndAnyChar() {
        String g = "root ::= \"\\\"\" [^\"\\\\\\n]* \"\\\"\" \"\\x41\\u00e9\" .\n";
        assertThat(Match.gbnf(g, "\"ok\"Aé€")).isTrue();
        assertThat(Match.gbnf(g, "\"o\"k\"Aé!")).isFalse();
        assertThat(Match.gbnf(g, "\"o\nk\"Aé!")).isFalse();
    }

    @Test
    void alternativesMayContinueOnTheNextLineAndGroupsSpanLines() {
        String g = """
                root ::= "a"
                  | "b"
                  | ( "c"
                      "d" )
                """;
        assertThat(Match.gbnf(g, "a")).isTrue();
        assertThat(Match.gbnf(g, "b")).isTrue();
        assertThat(Match.gbnf(g, "cd")).isTrue();
        assertThat(Match.gbnf(g, "c")).isFalse();
    }

    @Test
    void multiByteCharactersMatchAcrossTheirBytes() {
        String g = "root ::= [α-ω]+ \"😀\"\n";
        assertThat(Match.gbnf(g, "αβγ😀")).isTrue();
        assertThat(Match.gbnf(g, "αβΓ😀")).isFalse(); // Γ is outside the lower-case range
        assertThat(Match.prefix(g, "α\u00CE".substring(0, 1))).isTrue();
    }

    @Test
    void overlongAndBrokenUtf8IsRejected() {
        GrammarAutomaton a = new GrammarAutomaton(GbnfParser.parse("root ::= [a-z\u0800-\uFFFF]\n", "grammar"));
        assertThat(walk(a, 0xC1, 0xA1)).isSameAs(GrammarAutomaton.DEAD);       // 'a' in two bytes
        assertThat(walk(a, 0xE0, 0x81, 0xA1)).isSameAs(GrammarAutomaton.DEAD); // 'a' in three bytes
        assertThat(walk(a, 0xE0, 0x81)).isSameAs(GrammarAutomaton.DEAD);       // no 3-byte character starts so
        assertThat(walk(a, 0xF0)).isSameAs(GrammarAutomaton.DEAD);             // 4-byte characters are outside the class
        assertThat(walk(a, 0xE0, 0xA0, 0x80).accepting).isTrue();               // U+0800
        assertThat(walk(a, 0xED, 0xA0, 0x80)).isSameAs(GrammarAutomaton.DEAD); // a surrogate
        assertThat(walk(a, 0x61, 0x80)).isSameAs(GrammarAutomaton.DEAD);       // a stray continuation byte
    }

    private static GrammarAutomaton.State walk(GrammarAutomaton a, int... bytes) {
        GrammarAutomaton.State s = a.start();
        for (int b : bytes) s = a.step(s, b);
        return s;
    }

    @Test
    void mistakesAreRefusedWithWhere() {
        assertThatThrownBy(() -> GbnfParser.parse("root ::= foo\n", "grammar"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("'foo' is used but not defined");
        assertThatThrownBy(() -> GbnfParser.parse("start ::= \"a\"\n", "grammar"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("no 'root' rule");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= root \"a\" | \"b\"\n", "grammar"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("left-recursive");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= x\nx ::= y? x \"a\"\ny ::= \"b\"\n", "grammar"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("left-recursive");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= \"a\n", "grammar"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("grammar error at line").hasMessageContaining("unterminated string");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= \"a\"\nroot ::= \"b\"\n", "grammar"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("defined twice");
    }

    @Test
    void rightRecursionDoesNotGrowTheStack() {
        String g = "root ::= item\nitem ::= \"x\" item | \"!\"\n";
        GrammarAutomaton a = new GrammarAutomaton(GbnfParser.parse(g, "grammar"));
        GrammarAutomaton.State s = a.start();
        GrammarAutomaton.State afterOne = a.step(s, 'x');
        assertThat(a.step(afterOne, 'x')).isSameAs(afterOne); // the same interned state: constant memory per step
        assertThat(a.step(afterOne, '!').accepting).isTrue();
    }

    @Test
    void theStateTableIsBoundedAndMatchingGoesOnAcrossResets() {
        // Every count of a long counted repetition is its own state: more than the table holds.
        GrammarAutomaton a = new GrammarAutomaton(GbnfParser.parse("root ::= [a-z]{0,30000} \"!\"\n", "grammar"));
        GrammarAutomaton.State s = a.start();
        for (int i = 0; i < 25_000; i++) {
            s = a.step(s, 'a' + i % 26);
            assertThat(s).isNotSameAs(GrammarAutomaton.DEAD);
        }
        assertThat(a.resets()).isGreaterThan(0);
        assertThat(a.stateCount()).isLessThanOrEqualTo(GrammarAutomaton.MAX_STATES);
        assertThat(a.step(s, '!').accepting).isTrue();
    }
}
