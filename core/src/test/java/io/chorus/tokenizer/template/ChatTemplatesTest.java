package io.chorus.tokenizer.template;

import static io.chorus.tokenizer.template.ChatTemplateTest.map;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatTemplatesTest {
    @Test
    void chatmlRendersConversationAndGenerationPrompt() {
        List<Object> messages = List.of(map("role", "system", "content", "Be brief."), map("role", "user", "content", "Hi {{x}}"));
        String out = ChatTemplate.compile(ChatTemplates.CHATML)
                .render(Map.of("messages", messages, "add_generation_prompt", true));
        assertThat(out).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi {{x}}<|im_end|>\n"
                + "<|im_start|>assistant\n");
    }

    @Test
    void flattenTextContentJoinsTextPartsAndKeepsOtherFields() {
        List<Map<String, Object>> messages = List.of(
                map("role", "user", "content", List.of(map("type", "text", "text", "a"),
                        map("type", "image_url", "image_url", map("url", "x")), map("type", "text", "text", "b"))),
                map("role", "assistant", "content", "plain", "name", "bot"));
        List<Map<String, Object>> flat = ChatTemplates.flattenTextContent(messages, "\n");
        assertThat(flat).containsExactly(map("role", "user", "content", "a\nb"),
                map("role", "assistant", "content", "plain", "name", "bot"));
        assertThat(messages.get(0).get("content")).isInstanceOf(List.class);
    }
}
