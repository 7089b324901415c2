package io.chorus.bench.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.chorus.json.BoundedJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads and writes result files. Non-finite numbers (an infinite request rate, a latency with no
 * samples) are written as the strings "Infinity" / "NaN", which Jackson reads back as numbers.
 */
public final class ResultJson {
    private static final ObjectMapper JSON = BoundedJson.mapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ResultJson() {}

    public static void write(BenchResult result, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        JSON.writeValue(file.toFile(), result);
    }

    public static String toJson(BenchResult result) throws IOException {
        return JSON.writeValueAsString(result);
    }

    public static BenchResult read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), BenchResult.class);
    }
}
