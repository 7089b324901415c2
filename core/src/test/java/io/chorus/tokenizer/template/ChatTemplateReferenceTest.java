package io.chorus.tokenizer.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Renders every case of shared/fixtures/templates/cases.json (produced with transformers + jinja2). */
class ChatTemplateReferenceTest {
    static final Clock FIXED = Clock.fixed(LocalDateTime.of(2026, 11, 29, 12, 0).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

    private static List<Map<String, Object>> cases() throws Exception {
        Path file = Fixtures.require("templates/cases.json");
        return new ObjectMapper().readValue(file.toFile(), new TypeReference<>() {});
    }

    @Test
    void fixtureHasAllCases() throws Exception {
        List<Map<String, Object>> cases = cases();
        assertThat(cases).hasSize(34);
        assertThat(cases.stream().filter(c -> c.containsKey("error"))).hasSize(1);
    }

    @TestFactory
    Stream<DynamicTest> rendersLikeTransformers() throws Exception {
        Path dir = Fixtures.require("templates");
        Map<String, ChatTemplate> compiled = new HashMap<>();
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.get("template_file") + " " + c.get("case"), () -> {
            String file = (String) c.get("template_file");
            ChatTemplate template = compiled.computeIfAbsent(file, f -> compile(dir.resolve(f)));
            Map<String, Object> vars = new HashMap<>();
            vars.put("messages", c.get("messages"));
            vars.put("tools", c.get("tools"));
            vars.put("documents", null);
            vars.put("add_generation_prompt", c.get("add_generation_prompt"));
            if (c.get("bos_token") != null) vars.put("bos_token", c.get("bos_token"));
            if (c.get("eos_token") != null) vars.put("eos_token", c.get("eos_token"));
            if (c.containsKey("error")) {
                String expected = ((String) c.get("error")).replaceFirst("^TemplateError: ", "");
                assertThatThrownBy(() -> template.render(vars, FIXED))
                        .isInstanceOfSatisfying(TemplateException.class, e -> {
                            assertThat(e.raisedByTemplate()).isTrue();
                            assertThat(e.templateMessage()).isEqualTo(expected);
                        });
            } else {
                assertThat(template.render(vars, FIXED)).isEqualTo((String) c.get("expected"));
            }
        }));
    }

    private static ChatTemplate compile(Path path) {
        try {
            return ChatTemplate.compile(Files.readString(path));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
