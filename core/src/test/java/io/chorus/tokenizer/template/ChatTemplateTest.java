package io.chorus.tokenizer.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Renderer behaviour without the shared fixtures. Every expected string was produced by jinja2
 * 3.1 with transformers' environment (trim_blocks, lstrip_blocks, loopcontrols, json.dumps tojson).
 */
class ChatTemplateTest {
    private static final Clock FIXED =
            Clock.fixed(LocalDateTime.of(2026, 11, 29, 12, 0).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

    /** Renders {@code template} with alternating name/value pairs as variables. */
    static String render(String template, Object... nameValue) {
        Map<String, Object> vars = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) vars.put((String) nameValue[i], nameValue[i + 1]);
        return ChatTemplate.compile(template).render(vars, FIXED);
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    // ---- Whitespace ----
    @Test
    void lstripAndTrimBlocksRemoveTagIndentationAndNewline() {
        assertThat(render("a\n  {% if true %}\n    x\n  {% endif %}\nb")).isEqualTo("a\n    x\nb");
        assertThat(render("{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n")).isEqualTo("  1\n  2\n");
    }

    @Test
    void lstripOnlyAppliesAtLineStartAndNotToExpressions() {
        assertThat(render("a  {% if true %}x{% endif %}  b")).isEqualTo("a  x  b");
        assertThat(render("{% for i in [1] %}  {{ i }}  {% endfor %}")).isEqualTo("  1  ");
        assertThat(render("{{ 'a' }}\n{{ 'b' }}\n")).isEqualTo("a\nb");
    }

    @Test
    void minusSignsStripAllWhitespaceOnThatSide() {
        assertThat(render("a {{- ' b ' -}} c\n\n{{ 'd' }}   \n  {%- if 1 %}e{% endif -%}   \n f"))
                .isEqualTo("a b c\n\ndef");
        assertThat(render("a\n{% if true -%}\n\n  b\n{%- endif %}\n  c  \n")).isEqualTo("a\nb  c  ");
        assertThat(render("{%- set x = 1 -%}\n\n{{ x }}\n{%- set y = 2 %}   \n{{ y }}")).isEqualTo("1   \n2");
    }

    @Test
    void plusSignKeepsIndentation() {
        assertThat(render("x\n  {%+ if true %}y{% endif %}")).isEqualTo("x\n  y");
    }

    @Test
    void lstripUsesTabsAndLineStartAfterTrimmedNewline() {
        assertThat(render("\t{% if true %}\n\tx\n \t{%- if true %}y{% endif %}\n{% endif %}")).isEqualTo("\txy");
    }

    @Test
    void commentsAreRemovedWithTheSameWhitespaceRules() {
        assertThat(render("  {# comment #}\nx\n  {#- c2 -#}  y")).isEqualTo("xy");
        assertThat(render("x {# inline #} y\n{# full #}\nz")).isEqualTo("x  y\nz");
    }

    @Test
    void rawBlocksAreLiteral() {
        assertThat(render("{% raw %}{{ not evaluated }}{% endraw %}|{%- raw -%}  a {{b}}  {%- endraw %}\nz"))
                .isEqualTo("{{ not evaluated }}|a {{b}}z");
        assertThat(render("  {% raw %}\n  r\n  {% endraw %}\nq")).isEqualTo("\n  r\nq");
    }

    @Test
    void newlinesAreNormalisedAndOneTrailingNewlineDropped() {
        assertThat(render("line1\r\nline2\r\n{% if true %}\r\nX{% endif %}")).isEqualTo("line1\nline2\nX");
        assertThat(render("x\n\n")).isEqualTo("x\n");
    }

    // ---- Loops ----
    @Test
    void loopVariables() {
        assertThat(render("{% for m in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                + "{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{{ m }};{% endfor %}", "xs", List.of("a", "b", "c")))
                .isEqualTo("10TrueFalse332a;21FalseFalse321b;32FalseTrue310c;");
        assertThat(render("{% for x in xs %}{{ loop.previtem|default('-') }}{{ x }}{{ loop.nextitem|default('-') }} {% endfor %}",
                "xs", List.of(1, 2, 3))).isEqualTo("-12 123 23- ");
        assertThat(render("{% for x in [1,2,3] %}{{ loop.cycle('a','b') }}{% endfor %}")).isEqualTo("aba");
    }

    @Test
    void unpackingAndDictIteration() {
        Map<String, Object> d = map("x", 1, "y", null, "z", List.of(1, 2));
        assertThat(render("{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}|{% for k in d %}{{k}}{% endfor %}", "d", d))
                .isEqualTo("x=1,y=None,z=[1, 2],|xyz");
    }

    @Test
    void filterConditionAndElse() {
        assertThat(render("{% for x in xs if x is odd %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}"
                + "|{% for x in [] %}a{% else %}empty{% endfor %}", "xs", List.of(1, 2, 3, 4, 5)))
                .isEqualTo("133353|empty");
    }

    @Test
    void breakAndContinue() {
        assertThat(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}"
                + "{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}")).isEqualTo("0134");
    }

    @Test
    void nestedLoopsHaveTheirOwnLoopVariable() {
        assertThat(render("{% for a in [1,2] %}{% for b in 'xy' %}{{a}}{{b}}{{loop.index}} {% endfor %}{{loop.index}}|{% endfor %}"))
                .isEqualTo("1x1 1y2 1|2x1 2y2 2|");
    }

    @Test
    void assignmentsInsideLoopsDoNotLeakButNamespacesCarryState() {
        assertThat(render("{% set c = 0 %}{% for i in [1,2] %}{% set c = c + 1 %}{{ c }}{% endfor %}{{ c }}"))
                .isEqualTo("110");
        assertThat(render("{% set ns = namespace(n=0, s='') %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}"
                + "{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}")).isEqualTo("6 123");
        assertThat(render("{% if true %}{% set y = 5 %}{% endif %}{{ y }}")).isEqualTo("5");
    }

    @Test
    void iteratingNoneFails() {
        assertThatThrownBy(() -> render("{% set x = none %}{% for i in x %}{% endfor %}"))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("'NoneType' object is not iterable");
    }

    // ---- SetAndMacros ----
    @Test
    void blockSetAndTupleSet() {
        assertThat(render("{% set x %}  block {{ 1 + 1 }}  {% endset %}[{{ x }}]{% set a, b = 1, 2 %}{{ a }}{{ b }}"))
                .isEqualTo("[  block 2  ]12");
    }

    @Test
    void macrosWithDefaultsKeywordsRecursionAndCaller() {
        assertThat(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                + "{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C', punct='.') }}")).isEqualTo("Hi A! Hi B? Hi C.");
        assertThat(render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"))
                .isEqualTo("321");
        assertThat(render("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner{% endcall %}"))
                .isEqualTo("[inner]");
    }

    // ---- FiltersAndTests ----
    @Test
    void stringFilters() {
        assertThat(render("{{ '  hi  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ [1,2,3]|length }}|{{ 'héllo'|count }}"
                + "|{{ [4,5]|first }}|{{ [4,5]|last }}|{{ 'ABC'|lower }}|{{ 'abc'|upper }}"))
                .isEqualTo("hi|hi|3|5|4|5|abc|ABC");
        assertThat(render("{{ 'hello wORLD-foo (bar)'|title }}|{{ 'hELLO world'|capitalize }}|{{ undefined_x|default('dflt') }}"
                + "|{{ ''|default('e', true) }}|{{ none|d('n') }}"))
                .isEqualTo("Hello World-Foo (Bar)|Hello world|dflt|e|None");
    }

    @Test
    void conversionFilters() {
        assertThat(render("{{ ['a','b']|join(', ') }}|{{ [1,2]|join }}|{{ 'aaa'|replace('a','b', 2) }}|{{ 12|string }}"
                + "|{{ '42'|int + 1 }}|{{ '3.7'|int }}|{{ 'x'|int }}|{{ '2.5'|float }}|{{ 3|float }}"))
                .isEqualTo("a, b|12|bba|12|43|3|0|2.5|3.0");
    }

    @Test
    void sequenceFilters() {
        List<Object> xs = List.of(map("role", "user"), map("role", "assistant"), map("role", "user"));
        assertThat(render("{{ 'abc'|list }}|{{ {'a':1}|items|list }}|{{ xs|selectattr('role','equalto','user')|list|length }}"
                + "|{{ xs|rejectattr('role','equalto','user')|map(attribute='role')|join(',') }}", "xs", xs))
                .isEqualTo("['a', 'b', 'c']|[('a', 1)]|2|assistant");
        List<Object> ys = List.of(map("ok", true, "n", 1), map("ok", false, "n", 2), map("n", 3));
        assertThat(render("{{ xs|selectattr('ok')|map(attribute='n')|list }}|{{ ['a','B']|map('upper')|list }}"
                + "|{{ [1,2,3,4]|select('even')|list }}|{{ [1,2,3]|reject('equalto', 2)|list }}", "xs", ys))
                .isEqualTo("[1]|['A', 'B']|[2, 4]|[1, 3]");
        List<Object> zs = List.of(map("n", 3), map("n", 1), map("n", 2));
        assertThat(render("{{ [3,1,2]|sort }}|{{ ['b','A','c']|sort }}|{{ ['b','A','c']|sort(reverse=true) }}"
                + "|{{ xs|sort(attribute='n')|map(attribute='n')|join }}|{{ [1,2,3]|sum }}|{{ [3,1]|max }}|{{ [3,1]|min }}", "xs", zs))
                .isEqualTo("[1, 2, 3]|['A', 'b', 'c']|['c', 'b', 'A']|123|6|3|1");
    }

    @Test
    void numericAndMiscFilters() {
        assertThat(render("{{ 2.5|round }}|{{ 3.14159|round(2) }}|{{ 2.675|round(2) }}|{{ 7|round }}|{{ 3.2|round(0,'ceil') }}"
                + "|{{ -3|abs }}|{{ -2.5|abs }}|{{ ['b','A','a','c']|unique|list }}|{{ 'abc'|reverse }}|{{ [1,2,3]|reverse|list }}"))
                .isEqualTo("2.0|3.14|2.67|7|4.0|3|2.5|['b', 'A', 'c']|cba|[3, 2, 1]");
        assertThat(render("{{ '%s-%d'|format('a', 3) }}|{{ 'a b  c'|wordcount }}|{{ {'b':1,'a':2}|dictsort }}"))
                .isEqualTo("a-3|3|[('a', 2), ('b', 1)]");
    }

    @Test
    void escapeAlwaysEscapesAndIndentFollowsJinja() {
        assertThat(render("{{ '<a href=\"x\">&\\'</a>'|e }}|{{ '<b>'|safe }}|{{ 'a\nb\n\nc'|indent(2) }}"
                + "|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent('> ', blank=true) }}"))
                .isEqualTo("&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;|<b>|a\n  b\n\n  c|  a\n  b|a\n> \n> b");
    }

    @Test
    void typeTests() {
        assertThat(render("{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}"
                + "{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ 3 is iterable }}{{ [] is sequence }}"
                + "{{ 1 is number }}{{ 1.0 is number }}{{ 1 is integer }}{{ 1.0 is integer }}{{ true is integer }}"
                + "{{ true is boolean }}{{ 1 is boolean }}", "x", 1))
                .isEqualTo("TrueFalseTrueTrueTrueTrueTrueTrueFalseTrueTrueTrueTrueFalseFalseTrueFalse");
    }

    @Test
    void valueTestsAndGlobalsAreDefined() {
        assertThat(render("{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 1 is equalto 1 }}{{ 'a' is eq 'a' }}"
                + "{{ 2 is in [1,2] }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}"
                + "{{ x is not none }}{{ strftime_now is defined }}{{ raise_exception is defined }}{{ len is defined }}"
                + "{{ range is callable }}", "x", null))
                .isEqualTo("TrueFalseTrueTrueTrueTrueTrueTrueTrueFalseFalseTrueTrueFalseTrue");
    }

    @Test
    void unknownFiltersAndTestsFailOnlyWhenEvaluated() {
        ChatTemplate t = ChatTemplate.compile("{% if false %}{{ x | nosuchfilter }}{{ x is nosuchtest }}{% endif %}ok\n"
                + "{% if fail %}{{ x | nosuchfilter }}{% endif %}");
        assertThat(t.render(Map.of("fail", false))).isEqualTo("ok\n");
        assertThatThrownBy(() -> t.render(Map.of("fail", true)))
                .isInstanceOfSatisfying(TemplateException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("No filter named 'nosuchfilter'");
                });
        assertThatThrownBy(() -> render("{{ 1 is nosuchtest }}")).hasMessageContaining("No test named 'nosuchtest'");
    }

    // ---- ToJson ----
    @Test
    void matchesPythonJsonDumpsWithUnicodeKept() {
        Map<String, Object> d = map("name", "Grüße 😀", "n", 1, "f", 1.5, "big", 1e20, "small", 0.0001, "tiny", 1.5e-7,
                "b", true, "z", null, "l", List.of(1, List.of(2, Map.of()), List.of()),
                "q", "a\"b\\c\nd\te\u0001\u007f\u2028");
        assertThat(render("{{ d|tojson }}", "d", d)).isEqualTo("{\"name\": \"Grüße 😀\", \"n\": 1, \"f\": 1.5, "
                + "\"big\": 1e+20, \"small\": 0.0001, \"tiny\": 1.5e-07, \"b\": true, \"z\": null, "
                + "\"l\": [1, [2, {}], []], \"q\": \"a\\\"b\\\\c\\nd\\te\\u0001\u007f\u2028\"}");
    }

    @Test
    void indentSortKeysSeparatorsAndEnsureAscii() {
        Map<String, Object> d = map("b", List.of(1, map("x", "é😀")), "a", Map.of(), "c", List.of());
        assertThat(render("{{ d|tojson(indent=2) }}", "d", d))
                .isEqualTo("{\n  \"b\": [\n    1,\n    {\n      \"x\": \"é😀\"\n    }\n  ],\n  \"a\": {},\n  \"c\": []\n}");
        assertThat(render("{{ d|tojson(indent=4, sort_keys=true) }}", "d", d)).isEqualTo("{\n    \"a\": {},\n"
                + "    \"b\": [\n        1,\n        {\n            \"x\": \"é😀\"\n        }\n    ],\n    \"c\": []\n}");
        assertThat(render("{{ d|tojson(separators=[',',':']) }}", "d", d)).isEqualTo("{\"b\":[1,{\"x\":\"é😀\"}],\"a\":{},\"c\":[]}");
        assertThat(render("{{ d|tojson(ensure_ascii=true) }}", "d", d))
                .isEqualTo("{\"b\": [1, {\"x\": \"\\u00e9\\ud83d\\ude00\"}], \"a\": {}, \"c\": []}");
    }

    @Test
    void scalarsAndNonStringKeys() {
        assertThat(render("{{ 'str'|tojson }}|{{ 5|tojson }}|{{ none|tojson }}|{{ [true, 2.0]|tojson }}|{{ {1: 2, none: 3}|tojson }}"))
                .isEqualTo("\"str\"|5|null|[true, 2.0]|{\"1\": 2, \"null\": 3}");
    }

    // ---- Expressions ----
    @Test
    void pythonArithmetic() {
        assertThat(render("{{ 1 + 2 }}|{{ 7 / 2 }}|{{ 6 / 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}"
                + "|{{ 7.5 % 2 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 1.5 + 1 }}|{{ 0.1 + 0.2 }}|{{ 1e16 }}"
                + "|{{ 123456789.0 * 10 }}|{{ -0.00001 }}|{{ 3 * 'ab' }}|{{ [1] * 2 }}|{{ -x }}", "x", 5))
                .isEqualTo("3|3.5|2.0|3|-4|1|2|1.5|1024|0.5|2.5|0.30000000000000004|1e+16|1234567890.0|-1e-05|ababab|[1, 1]|-5");
        assertThat(render("{{ 3.0 }}{{ 1e3 }}{{ 100000000000000000000.0 }}{{ 0.5e-4 }}{{ 1/3 }}{{ 2/3 }}{{ -1.5 }}{{ 12345678.9 }}{{ 1_000 }}"))
                .isEqualTo("3.01000.01e+205e-050.33333333333333330.6666666666666666-1.512345678.91000");
    }

    @Test
    void precedence() {
        assertThat(render("{{ 1 if none is none else 2 }}{{ -2|abs }}{{ not 1 == 2 }}{{ 'a' 'b' }}{{ 1 - -1 }}"
                + "{{ 2 * 3 + 1 }}{{ 1 + 2 * 3 }}{{ (1 + 2) * 3 }}{{ 10 - 2 - 3 }}{{ 2 ** 3 ** 2 }}"))
                .isEqualTo("12Trueab2779564");
        assertThat(render("{{ x|length if x is defined else 0 }}{{ [1,2,3][1:]|length }}{{ ('a' ~ 'b')|upper }}{{ 'x' + 'y'|upper }}",
                "x", List.of(1, 2))).isEqualTo("22ABxY");
    }

    @Test
    void logicComparisonAndMembership() {
        assertThat(render("{{ 'a' ~ 1 ~ none ~ true }}|{{ [1,2] + [3] }}|{{ 'ab' + 'cd' }}|{{ 1 < 2 < 3 }}|{{ 1 < 3 < 2 }}"
                + "|{{ 'a' in 'abc' }}|{{ 'z' not in ['a'] }}|{{ 'k' in {'k': 1} }}|{{ not true }}|{{ true and 'x' }}"
                + "|{{ false or 'y' }}|{{ none or [] }}"))
                .isEqualTo("a1NoneTrue|[1, 2, 3]|abcd|True|False|True|True|True|False|x|y|[]");
        assertThat(render("{% if a %}1{% elif b %}2{% else %}3{% endif %}{% if not a and not b %}4{% endif %}", "a", 0, "b", ""))
                .isEqualTo("34");
    }

    @Test
    void literalsRenderLikePython() {
        assertThat(render("{{ 'yes' if x else 'no' }}|{{ 'a' if false }}|{{ (1, 2) }}|{{ [1, 'a', none, true, {'k': 1.0}] }}"
                + "|{{ {'a': [1, 2]} }}|{{ 'it\\'s' }}|{{ [\"it's\"] }}|{{ 1 == 1.0 }}|{{ true == 1 }}|{{ [1,2] == [1,2] }}"
                + "|{{ {'a':1} == {'a':1} }}", "x", 1))
                .isEqualTo("yes||(1, 2)|[1, 'a', None, True, {'k': 1.0}]|{'a': [1, 2]}|it's|[\"it's\"]|True|True|True|True");
        assertThat(render("{{ {'a': {'b': 1}} }}|{{ {'a': {'b': 1}}['a'] }}")).isEqualTo("{'a': {'b': 1}}|{'b': 1}");
    }

    @Test
    void slicingAndIndexing() {
        assertThat(render("{{ s[1:] }}|{{ s[::-1] }}|{{ s[-2:] }}|{{ s[1:-1] }}|{{ s[::2] }}|{{ l[1:] }}|{{ l[-1] }}"
                + "|{{ l[:-1] }}|{{ l[5] is defined }}|{{ s[0] }}|{{ '😀ab'[1:] }}|{{ '😀ab'|length }}",
                "s", "hello", "l", List.of(1, 2, 3)))
                .isEqualTo("ello|olleh|lo|ell|hlo|[2, 3]|3|[1, 2]|False|h|ab|3");
    }

    @Test
    void attributeAccessFallsBackToItems() {
        Map<String, Object> m = map("role", "user", "content", "hi");
        assertThat(render("{{ m.content }}|{{ m['content'] }}|{{ m.missing is defined }}|{{ m.items is defined }}"
                + "|{{ m.get('content') }}|{{ m.get('nope', 'dd') }}|{{ m.keys()|list }}|{{ m.values()|list }}"
                + "|{{ m.content.content is defined }}", "m", m))
                .isEqualTo("hi|hi|False|True|hi|dd|['role', 'content']|['user', 'hi']|False");
        assertThat(render("{{ x.y.z is defined }}", "x", map("y", Map.of()))).isEqualTo("False");
    }

    // ---- StringMethods ----
    @Test
    void stripSplitReplace() {
        assertThat(render("{{ ' a b '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'xxaxx'.rstrip('x') }}|{{ 'abc'.startswith('ab') }}"
                + "|{{ 'abc'.endswith(('x','c')) }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}"
                + "|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'aXbX'.replace('X','-') }}"))
                .isEqualTo("a b|axx|xxa|True|True|['a', 'b', '', 'c']|['a', 'b']|['a', 'b,c']|['a,b', 'c']|a-b-");
    }

    @Test
    void caseFindJoinFormat() {
        assertThat(render("{{ 'Ab'.lower() }}{{ 'Ab'.upper() }}|{{ \"they're bill's\".title() }}|{{ 'hELLO'.capitalize() }}"
                + "|{{ 'hello'.find('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.count('l') }}|{{ '-'.join(['a','b']) }}"
                + "|{{ '{} and {}'.format('x', 1) }}|{{ '{name}!'.format(name='n') }}|{{ 'x</think>y'.split('</think>')[-1] }}"))
                .isEqualTo("abAB|They'Re Bill'S|Hello|2|-1|2|a-b|x and 1|n!|y");
    }

    // ---- GlobalsAndErrors ----
    @Test
    void rangeDictNamespaceAndStrftime() {
        assertThat(render("{{ range(3)|list }}|{{ range(1, 7, 2)|list }}|{{ dict(a=1, b='x') }}|{{ namespace(a=1).a }}"
                + "|{{ strftime_now('%d %b %Y|%A %B %H:%M:%S %j %p %I %y %m') }}"))
                .isEqualTo("[0, 1, 2]|[1, 3, 5]|{'a': 1, 'b': 'x'}|1|29 Nov 2026|Sunday November 12:00:00 333 PM 12 26 11");
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        assertThatThrownBy(() -> render("line\n{% if true %}{{ raise_exception('bad input') }}{% endif %}"))
                .isInstanceOfSatisfying(TemplateException.class, e -> {
                    assertThat(e.raisedByTemplate()).isTrue();
                    assertThat(e.templateMessage()).isEqualTo("bad input");
                    assertThat(e.line()).isEqualTo(2);
                });
    }

    @Test
    void runtimeErrorsAreTemplateExceptionsNotRaisedByTemplate() {
        assertThatThrownBy(() -> render("{{ 'a' + 1 }}"))
                .isInstanceOfSatisfying(TemplateException.class, e -> assertThat(e.raisedByTemplate()).isFalse())
                .hasMessageContaining("can only concatenate str (not \"int\") to str");
        assertThatThrownBy(() -> render("{{ undefined_var + 'x' }}")).hasMessageContaining("'undefined_var' is undefined");
        assertThatThrownBy(() -> render("{{ undefined_var.attr }}")).hasMessageContaining("'undefined_var' is undefined");
        assertThatThrownBy(() -> render("{{ 10 / 0 }}")).hasMessageContaining("division by zero");
    }

    @Test
    void sandboxForbidsMutation() {
        List<Object> list = new java.util.ArrayList<>(List.of(1));
        assertThatThrownBy(() -> render("{{ l.append(2) }}", "l", list))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("access to attribute 'append' of 'list' object is unsafe");
        assertThat(list).containsExactly(1);
    }

    @Test
    void syntaxErrorsReportTheLine() {
        assertThatThrownBy(() -> ChatTemplate.compile("a\nb\n{% if x %}never closed"))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("Unexpected end of template");
        assertThatThrownBy(() -> ChatTemplate.compile("a\n\n{% frobnicate %}"))
                .isInstanceOfSatisfying(TemplateException.class, e -> assertThat(e.line()).isEqualTo(3))
                .hasMessageContaining("unknown tag 'frobnicate'");
    }

    // ---- Injection ----
    @Test
    void templateSyntaxInContentIsRenderedLiterally() {
        List<Object> messages = List.of(map("role", "user", "content", "{{ 7*7 }} {% if %} {# c #} {% raw %}"));
        assertThat(render("{{ bos_token }}{{ messages|length }}{% for m in messages %}{{ m.content }}{% endfor %}",
                "messages", messages, "bos_token", "<s>"))
                .isEqualTo("<s>1{{ 7*7 }} {% if %} {# c #} {% raw %}");
    }

    @Test
    void contentPartsArePassedThroughAsLists() {
        List<Object> messages = List.of(
                map("role", "user", "content", List.of(map("type", "text", "text", "A"), map("type", "text", "text", "B"))),
                map("role", "user", "content", "C"));
        assertThat(render("{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}"
                + "{% for p in m.content %}{{ p.text }}{% endfor %}{% endif %}|{% endfor %}", "messages", messages))
                .isEqualTo("AB|C|");
    }
}
