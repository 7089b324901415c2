package io.chorus.bench.serve;

import java.util.List;
import java.util.Map;

/**
 * One request of a workload: either a raw prompt or chat messages (never both), the number of
 * prompt tokens we expect (an estimate; the server's {@code usage} replaces it when present) and
 * the output length asked for with {@code max_tokens}.
 */
public record BenchRequest(String prompt, List<Map<String, Object>> messages, int expectedInputTokens, int maxTokens) {

    public static BenchRequest ofPrompt(String prompt, int expectedInputTokens, int maxTokens) {
        return new BenchRequest(prompt, null, expectedInputTokens, maxTokens);
    }

    public static BenchRequest ofMessages(List<Map<String, Object>> messages, int expectedInputTokens, int maxTokens) {
        return new BenchRequest(null, messages, expectedInputTokens, maxTokens);
    }

    /** The messages to send to the chat endpoint: a prompt becomes one user message. */
    public List<Map<String, Object>> asMessages() {
        return messages != null ? messages : List.of(Map.of("role", "user", "content", prompt));
    }

    /** The text to send to the completions endpoint: chat messages are joined by blank lines (no template). */
    public String asPrompt() {
        if (prompt != null) return prompt;
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) {
            if (!sb.isEmpty()) sb.append("\n\n");
            sb.append(String.valueOf(m.getOrDefault("content", "")));
        }
        return sb.toString();
    }
}
