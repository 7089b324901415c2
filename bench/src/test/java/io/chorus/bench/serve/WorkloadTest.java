package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadTest {
    private static int words(String s) {
        return s.split(" ").length;
    }

    @Test
    void randomLengthsStayInRange() {
        List<BenchRequest> rs = Workload.random(200, 100, 50, 0.5, 0, 1.0, 3, 0);
        for (BenchRequest r : rs) {
            assertThat(words(r.prompt())).isBetween(50, 150).isEqualTo(r.expectedInputTokens());
            assertThat(r.maxTokens()).isBetween(25, 75);
        }
        assertThat(rs.stream().mapToInt(BenchRequest::maxTokens).distinct().count()).isGreaterThan(20);
    }

    @Test
    void sharedPrefixAndPerLevelWords() {
        List<BenchRequest> a = Workload.random(5, 20, 8, 0, 32, 1.0, 1, 0);
        List<BenchRequest> b = Workload.random(5, 20, 8, 0, 32, 1.0, 1, 1);
        String prefix = String.join(" ", List.of(a.get(0).prompt().split(" ")).subList(0, 32));
        for (BenchRequest r : a) {
            assertThat(r.prompt()).startsWith(prefix);
            assertThat(words(r.prompt())).isEqualTo(52);
            assertThat(r.expectedInputTokens()).isEqualTo(52);
        }
        assertThat(b.get(0).prompt()).startsWith(prefix).isNotEqualTo(a.get(0).prompt());
        assertThat(a).isEqualTo(Workload.random(5, 20, 8, 0, 32, 1.0, 1, 0)); // seeded
    }

    @Test
    void calibrationScalesWordCount() {
        assertThat(words(Workload.random(1, 100, 8, 0, 0, 1.25, 1, 0).get(0).prompt())).isEqualTo(80);
    }

    @Test
    void datasetOfPromptsAndConversations(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("d.jsonl");
        Files.writeString(f, """
                {"prompt": "Tell me a story about a cat."}

                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 9}
                """);
        List<BenchRequest> rs = Workload.fromDataset(f, 5, 32);
        assertThat(rs).hasSize(5);
        assertThat(rs.get(0).prompt()).isEqualTo("Tell me a story about a cat.");
        assertThat(rs.get(0).maxTokens()).isEqualTo(32);
        assertThat(rs.get(0).asMessages()).containsExactly(java.util.Map.of("role", "user", "content", "Tell me a story about a cat."));
        assertThat(rs.get(1).messages()).hasSize(2);
        assertThat(rs.get(1).maxTokens()).isEqualTo(9);
        assertThat(rs.get(1).asPrompt()).isEqualTo("Be brief.\n\nHi");
        assertThat(rs.get(2)).isEqualTo(rs.get(0)); // cycles

        Files.writeString(f, "{\"text\": \"x\"}\n");
        assertThatThrownBy(() -> Workload.fromDataset(f, 1, 1)).hasMessageContaining("prompt");
    }
}
