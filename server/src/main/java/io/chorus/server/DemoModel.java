package io.chorus.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The built-in demo model: a word-level bigram language model over a few pages of English the project
 * wrote ({@link BigramModel}), written as a small GGUF on first use. It babbles real words.
 */
public final class DemoModel {
    // The name carries the construction's version, so a cached file of an older demo is never served.
    public static final String FILE_NAME = "demo-bigram-v1.gguf";

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
            BigramModel.fromCorpus().write(tmp);
            Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model to " + p + ": " + e.getMessage(), e);
        }
    }
}
