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

    @Test
    void objectsKeepDeclaredOrderAndMayLeaveOutOptionalProperties() {
        String schema = """
                {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},"c":{"type":"null"}},"required":["b"]}""";
        assertThat(Match.schema(schema, "{\"b\":true}")).isTrue();
        assertThat(Match.schema(schema, "{\"a\":1,\"b\":false,\"c\":null}")).isTrue();
        assertThat(Match.schema(schema, "{ \"a\": -7, \"b\": true }")).isTrue();
        assertThat(Match.schema(schema, "{\n  \"b\": true,\n  \"c\": null\n}")).isTrue();
        assertThat(Match.schema(schema, "{\"a\":1}")).as("required b missing").isFalse();
        assertThat(Match.schema(schema, "{\"b\":true,\"a\":1}")).as("declared order").isFalse();
        assertThat(Match.schema(schema, "{\"b\":true,\"d\":1}")).as("no additional properties by default").isFalse();
        assertThat(Match.schema(schema, "{,\"b\":true}")).isFalse();
        assertThat(Match.schema(schema, "{\"b\":true,}")).isFalse();
        assertThat(Match.schema(schema, "{  \"b\":true}")).as("whitespace is bounded").isFalse();
    }

    @Test
    void additionalPropertiesFollowTheDeclaredOnes() {
        String schema = """
                {"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":{"type":"string"}}""";
        assertThat(Match.schema(schema, "{\"id\":1,\"x\":\"y\",\"z\":\"w\"}")).isTrue();
        assertThat(Match.schema(schema, "{\"id\":1,\"x\":2}")).isFalse();
        assertThat(Match.schema("{\"type\":\"object\",\"additionalProperties\":true}", "{\"k\":[1,{\"n\":null}]}")).isTrue();
        assertThat(Match.schema("{\"type\":\"object\"}", "{}")).isTrue();
        assertThat(Match.schema("{\"type\":\"object\"}", "{\"k\":1}")).isFalse();
    }

    @Test
    void arraysCountTheirItems() {
        String schema = "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}";
        assertThat(Match.schema(schema, "[1]")).isTrue();
        assertThat(Match.schema(schema, "[1, 2,3]")).isTrue();
        assertThat(Match.schema(schema, "[]")).isFalse();
        assertThat(Match.schema(schema, "[1,2,3,4]")).isFalse();
        assertThat(Match.schema(schema, "[1,\"a\"]")).isFalse();
        String open = "{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":2}";
        assertThat(Match.schema(open, "[true,false,true,true]")).isTrue();
        assertThat(Match.schema(open, "[true]")).isFalse();
        String tuple = "{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false,\"minItems\":2}";
        assertThat(Match.schema(tuple, "[\"a\",1]")).isTrue();
        assertThat(Match.schema(tuple, "[1,\"a\"]")).isFalse();
        assertThat(Match.schema(tuple, "[\"a\",1,2]")).isFalse();
    }

    @Test
    void enumConstAndPrimitives() {
        assertThat(Match.schema("{\"enum\":[\"red\",1,null,{\"a\":true}]}", "\"red\"")).isTrue();
        assertThat(Match.schema("{\"enum\":[\"red\",1,null,{\"a\":true}]}", "{\"a\":true}")).isTrue();
        assertThat(Match.schema("{\"enum\":[\"red\",1,null]}", "\"blue\"")).isFalse();
        assertThat(Match.schema("{\"const\":\"x\\\"y\"}", "\"x\\\"y\"")).isTrue();
        assertThat(Match.schema("{\"type\":\"boolean\"}", "true")).isTrue();
        assertThat(Match.schema("{\"type\":\"null\"}", "nul")).isFalse();
        assertThat(Match.schema("{\"type\":[\"string\",\"null\"]}", "null")).isTrue();
        assertThat(Match.schema("{\"type\":\"number\"}", "-0.5e+10")).isTrue();
        assertThat(Match.schema("{\"type\":\"number\"}", "01")).isFalse();
        assertThat(Match.schema("{\"type\":\"integer\"}", "1.0")).isFalse();
        assertThat(Match.schema("{\"type\":\"number\",\"minimum\":0}", "-1")).isFalse();
        assertThat(Match.schema("{\"type\":\"number\",\"minimum\":0}", "3.25")).isTrue();
    }

    @Test
    void stringsHonourLengthPatternAndFormat() {
        String len = "{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}";
        assertThat(Match.schema(len, "\"ab\"")).isTrue();
        assertThat(Match.schema(len, "\"a\\nc\"")).as("an escape is one character").isTrue();
        assertThat(Match.schema(len, "\"a\"")).isFalse();
        assertThat(Match.schema(len, "\"abcd\"")).isFalse();
        assertThat(Match.schema(len, "\"a\nb\"")).as("raw control characters are not JSON").isFalse();
        String pattern = "{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}-\\\\d{3}$\"}";
        assertThat(Match.schema(pattern, "\"AB-123\"")).isTrue();
        assertThat(Match.schema(pattern, "\"AB-12\"")).isFalse();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"date\"}", "\"2026-12-01\"")).isTrue();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"date\"}", "\"2026-13-01\"")).isFalse();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"date-time\"}", "\"2026-12-01T17:05:00Z\"")).isTrue();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"time\"}", "\"24:00:00Z\"")).isFalse();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"uuid\"}", "\"123e4567-e89b-12d3-a456-426614174000\"")).isTrue();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"uuid\"}", "\"123e4567-e89b-12d3-a456-42661417400\"")).isFalse();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"email\"}", "\"ada.l@example.org\"")).isTrue();
        assertThat(Match.schema("{\"type\":\"string\",\"format\":\"email\"}", "\"ada@\"")).isFalse();
    }

    @Test
    void integerBoundsAreExact() {
        String schema = "{\"type\":\"integer\",\"minimum\":-15,\"exclusiveMaximum\":120}";
        for (int v = -200; v <= 300; v++) {
            assertThat(Match.schema(schema, Integer.toString(v))).as("%d", v).isEqualTo(v >= -15 && v < 120);
        }
        assertThat(Match.schema(schema, "-0")).isFalse();
        assertThat(Match.schema(schema, "007")).isFalse();
        String big = "{\"type\":\"integer\",\"minimum\":1000,\"maximum\":20500}";
        for (int v : new int[] {999, 1000, 1001, 9999, 10000, 19999, 20499, 20500, 20501, 30000}) {
            assertThat(Match.schema(big, Integer.toString(v))).as("%d", v).isEqualTo(v >= 1000 && v <= 20500);
        }
    }

    @Test
    void anyOfRefsAndRecursion() {
        String schema = """
                {"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},
                 "required":["v","next"]}},"$ref":"#/$defs/node"}""";
        assertThat(Match.schema(schema, "{\"v\":1,\"next\":{\"v\":2,\"next\":null}}")).isTrue();
        assertThat(Match.schema(schema, "{\"v\":1,\"next\":{\"v\":2}}")).isFalse();
        String oneOf = "{\"oneOf\":[{\"type\":\"string\",\"maxLength\":1},{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}]}";
        assertThat(Match.schema(oneOf, "\"x\"")).isTrue();
        assertThat(Match.schema(oneOf, "7")).isTrue();
        assertThat(Match.schema(oneOf, "17")).isFalse();
    }

    @Test
    void anyJsonObjectForJsonObjectMode() {
        String rules = JsonSchemaGbnf.anyObjectRules("root");
        assertThat(Match.gbnf(rules, "{\"a\": [1, 2.5, \"x\", {\"b\": null}], \"c\": false}")).isTrue();
        assertThat(Match.gbnf(rules, "[1]")).isFalse();
        assertThat(Match.gbnf(rules, "{\"a\":}")).isFalse();
    }

    @Test
    void rulesOfTwoSchemasComposeInOneToolCallGrammar() {
        String weather = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":20}},\"required\":[\"city\"]}";
        String time = "{\"type\":\"object\",\"properties\":{\"tz\":{\"enum\":[\"UTC\",\"CET\"]}},\"required\":[\"tz\"]}";
        String grammar = "root ::= \"<tool_call>\\n{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\": \" gw-args \"}\\n</tool_call>\""
                + " | \"<tool_call>\\n{\\\"name\\\": \\\"get_time\\\", \\\"arguments\\\": \" gt-args \"}\\n</tool_call>\"\n"
                + JsonSchemaGbnf.rules(weather, "gw-args") + JsonSchemaGbnf.rules(time, "gt-args");
        assertThat(Match.gbnf(grammar, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>")).isTrue();
        assertThat(Match.gbnf(grammar, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\":\"CET\"}}\n</tool_call>")).isTrue();
        assertThat(Match.gbnf(grammar, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>")).isFalse();
        assertThat(Match.gbnf(grammar, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": 3}}\n</tool_call>")).isFalse();
    }
}
