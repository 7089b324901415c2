package io.chorus.model.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens whatever a model path names: a folder is a Hugging Face model, a file is GGUF. */
public final class Checkpoints {
    private Checkpoints() {}

    public static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) return HfCheckpoint.open(path);
        return GgufCheckpoint.open(path);
    }
}
