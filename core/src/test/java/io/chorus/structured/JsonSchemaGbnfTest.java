package io.chorus.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.InvalidRequestException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class JsonSchemaGbnfTest {

    @Test
    void everyRuleItDefinesIsTheNamedRuleOrPrefixedWithIt() {
        String rules = JsonSchemaGbnf.rules("""
                {"type":"object","properties":{"city":{"type":"string","maxLength":20},"days":{"type":"integer","minimum":1,"maximum":14}},
                 "required":["city"],"$defs":{"x":{"type":"boolean"}}}""", "gw-args");
        Matcher m = Pattern.compile("(?m)^([A-Za-z0-9-]+) ::= ").matcher(rules);
        int defined = 0;
        while (m.find()) {
            defined++;
            String name = m.group(1);
            assertThat(name.equals("gw-args") || name.startsWith("gw-args-")).as(name).isTrue();
        }
        assertThat(defined).isGreaterThan(3);
        assertThat(rules).startsWith("gw-args ::= ");
    }

    @Test
    void anUnsupportedKeywordIsRefusedByName() {
        assertThatThrownBy(() -> JsonSchemaGbnf.rules("{\"type\":\"array\",\"uniqueItems\":true}", "r"))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("'uniqueItems'");
        assertThatThrownBy(() -> JsonSchemaGbnf.rules("{\"not\":{\"type\":\"string\"}}", "r"))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("'not'");
    }

    @Test
    void anUnknownFormatAndBadJsonAreRefused() {
        assertThatThrownBy(() -> JsonSchemaGbnf.rules("{\"type\":\"string\",\"format\":\"hostname\"}", "r"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("'hostname'");
        assertThatThrownBy(() -> JsonSchemaGbnf.rules("{\"type\":", "r"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("not valid JSON");
    }
}
