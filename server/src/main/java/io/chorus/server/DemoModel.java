package io.chorus.server;

import io.chorus.model.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The built-in demo model: a small synthetic GGUF with random weights, written on first use. */
public final class DemoModel {
    public static final String FILE_NAME = "demo-q8_0.gguf";
    private static final long SEED = 20260101L;

    private DemoModel() {}

    /** Where the demo model lives: {@code $CHORUS_CACHE} or {@code ~/.cache/chorus}. */
    public static Path path() {
        String dir = System.getenv("CHORUS_CACHE");
        Path base = dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "chorus");
        return base.resolve(FILE_NAME);
    }

    /** The demo model's file, written there first if it is missing. */
    public static Path ensure() {
        Path p = path();
        if (Files.isRegularFile(p)) return p;
        try {
            Files.createDirectories(p.getParent());
            Path tmp = Files.createTempFile(p.getParent(), "demo-", ".tmp");
            SyntheticModel.write(SyntheticModel.shape("demo"), SyntheticModel.Mix.Q8_0, SEED, tmp);
            Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model to " + p + ": " + e.getMessage(), e);
        }
    }
}
