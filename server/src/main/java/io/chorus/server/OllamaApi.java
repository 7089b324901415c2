package io.chorus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * The model-describing part of Ollama's API over the one served model: {@code /api/tags},
 * {@code /api/ps}, {@code /api/show}, {@code /api/version}, the names Ollama clients may send for
 * it, and Ollama's error shape {@code {"error": "..."}}. Generation is {@link OllamaChat}'s.
 */
final class OllamaApi {
    /**
     * The Ollama release whose API this server speaks: clients read /api/version to decide which
     * features (tools, structured outputs, thinking) they may use, so it names Ollama's numbering,
     * not Chorus's.
     */
    static final String API_VERSION = "0.9.0";
    /** Ollama's tag for a model named without one. */
    private static final String LATEST = ":latest";
    /** The model never unloads (keep_alive is accepted and changes nothing): a far-off expiry says so. */
    private static final String NEVER = "2318-12-31T23:59:59Z";

    /** llama.cpp's {@code general.file_type} numbers and the names Ollama shows as the quantization level. */
    private static final Map<Integer, String> FILE_TYPES = fileTypes();

    private OllamaApi() {}

    /** An error in Ollama's shape: only the message, the status carries the rest. */
    static JsonNode error(ApiError e) {
        return ChorusServer.JSON.createObjectNode().put("error", e.getMessage());
    }

    /** The name listed for the served model: Ollama's {@code name:tag}, with tag "latest" when the served name has none. */
    static String listedName(LoadedModel m) {
        return m.name().contains(":") ? m.name() : m.name() + LATEST;
    }

    /**
     * The request's {@code model} (Ollama's older clients send {@code name}); 400 when absent, 404 in
     * Ollama's words when it names another model. Both the served name and its {@code :latest} form match.
     */
    static String requireModel(JsonNode body, LoadedModel m) {
        String name = Params.string(body, "model");
        if (name == null) name = Params.string(body, "name");
        if (name == null || name.isEmpty()) throw ApiError.badRequest("model is required", "model");
        if (!name.equals(m.name()) && !name.equals(listedName(m))) {
            throw ApiError.notFound("model '" + Params.clip(name) + "' not found", "model_not_found");
        }
        return name;
    }

    static ObjectNode version() {
        return ChorusServer.JSON.createObjectNode().put("version", API_VERSION);
    }

    static ObjectNode tags(LoadedModel m) {
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        ObjectNode e = root.putArray("models").addObject();
        e.put("name", listedName(m));
        e.put("model", listedName(m));
        e.put("modified_at", modifiedAt(m.path()));
        e.put("size", size(m.path()));
        e.put("digest", digest(m));
        e.set("details", details(m));
        return root;
    }

    static ObjectNode ps(LoadedModel m) {
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        ObjectNode e = root.putArray("models").addObject();
        e.put("name", listedName(m));
        e.put("model", listedName(m));
        e.put("size", size(m.path()));
        e.put("digest", digest(m));
        e.set("details", details(m));
        e.put("expires_at", NEVER);
        e.put("size_vram", 0); // weights live in host memory
        e.put("context_length", m.maxModelLen());
        return root;
    }

