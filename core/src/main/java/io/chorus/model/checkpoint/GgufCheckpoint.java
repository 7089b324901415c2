package io.chorus.model.checkpoint;

import io.chorus.model.ModelConfig;
import io.chorus.model.gguf.GgufException;
import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.tensor.WeightMatrix;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A GGUF file as a checkpoint: tensor names are already the role names; q/k were permuted by the converter. */
public final class GgufCheckpoint implements Checkpoint {
    private static final String TEMPLATE_KEY = "tokenizer.chat_template";

    private final GgufFile file;
    private final ModelConfig config;
    private final long weightBytes;

    private GgufCheckpoint(GgufFile file) {
        this.file = file;
        this.config = ModelConfig.fromGguf(file);
        long bytes = 0;
        for (GgufTensorInfo t : file.tensors().values()) bytes += t.byteSize();
        this.weightBytes = bytes;
    }

    /** Maps and parses the file; closes it again when its metadata does not describe a supported model. */
    public static GgufCheckpoint open(Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            return new GgufCheckpoint(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The GGUF file, for its tokenizer metadata. */
    public GgufFile file() { return file; }

    @Override public Path path() { return file.path(); }
    @Override public ModelConfig config() { return config; }
    @Override public long weightBytes() { return weightBytes; }
    @Override public boolean rotateHalfRope() { return false; }

    /**
     * {@code tokenizer.chat_template} is the default; llama.cpp's converter writes each other named
     * template as {@code tokenizer.chat_template.<name>} (and lists the names in
     * {@code tokenizer.chat_templates}, which llama.cpp itself never reads, so neither does this).
     */
    @Override
    public Map<String, String> chatTemplates() {
        return chatTemplates(file);
    }

    /** {@link #chatTemplates()} of an open GGUF file (for readers that hold the file, not a checkpoint). */
    public static Map<String, String> chatTemplates(GgufFile file) {
        Map<String, String> out = new LinkedHashMap<>();
        if (file.metadata().get(TEMPLATE_KEY) instanceof String t) out.put(DEFAULT_TEMPLATE, t);
        for (Map.Entry<String, Object> e : file.metadata().entrySet()) {
            if (!e.getKey().startsWith(TEMPLATE_KEY + ".") || !(e.getValue() instanceof String t)) continue;
            String name = e.getKey().substring(TEMPLATE_KEY.length() + 1);
            if (!name.isEmpty()) out.putIfAbsent(name, t);
        }
        return out;
    }

    @Override
    public TensorData tensor(String name) {
        GgufTensorInfo t = file.tensor(name);
        return t == null ? null : new TensorData(t.name(), t.type(), t.typeName(), t.dims(), t.data());
    }

    @Override
    public WeightMatrix matrix(String name, int rows, int cols) {
        return Matrices.plain(this, tensor(name), name, rows, cols);
    }

    @Override
    public CheckpointException invalid(String message) {
        return new GgufException(file.path() + ": " + message);
    }

    @Override
    public void close() {
        file.close();
    }
}
