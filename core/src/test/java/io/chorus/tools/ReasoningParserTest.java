package io.chorus.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.testing.Fixtures;
import io.chorus.tokenizer.template.ChatTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReasoningParserTest {
    private static final ReasoningParser R1 = ReasoningParser.byName("deepseek_r1");

    /** Whole, and streamed split at every position: the same parts. */
    private static ParsedOutput parseEveryWay(String output, boolean startsInside, ToolCallParser tools) {
        ParsedOutput whole = ChatOutputParser.parse(output, R1, startsInside, tools, new Random(3));
        for (int k = 0; k <= output.length(); k++) {
            ParsedOutput.Collector c = new ParsedOutput.Collector();
            ChatOutputParser p = new ChatOutputParser(R1, startsInside, tools, true, new Random(3));
            p.push(output.substring(0, k), c);
            p.push(output.substring(k), c);
            p.finish(c);
            assertThat(c.result()).as("split at %d", k).isEqualTo(whole);
        }
        return whole;
    }

    @Test
    void thePromptOfTheR1DistillTemplateOpensTheBlock() throws IOException {
        ChatTemplate t = ChatTemplate.compile(Files.readString(Fixtures.require("templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")));
        String prompt = t.render(Map.of("messages", List.of(Map.of("role", "user", "content", "2+2?")), "add_generation_prompt", true,
                "bos_token", "<｜begin▁of▁sentence｜>", "eos_token", "<｜end▁of▁sentence｜>"));
        assertThat(ReasoningParser.promptOpensReasoning(prompt)).isTrue();
        assertThat(ReasoningParser.promptOpensReasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n")).isFalse();
        assertThat(parseEveryWay("Two plus two.\n</think>\n\nIt is 4.", true, null))
                .isEqualTo(new ParsedOutput("Two plus two.\n", "It is 4.", List.of()));
    }

    @Test
    void anOpeningTagInTheOutputStartsTheBlockAndNoTagMeansAllContent() {
        assertThat(parseEveryWay("<think>\nhm\n</think>\n\nAnswer <think> stays", false, null))
                .isEqualTo(new ParsedOutput("\nhm\n", "Answer <think> stays", List.of()));
        assertThat(parseEveryWay("  Just an answer.", false, null)).isEqualTo(new ParsedOutput(null, "  Just an answer.", List.of()));
        assertThat(parseEveryWay("<think>x</think>", true, null)).isEqualTo(new ParsedOutput("x", "", List.of()));
    }

    @Test
    void aBlockCutShortIsAllReasoning() {
        assertThat(parseEveryWay("still thinking </thi", true, null)).isEqualTo(new ParsedOutput("still thinking </thi", "", List.of()));
    }

    @Test
    void toolCallsAreReadFromTheTextAfterTheBlockOnly() {
        String out = "<think>I could write <tool_call> here</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call>";
        ParsedOutput p = parseEveryWay(out, false, ToolCallParsers.byName("hermes"));
        assertThat(p.reasoning()).isEqualTo("I could write <tool_call> here");
        assertThat(p.content()).isNull();
        assertThat(p.calls()).extracting(ToolCall::name, ToolCall::arguments).containsExactly(org.assertj.core.groups.Tuple.tuple("f", "{\"a\": 1}"));
    }
}
