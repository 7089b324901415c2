package io.chorus.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Asks {@code GET /v1/models} which model a server serves, so {@code --model} can be left out. */
public final class ServerModels {
    private ServerModels() {}

    public static String firstModel(String baseUrl, String apiKey) {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(StreamingClient.root(baseUrl) + "/v1/models"))
                    .timeout(Duration.ofSeconds(30)).GET();
            if (apiKey != null) rb.header("Authorization", "Bearer " + apiKey);
            HttpResponse<String> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException("GET /v1/models answered HTTP " + r.statusCode() + "; pass --model");
            JsonNode data = BoundedJson.mapper().readTree(r.body()).path("data");
            if (!data.isArray() || data.isEmpty()) throw new IllegalStateException("the server lists no models; pass --model");
            return data.get(0).path("id").asText();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot reach " + baseUrl + " (" + e.getMessage() + "); is the server running?", e);
        }
    }
}
