package io.chorus.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.model.ModelConfig;
import io.chorus.model.UnsupportedModelException;
import io.chorus.tensor.AwqMatrix;
import io.chorus.tensor.Fp8Matrix;
import io.chorus.tensor.GptqMatrix;
import io.chorus.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face model folder as vLLM loads it: config.json, tokenizer files, and the weights in one
 * model.safetensors or in shards listed by model.safetensors.index.json. Every shard is mapped, never
 * copied. The model asks for GGUF role names; {@link HfNames} translates them. Q and k stay in the
 * trained layout (rope rotates halves); quantized linear layers (FP8, AWQ, GPTQ, per
 * config.json's quantization_config) become their own matrix types over the mapped tensors.
 */
public final class HfCheckpoint implements Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Located(SafetensorsFile file, SafetensorsFile.Entry entry) {}

    private final Path dir;
    private final List<SafetensorsFile> shards;
    private final Map<String, Located> tensors;
    private final HfConfig config;
    private final Arena derived = Arena.ofShared(); // tensors made here (rope_freqs), freed on close
    private final TensorData ropeFreqs;
    private final long weightBytes;
    private final GenerationDefaults generationDefaults;

    private HfCheckpoint(Path dir, List<SafetensorsFile> shards, Map<String, Located> tensors, JsonNode configJson) {
        this.dir = dir;
        this.shards = shards;
        this.tensors = tensors;
        String configFile = dir.resolve("config.json").toString();
        Located embd = tensors.get("model.embed_tokens.weight");
        if (embd == null) throw new CheckpointException(dir + ": tensor model.embed_tokens.weight is missing");
        if (embd.entry.shape().length != 2) throw new CheckpointException(dir + ": model.embed_tokens.weight is not a matrix");
        boolean tied = !tensors.containsKey("lm_head.weight") && !tensors.containsKey("lm_head.qweight");
        String name = dir.toAbsolutePath().normalize().getFileName() == null ? dir.toString() : dir.toAbsolutePath().normalize().getFileName().toString();
        this.config = HfConfig.parse(configJson, configFile, name, (int) embd.entry.shape()[0], tied);
        long bytes = 0;
        for (Located l : tensors.values()) bytes += l.entry.end() - l.entry.begin();
        this.weightBytes = bytes;
        this.generationDefaults = GenerationDefaults.read(readJson(dir.resolve("generation_config.json"), false));
        float[] f = config.ropeFactors();
        if (f != null) {
            MemorySegment seg = derived.allocate(4L * f.length);
            for (int i = 0; i < f.length; i++) seg.setAtIndex(F32, i, f[i]);
            ropeFreqs = new TensorData("rope_scaling (config.json)", io.chorus.tensor.GgmlType.F32, "F32", new long[] {f.length}, seg);
        } else {
            ropeFreqs = null;
        }
    }

    /** Opens the folder: parses config.json and maps every safetensors shard. */
    public static HfCheckpoint open(Path dir) {
        JsonNode config = readJson(dir.resolve("config.json"), true);
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            Map<String, Located> tensors = new LinkedHashMap<>();
            Path index = dir.resolve("model.safetensors.index.json");
            if (Files.isRegularFile(index)) {
                JsonNode map = readJson(index, true).get("weight_map");
                if (map == null || !map.isObject()) throw new CheckpointException(index + ": no weight_map object");
                Map<String, SafetensorsFile> byFile = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String shardName = e.getValue().asText();
                    Path shardPath = dir.resolve(shardName).normalize();
                    if (!shardPath.startsWith(dir.normalize())) throw new CheckpointException(index + ": shard " + shardName + " is outside the folder");
                    SafetensorsFile shard = byFile.get(shardName);
                    if (shard == null) {
                        shard = SafetensorsFile.open(shardPath);
                        byFile.put(shardName, shard);
                        shards.add(shard);
                    }
                    SafetensorsFile.Entry entry = shard.entry(e.getKey());
                    if (entry == null) throw new CheckpointException(shardPath + ": tensor " + e.getKey() + " listed in " + index.getFileName() + " is missing");
                    tensors.put(e.getKey(), new Located(shard, entry));
                }
            } else if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"));
                shards.add(f);
                for (SafetensorsFile.Entry e : f.entries().values()) tensors.put(e.name(), new Located(f, e));
            } else {
                throw new CheckpointException(dir + ": neither model.safetensors nor model.safetensors.index.json is there"
                        + " (Chorus reads Hugging Face folders with safetensors weights, or GGUF files)");
            }
            return new HfCheckpoint(dir, shards, tensors, config);
        } catch (RuntimeException e) {
            for (SafetensorsFile s : shards) s.close();
            throw e;
        }
    }

    /** Reads a JSON file of the folder; null when it is absent and not required. */
    public static JsonNode readJson(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) throw new CheckpointException(file + ": no such file" + (file.getFileName().toString().equals("config.json")
                    ? " (a Hugging Face model folder needs config.json)" : ""));
            return null;
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
    }

    /** The folder's quantization settings, or null for float weights. */
    public HfQuantization quantization() { return config.quantization(); }
    /** The mapped shard files. */
    public List<SafetensorsFile> shards() { return shards; }

    @Override public Path path() { return dir; }
    @Override public ModelConfig config() { return config.model(); }
    @Override public long weightBytes() { return weightBytes; }
    @Override public boolean rotateHalfRope() { return true; }

    /**
     * tokenizer_config.json's {@code chat_template}: one string (the default), or transformers' list of
     * {@code {name, template}}. Newer transformers save templates as files instead, and read them
     * first: {@code chat_template.jinja} is the default and {@code additional_chat_templates/NAME.jinja}
     * the named ones (in name order), whatever the config holds.
     */
    @Override
    public Map<String, String> chatTemplates() {
        Map<String, String> out = new LinkedHashMap<>();
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) out.put(DEFAULT_TEMPLATE, readTemplate(jinja));
        Map<String, String> files = new TreeMap<>();
        Path extra = dir.resolve("additional_chat_templates");
        if (Files.isDirectory(extra)) {
            try (var list = Files.list(extra)) {
                for (Path f : (Iterable<Path>) list::iterator) {
                    String n = f.getFileName().toString();
                    if (n.endsWith(".jinja") && n.length() > 6 && Files.isRegularFile(f)) files.put(n.substring(0, n.length() - 6), readTemplate(f));
                }
            } catch (IOException e) {
                throw new CheckpointException(extra + ": cannot list: " + e.getMessage(), e);
            }
        }
        String fileDefault = files.remove(DEFAULT_TEMPLATE);
        if (fileDefault != null) out.putIfAbsent(DEFAULT_TEMPLATE, fileDefault);
        JsonNode tc = readJson(dir.resolve("tokenizer_config.json"), false);
        JsonNode t = tc == null ? null : tc.get("chat_template");
        Map<String, String> named = new LinkedHashMap<>(); // the config's named templates, in its order
        if (t != null && t.isTextual()) {
            out.putIfAbsent(DEFAULT_TEMPLATE, t.asText());
        } else if (t != null && t.isArray()) {
            for (JsonNode n : t) {
                if (n.path("name").isTextual() && n.path("template").isTextual()) named.putIfAbsent(n.get("name").asText(), n.get("template").asText());
            }
            String d = named.remove(DEFAULT_TEMPLATE);
            if (d != null) out.putIfAbsent(DEFAULT_TEMPLATE, d);
        }
        named.putAll(files); // a file replaces the config's template of its name, in place
        out.putAll(named);
        return out;
    }

    private static String readTemplate(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new CheckpointException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public GenerationDefaults generationDefaults() { return generationDefaults; }

    @Override
    public TensorData tensor(String role) {
        if (role.equals("rope_freqs.weight")) return ropeFreqs;
        String name = HfNames.of(role, config.model().arch());
        return name == null ? null : raw(name);
    }

    /** A tensor by its own (Hugging Face) name, or null. */
    public TensorData raw(String name) {
        Located l = tensors.get(name);
        if (l == null) return null;
        SafetensorsFile.Entry e = l.entry;
        long[] dims = new long[e.shape().length];
        for (int i = 0; i < dims.length; i++) dims[i] = e.shape()[dims.length - 1 - i];
        return new TensorData(name, SafetensorsFile.ggmlType(e.dtype()), e.dtype(), dims, e.data());
    }

    @Override
    public WeightMatrix matrix(String role, int rows, int cols) {
        String name = HfNames.of(role, config.model().arch());
        if (name == null || !name.endsWith(".weight")) throw invalid("no Hugging Face tensor for " + role);
        String module = name.substring(0, name.length() - ".weight".length());
        HfQuantization q = config.quantization();
        try {
            if (tensors.containsKey(module + ".qweight")) {
                if (q instanceof HfQuantization.Awq awq) return awq(module, rows, cols, awq);
                if (q instanceof HfQuantization.Gptq gptq) return gptq(module, rows, cols, gptq);
                throw new UnsupportedModelException(dir + ": " + module + ".qweight is packed 4-bit but config.json names "
                        + (q == null ? "no quantization_config" : "quant_method " + q.getClass().getSimpleName().toLowerCase()));
            }
            TensorData t = raw(name);
            if (t != null && "F8_E4M3".equals(t.typeName())) return fp8(module, t, rows, cols);
            return Matrices.plain(this, t, role + " (" + name + ")", rows, cols);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(dir + ": " + e.getMessage());
        }
    }

    private WeightMatrix fp8(String module, TensorData w, int rows, int cols) {
        if (!w.isMatrix(rows, cols)) throw invalid("tensor " + w.name() + " has shape " + w.shape() + ", expected [" + cols + ", " + rows + "]");
        TensorData s = need(module + ".weight_scale");
        if (s.elements() != 1 && s.elements() != rows) {
            throw invalid("tensor " + s.name() + " has " + s.elements() + " values; expected 1 (per tensor) or " + rows + " (per output channel)");
        }
        return new Fp8Matrix(w.name(), w.data(), floats(s), rows, cols);
    }

    private WeightMatrix awq(String module, int rows, int cols, HfQuantization.Awq awq) {
        int groups = cols / awq.groupSize();
        expect(need(module + ".qweight"), "I32", rows / 8, cols);
        expect(need(module + ".qzeros"), "I32", rows / 8, groups);
        expect(need(module + ".scales"), "F16", rows, groups);
        return new AwqMatrix(module, need(module + ".qweight").data(), need(module + ".qzeros").data(), need(module + ".scales").data(),
                rows, cols, awq.groupSize());
    }

    private WeightMatrix gptq(String module, int rows, int cols, HfQuantization.Gptq gptq) {
        int groups = gptq.groupSize() >= cols ? 1 : cols / gptq.groupSize();
        TensorData qweight = need(module + ".qweight"), qzeros = need(module + ".qzeros"), scales = need(module + ".scales");
        expect(qweight, "I32", rows, cols / 8);
        expect(qzeros, "I32", rows / 8, groups);
        expect(scales, "F16", rows, groups);
        int[] groupOf = new int[cols];
        TensorData gIdx = raw(module + ".g_idx");
        if (gIdx != null) {
            if (!gIdx.typeName().equals("I32") || gIdx.elements() != cols) throw invalid("tensor " + gIdx.name() + " must be I32 [" + cols + "], is " + gIdx.typeName() + " " + gIdx.shape());
            for (int i = 0; i < cols; i++) groupOf[i] = gIdx.data().getAtIndex(I32, i);
        } else {
            if (gptq.descAct()) throw invalid("tensor " + module + ".g_idx is missing, and desc_act is true");
            for (int i = 0; i < cols; i++) groupOf[i] = groups == 1 ? 0 : i / gptq.groupSize();
        }
        return new GptqMatrix(module, qweight.data(), qzeros.data(), scales.data(), groupOf, groups, rows, cols, gptq.zeroOffset());
    }

    private TensorData need(String name) {
        TensorData t = raw(name);
        if (t == null) throw invalid("tensor " + name + " is missing");
        return t;
    }

    /** Checks a torch-shaped [outer][inner] tensor given as dims {inner, outer}. */
    private void expect(TensorData t, String dtype, long inner, long outer) {
        if (!t.typeName().equals(dtype) || !t.isMatrix(outer, inner)) {
            throw invalid("tensor " + t.name() + " is " + t.typeName() + " " + t.shape() + ", expected " + dtype + " [" + inner + ", " + outer + "]");
        }
    }

    /** The values of a small F32/F16/BF16 tensor (scales). */
    private float[] floats(TensorData t) {
        int n = (int) t.elements();
        float[] out = new float[n];
        switch (t.typeName()) {
            case "F32" -> MemorySegment.copy(t.data(), F32, 0, out, 0, n);
            case "F16", "BF16" -> WeightMatrix.of(t.name(), t.type(), t.data(), 1, n).dequantizeRow(0, out, 0);
            default -> throw invalid("tensor " + t.name() + " has type " + t.typeName() + "; scales must be F32, F16 or BF16");
        }
        return out;
    }

    @Override
    public void close() {
        for (SafetensorsFile s : shards) s.close();
        derived.close();
    }
}
