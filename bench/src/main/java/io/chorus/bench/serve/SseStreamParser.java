package io.chorus.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.util.Arrays;

/**
 * Reads one OpenAI-style server-sent-event stream line by line, each line stamped with its arrival
 * time, and decides what the request produced. Only standard OpenAI fields are read, so the same
 * parser works for Chorus, vLLM, llama.cpp's server and Ollama's /v1.
 *
 * <p>A stream is a success only if it carried a finish_reason and ended with {@code data: [DONE]}
 * and no error object: a stream cut short is a failure, never a short success.
 */
public final class SseStreamParser {
    private static final ObjectMapper JSON = BoundedJson.mapper();

    private final Endpoint endpoint;
    private final long startNs;
    private final int expectedPromptTokens;
    private long[] chunkNs = new long[64];
    private int chunks;
    private boolean done;
    private long doneNs;
    private boolean finished;
    private String error;
    private int usagePrompt = -1;
    private int usageCompletion = -1;

    public SseStreamParser(Endpoint endpoint, long startNs, int expectedPromptTokens) {
        this.endpoint = endpoint;
        this.startNs = startNs;
        this.expectedPromptTokens = expectedPromptTokens;
    }

    /** True once the stream said [DONE]: the caller can stop reading. */
    public boolean done() {
        return done;
    }

    /** Feeds one line of the response body, received at {@code nowNs}. */
    public void accept(String line, long nowNs) {
        if (done || line.isEmpty() || line.startsWith(":")) return; // blank separators and SSE comments
        if (line.startsWith("error:")) { // llama.cpp reports some failures as an "error:" field
            fail(line.substring(6).trim());
            return;
        }
        if (!line.startsWith("data:")) return; // "event:", "id:", "retry:" carry nothing we need
        String data = line.substring(5).trim();
        if (data.equals("[DONE]")) {
            done = true;
            doneNs = nowNs;
            return;
        }
        JsonNode node;
        try {
            node = JSON.readTree(data);
        } catch (Exception e) {
            fail("unparseable chunk: " + abbreviate(data));
            return;
        }
        if (node.hasNonNull("error")) {
            JsonNode err = node.get("error");
            fail(err.isObject() && err.hasNonNull("message") ? err.get("message").asText() : err.toString());
            return;
        }
        JsonNode choices = node.path("choices");
        if (choices.isArray() && !choices.isEmpty()) {
            JsonNode choice = choices.get(0);
            JsonNode fr = choice.get("finish_reason");
            boolean finishes = fr != null && !fr.isNull();
            if (!textOf(choice).isEmpty() || (!finishes && carriesToken(choice))) recordChunk(nowNs);
            if (finishes) finished = true;
        }
        JsonNode usage = node.get("usage");
        if (usage != null && usage.isObject()) { // the last usage seen wins (some servers send it on every chunk)
            if (usage.hasNonNull("completion_tokens")) usageCompletion = usage.get("completion_tokens").asInt();
            if (usage.hasNonNull("prompt_tokens")) usagePrompt = usage.get("prompt_tokens").asInt();
        }
    }

    private String textOf(JsonNode choice) {
        if (endpoint == Endpoint.COMPLETIONS) return choice.path("text").asText("");
        JsonNode delta = choice.path("delta");
        // Reasoning models stream their thinking in a separate field; it is generated output all the same.
        String s = delta.path("content").asText("");
        if (s.isEmpty()) s = delta.path("reasoning_content").asText("");
        if (s.isEmpty()) s = delta.path("reasoning").asText("");
        return s;
    }

    /**
     * A chunk with empty text can still carry a token (a special token, or the first bytes of a
     * character split across tokens), as vLLM's benchmark also counts; what does not count is a
     * chat chunk that only announces the role, or a chunk that only carries the finish reason.
     */
    private boolean carriesToken(JsonNode choice) {
        if (endpoint == Endpoint.COMPLETIONS) return choice.has("text");
        JsonNode delta = choice.path("delta");
        return delta.has("content") && !delta.has("role");
    }

    private void recordChunk(long nowNs) {
        if (chunks == chunkNs.length) chunkNs = Arrays.copyOf(chunkNs, chunks * 2);
        chunkNs[chunks++] = nowNs;
    }

    private void fail(String message) {
        if (error == null) error = message;
    }

    /** The outcome once the body has ended (or was abandoned) at {@code endNs}; a finished stream ends at its [DONE]. */
    public RequestOutcome finish(long endNs) {
        if (done) endNs = doneNs;
        if (error != null) return RequestOutcome.failure(startNs, endNs, "stream error: " + error);
        if (!done) return RequestOutcome.failure(startNs, endNs, "stream ended without [DONE]");
        if (!finished) return RequestOutcome.failure(startNs, endNs, "stream ended without a finish_reason");
        boolean usage = usageCompletion >= 0;
        int output = usage ? usageCompletion : chunks;
        int prompt = usagePrompt >= 0 ? usagePrompt : expectedPromptTokens;
        return RequestOutcome.success(startNs, Arrays.copyOf(chunkNs, chunks), endNs, prompt, output, usage);
    }

    static String abbreviate(String s) {
        s = s.replaceAll("\\s+", " ").trim();
        return s.length() <= 160 ? s : s.substring(0, 157) + "...";
    }
}