    /** {@code POST /api/show}: details, the GGUF's scalar metadata as model_info, the chat template, capabilities. */
    static ObjectNode show(LoadedModel m, JsonNode body) {
        requireModel(body, m);
        ObjectNode root = ChorusServer.JSON.createObjectNode();
        root.put("license", "");
        root.put("modelfile", "# Served by Chorus from " + (m.path() != null ? m.path().getFileName() : m.name()) + "\nFROM " + m.name() + "\n");
        root.put("parameters", "");
        root.put("template", m.chatTemplate().source());
        root.set("details", details(m));
        ObjectNode info = root.putObject("model_info");
        GgufFile file = file(m);
        if (file != null) {
            for (Map.Entry<String, Object> kv : new java.util.TreeMap<>(file.metadata()).entrySet()) {
                if (kv.getKey().equals("tokenizer.chat_template")) continue; // it is "template" above
                switch (kv.getValue()) {
                    case String s -> info.put(kv.getKey(), s);
                    case Long l -> info.put(kv.getKey(), l);
                    case Integer i -> info.put(kv.getKey(), i);
                    case Short s -> info.put(kv.getKey(), s);
                    case Byte b -> info.put(kv.getKey(), b);
                    case Float f -> info.put(kv.getKey(), f);
                    case Double d -> info.put(kv.getKey(), d);
                    case Boolean b -> info.put(kv.getKey(), b);
                    default -> { } // arrays (the vocabulary, merges) stay out, as Ollama leaves them out unless verbose
                }
            }
            info.put("general.parameter_count", parameterCount(file));
        }
        info.put("chorus.max_model_len", m.maxModelLen());
        ArrayNode caps = root.putArray("capabilities");
        caps.add("completion");
        if (m.outputParsers().toolParser().isPresent()) caps.add("tools");
        if (m.outputParsers().reasoning() != null) caps.add("thinking");
        root.put("modified_at", modifiedAt(m.path()));
        return root;
    }

    /** Ollama's {@code details}: format, family, parameter size and quantization level. */
    static ObjectNode details(LoadedModel m) {
        ObjectNode d = ChorusServer.JSON.createObjectNode();
        GgufFile file = file(m);
        String family = file != null ? file.getString("general.architecture", "") : "";
        d.put("parent_model", "");
        d.put("format", "gguf");
        d.put("family", family);
        d.putArray("families").add(family);
        d.put("parameter_size", file != null ? parameterSize(parameterCount(file)) : "");
        d.put("quantization_level", file != null ? quantization(file) : "");
        return d;
    }

    private static GgufFile file(LoadedModel m) {
        // A Hugging Face folder has no GGUF metadata: its details stay empty.
        return m.model() != null ? m.model().ggufFile() : null;
    }

    static long parameterCount(GgufFile file) {
        long n = 0;
        for (GgufTensorInfo t : file.tensors().values()) n += t.elements();
        return n;
    }

    /** As Ollama writes it: "494.03M", "7.6B". */
    static String parameterSize(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.2fK", n / 1e3);
        return Long.toString(n);
    }

    /**
     * The file's declared type (Q4_K_M...) where it agrees with the tensors, else the type holding
     * most of the weights: a stale {@code general.file_type} must not misname the file.
     */
    static String quantization(GgufFile file) {
        Map<String, Long> elements = new HashMap<>();
        for (GgufTensorInfo t : file.tensors().values()) {
            if (t.dims().length >= 2) elements.merge(t.typeName(), t.elements(), Long::sum);
        }
        String dominant = elements.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("");
        if (file.has("general.file_type")) {
            String declared = FILE_TYPES.get((int) file.getLong("general.file_type"));
            if (declared != null && declared.startsWith(dominant)) return declared;
        }
        return dominant;
    }

    private static String modifiedAt(Path p) {
        try {
            return p != null ? Files.getLastModifiedTime(p).toInstant().toString() : Instant.EPOCH.toString();
        } catch (IOException e) {
            return Instant.EPOCH.toString();
        }
    }

    private static long size(Path p) {
        try {
            return p != null ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * A stable identity for the served file: sha256 over its name, size and modification time.
     * Ollama's digest hashes the whole blob; reading gigabytes on every listing would cost more than
     * clients gain (they only compare digests for equality).
     */
    static String digest(LoadedModel m) {
        String identity = m.name() + "\n" + (m.path() != null ? m.path().toAbsolutePath() : "") + "\n" + size(m.path()) + "\n" + modifiedAt(m.path());
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<Integer, String> fileTypes() {
        Map<Integer, String> t = new HashMap<>();
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", null, null, null, "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
                "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
                "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M", "BF16"};
        for (int i = 0; i < names.length; i++) if (names[i] != null) t.put(i, names[i]);
        return Map.copyOf(t);
    }
}
