package io.chorus.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Measures how many tokens one word of our random prompt text is, using the server's
 * {@code POST /tokenize} (Chorus and vLLM take {@code prompt}, llama.cpp's server takes
 * {@code content}; both are sent). Servers without it (Ollama) leave the 1 token a word estimate.
 */
public final class TokenCalibrator {
    private static final ObjectMapper JSON = BoundedJson.mapper();
    private static final int SAMPLE_WORDS = 1000;

    private TokenCalibrator() {}

    /** Tokens per word, or empty-handed 1.0 with a reason when the server cannot tell. */
    public record Calibration(double tokensPerWord, String note) {}

    public static Calibration calibrate(HttpClient http, String root, String model, String apiKey) {
        String text = Workload.randomText(new SplittableRandom(42), SAMPLE_WORDS);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("prompt", text);
        body.put("content", text);
        body.put("add_special_tokens", false);
        try {
            HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(root + "/tokenize"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            if (apiKey != null) rb.header("Authorization", "Bearer " + apiKey);
            HttpResponse<String> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return new Calibration(1.0, "/tokenize answered HTTP " + r.statusCode() + "; assuming 1 token a word");
            JsonNode n = JSON.readTree(r.body());
            int count = n.hasNonNull("count") ? n.get("count").asInt() : n.path("tokens").size();
            if (count <= 0) return new Calibration(1.0, "/tokenize returned no tokens; assuming 1 token a word");
            double tpw = (double) count / SAMPLE_WORDS;
            return new Calibration(tpw, String.format("/tokenize: %.3f tokens a word", tpw));
        } catch (Exception e) {
            return new Calibration(1.0, "/tokenize unavailable (" + e.getMessage() + "); assuming 1 token a word");
        }
    }
}
