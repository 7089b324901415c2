package io.chorus.bench.serve;

/** Which OpenAI streaming API the benchmark drives. */
public enum Endpoint {
    /** {@code POST /v1/completions}: a raw prompt, tokens arrive in {@code choices[0].text}. */
    COMPLETIONS("/v1/completions"),
    /** {@code POST /v1/chat/completions}: messages, tokens arrive in {@code choices[0].delta.content}. */
    CHAT("/v1/chat/completions");

    public final String path;

    Endpoint(String path) {
        this.path = path;
    }

    /** Accepts the names users type: {@code completions}, {@code chat}, {@code chat-completions}. */
    public static Endpoint parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "completions", "completion", "/v1/completions" -> COMPLETIONS;
            case "chat", "chat-completions", "chat_completions", "/v1/chat/completions" -> CHAT;
            default -> throw new IllegalArgumentException("unknown endpoint '" + s + "' (use completions or chat)");
        };
    }
}
