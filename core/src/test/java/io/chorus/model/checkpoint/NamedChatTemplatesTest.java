package io.chorus.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.SyntheticModel;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The named chat templates of a checkpoint: GGUF's tokenizer.chat_template.NAME keys and tokenizer_config.json's list form. */
class NamedChatTemplatesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void ggufGivesTheDefaultFirstThenEveryNamedKeyInFileOrder(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("named.gguf");
        // as llama.cpp's gguf_writer.add_chat_template writes a list of {name, template}
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.F32, 1, file, w -> w
                .putString("tokenizer.chat_template.tool_use", "T")
                .putString("tokenizer.chat_template.rag", "R")
                .putStrings("tokenizer.chat_templates", new String[] {"tool_use", "rag"})
                .putString("tokenizer.chat_template", "D"));
        try (Checkpoint c = Checkpoints.open(file)) {
            assertThat(c.chatTemplates()).containsExactly(entry("default", "D"), entry("tool_use", "T"), entry("rag", "R"));
            assertThat(c.chatTemplate()).isEqualTo("D");
        }
    }

    @Test
    void ggufWithOnlyTheDefaultHasOneTemplate(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("plain.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.F32, 1, file);
        try (Checkpoint c = Checkpoints.open(file)) {
            assertThat(c.chatTemplates()).containsOnlyKeys("default");
            assertThat(c.chatTemplate()).startsWith("{%- for message in messages %}");
        }
    }

    @Test
    void hfListFormGivesEveryNamedTemplateAndChatTemplateJinjaStaysTheDefault(@TempDir Path tmp) throws IOException {
        ObjectNode tc = copyFolderButTokenizerConfig(tmp);
        ArrayNode list = tc.putArray("chat_template");
        list.addObject().put("name", "tool_use").put("template", "T");
        list.addObject().put("name", "default").put("template", "D");
        list.addObject().put("name", "rag");  // no template: not a template
        JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
        try (Checkpoint c = Checkpoints.open(tmp)) {
            assertThat(c.chatTemplates()).containsExactly(entry("default", "D"), entry("tool_use", "T"));
            assertThat(c.chatTemplate()).isEqualTo("D");
        }
        Files.writeString(tmp.resolve("chat_template.jinja"), "J");
        try (Checkpoint c = Checkpoints.open(tmp)) {
            assertThat(c.chatTemplates()).containsExactly(entry("default", "J"), entry("tool_use", "T"));
        }
        tc.put("chat_template", "S");
        JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
        Files.delete(tmp.resolve("chat_template.jinja"));
        try (Checkpoint c = Checkpoints.open(tmp)) {
            assertThat(c.chatTemplates()).containsExactly(entry("default", "S"));
        }
    }

    @Test
    void hfTemplateFilesOfNewerTransformersComeBeforeTheConfig(@TempDir Path tmp) throws IOException {
        ObjectNode tc = copyFolderButTokenizerConfig(tmp);
        ArrayNode list = tc.putArray("chat_template");
        list.addObject().put("name", "default").put("template", "D");
        list.addObject().put("name", "tool_use").put("template", "T");
        list.addObject().put("name", "summary").put("template", "S");
        JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
        Path extra = Files.createDirectories(tmp.resolve("additional_chat_templates"));
        Files.writeString(extra.resolve("tool_use.jinja"), "TF");
        Files.writeString(extra.resolve("rag.jinja"), "RF");
        Files.writeString(extra.resolve("notes.txt"), "not a template");
        try (Checkpoint c = Checkpoints.open(tmp)) {
            assertThat(c.chatTemplates()).containsExactly(entry("default", "D"), entry("tool_use", "TF"), entry("summary", "S"), entry("rag", "RF"));
        }
        Files.writeString(extra.resolve("default.jinja"), "DF");
        tc.remove("chat_template");
        JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
        try (Checkpoint c = Checkpoints.open(tmp)) {
            assertThat(c.chatTemplates()).containsExactly(entry("default", "DF"), entry("rag", "RF"), entry("tool_use", "TF"));
        }
    }

    /** The llama-bf16 fixture folder copied into tmp, except tokenizer_config.json, which is returned for the test to change and write. */
    private static ObjectNode copyFolderButTokenizerConfig(Path tmp) throws IOException {
        Path src = Fixtures.require("hf/llama-bf16");
        for (String f : new String[] {"config.json", "tokenizer.json", "generation_config.json", "model.safetensors"}) Files.copy(src.resolve(f), tmp.resolve(f));
        return (ObjectNode) JSON.readTree(src.resolve("tokenizer_config.json").toFile());
    }
}
