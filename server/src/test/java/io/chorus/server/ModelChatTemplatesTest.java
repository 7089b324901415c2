package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.Checkpoints;
import io.chorus.tokenizer.Tokenizer;
import io.chorus.tools.SyntaxToolCallParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which template a request renders with: tool_use for tools when the model has it, else the default; --chat-template over both. */
class ModelChatTemplatesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void hfListFormRendersToolRequestsThroughToolUseAsTransformersDoes(@TempDir Path tmp) throws IOException {
        Path toolUse = TemplateFixtures.require(NamedChatTemplatesServeTest.HERMES);
        Path src = HfFolderServeTest.folder("llama-bf16");
        for (String f : new String[] {"config.json", "tokenizer.json", "model.safetensors"}) Files.copy(src.resolve(f), tmp.resolve(f));
        ObjectNode tc = (ObjectNode) JSON.readTree(src.resolve("tokenizer_config.json").toFile());
        ArrayNode list = tc.putArray("chat_template");
        list.addObject().put("name", "default").put("template", NamedChatTemplatesServeTest.CHATML);
        list.addObject().put("name", "tool_use").put("template", Files.readString(toolUse));
        JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
        JsonNode c = null;
        for (JsonNode x : JSON.readTree(toolUse.resolveSibling("cases.json").toFile())) {
            if (x.get("template_file").asText().equals(NamedChatTemplatesServeTest.HERMES + ".jinja") && x.get("case").asText().equals("b_system_multiturn")) c = x;
        }
        assertThat(c).isNotNull();
        try (Checkpoint ck = Checkpoints.open(tmp)) {
            ModelChatTemplates t = ModelChatTemplates.resolve(null, ck.chatTemplates());
            Map<String, Object> vars = new HashMap<>();
            vars.put("messages", JSON.convertValue(c.get("messages"), List.class));
            vars.put("tools", JSON.convertValue(c.get("tools"), List.class));
            vars.put("add_generation_prompt", c.get("add_generation_prompt").asBoolean());
            vars.put("bos_token", c.get("bos_token").asText());
            vars.put("eos_token", c.get("eos_token").asText());
            assertThat(t.forRequest(true).render(vars)).isEqualTo(c.get("expected").asText());
            assertThat(t.forRequest(false).source()).isEqualTo(NamedChatTemplatesServeTest.CHATML);
            // the default never shows <tool_call>: the parser comes from the template that renders the tools
            OutputParsers parsers = OutputParsers.resolve(null, null, t, Tokenizer.of(ck));
            assertThat(parsers.tools()).isSameAs(SyntaxToolCallParser.HERMES);
        }
    }

    @Test
    void chatTemplateFileOverridesBothAndAModelWithoutToolUseUsesItsDefault(@TempDir Path tmp) throws IOException {
        Map<String, String> named = new LinkedHashMap<>();
        named.put("default", "D{{ messages | length }}");
        named.put("tool_use", "T{{ tools | length }}");
        ModelChatTemplates model = ModelChatTemplates.resolve(null, named);
        Map<String, Object> vars = Map.of("messages", List.of(), "tools", List.of(1, 2));
        assertThat(model.forRequest(true).render(vars)).isEqualTo("T2");
        assertThat(model.forRequest(false).render(vars)).isEqualTo("D0");

        Path file = tmp.resolve("o.jinja");
        Files.writeString(file, "O");
        ModelChatTemplates overridden = ModelChatTemplates.resolve(file, named);
        assertThat(overridden.toolUse()).isNull();
        assertThat(overridden.forRequest(true).render(vars)).isEqualTo("O");

        named.remove("tool_use");
        ModelChatTemplates plain = ModelChatTemplates.resolve(null, named);
        assertThat(plain.forRequest(true).render(vars)).isEqualTo("D0");
    }

    @Test
    void aToolUseTemplateThatDoesNotCompileIsLeftOutAndNoTemplatesMeansChatMl() {
        ModelChatTemplates t = ModelChatTemplates.resolve(null, Map.of("default", "D", "tool_use", "{% if %}"));
        assertThat(t.toolUse()).isNull();
        assertThat(t.forRequest(true).source()).isEqualTo("D");
        assertThat(ModelChatTemplates.resolve(null, Map.of()).forRequest(true).source()).isEqualTo(io.chorus.tokenizer.template.ChatTemplates.CHATML);
    }

    @Test
    void aModelWithOnlyAToolUseTemplateRendersEveryRequestWithIt() {
        ModelChatTemplates t = ModelChatTemplates.resolve(null, Map.of("tool_use", "T{{ tools | length }}"));
        Map<String, Object> vars = Map.of("messages", List.of(), "tools", List.of(1, 2));
        assertThat(t.forRequest(true).render(vars)).isEqualTo("T2");
        assertThat(t.forRequest(false).render(vars)).isEqualTo("T2");
        ModelChatTemplates broken = ModelChatTemplates.resolve(null, Map.of("tool_use", "{% if %}"));
        assertThat(broken.forRequest(false).source()).isEqualTo(io.chorus.tokenizer.template.ChatTemplates.CHATML);
    }
}
