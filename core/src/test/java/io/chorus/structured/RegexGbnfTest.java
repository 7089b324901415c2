package io.chorus.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.InvalidRequestException;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RegexGbnfTest {

    /** Each pattern against candidates, with java.util.regex's full match as the expected answer. */
    @Test
    void agreesWithJavaRegexOnTheSupportedSubset() {
        List<String> patterns = List.of("^\\d{3}-\\d{4}$", "[A-Za-z_]\\w*", "(cat|dog)s?", "a(b|c)*d", "x{2,}y?", "[^aeiou ]+",
                "(?:ab)+|c", "\\s*ok\\.", "[a\\-z]{1,2}", "colou?r", "(?<word>[a-c]{2})!", ".a.", "\\x41\\u00e9+");
        List<String> texts = List.of("", "555-1234", "55-1234", "abc_9", "9abc", "cat", "dogs", "cats", "catss", "ad", "abcbd", "axd",
                "xx", "xxxxy", "xy", "bcd", "bad", "abab", "c", "abc", "  ok.", "ok", "-", "a-", "az-", "color", "colour", "colouur",
                "ab!", "ad!", "\na", "bab", "Aééé", "A");
        for (String p : patterns) {
            Pattern java = Pattern.compile(p);
            for (String t : texts) {
                assertThat(Match.regex(p, t)).as("/%s/ on '%s'", p, t).isEqualTo(java.matcher(t).matches());
            }
        }
    }

    @Test
    void jsonStringModeEscapesWhatJsonCannotHoldRaw() {
        String g = "root ::= \"\\\"\" " + RegexGbnf.jsonStringContent("a[\"\\\\]\\n", "p") + " \"\\\"\"\n";
        assertThat(Match.gbnf(g, "\"a\\\"\\n\"")).isTrue();   // a, escaped quote, escaped newline
        assertThat(Match.gbnf(g, "\"a\\\\\\n\"")).isTrue();   // a, escaped backslash, escaped newline
        assertThat(Match.gbnf(g, "\"a\"\n\"")).isFalse();     // raw quote and newline are not JSON
    }

    @Test
    void unsupportedFeaturesAreNamed() {
        assertThatThrownBy(() -> RegexGbnf.expression("(a)\\1", "regex")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("backreferences");
        assertThatThrownBy(() -> RegexGbnf.expression("a(?=b)", "regex")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("lookaround");
        assertThatThrownBy(() -> RegexGbnf.expression("\\bword", "regex")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("word boundaries");
        assertThatThrownBy(() -> RegexGbnf.expression("a^b", "regex")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("anchor");
        assertThatThrownBy(() -> RegexGbnf.expression("\\p{L}", "regex")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("Unicode properties");
        assertThatThrownBy(() -> RegexGbnf.expression("(ab", "regex")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("unclosed");
    }
}
