package io.chorus.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared reference fixtures (shared/fixtures beside the repository). Tests that need
 * them call {@link #require(String)}, which skips the test with a message when they are absent,
 * so the project's own tests run everywhere.
 */
public final class Fixtures {
    private Fixtures() {}

    /** The fixtures folder, or null when it cannot be found. */
    public static Path root() {
        String configured = System.getProperty("chorus.fixtures", System.getenv("CHORUS_FIXTURES"));
        if (configured != null && Files.isDirectory(Path.of(configured))) return Path.of(configured);
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 5 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/fixtures");
            if (Files.isDirectory(candidate)) return candidate;
            Path sibling = dir.resolveSibling("shared").resolve("fixtures");
            if (Files.isDirectory(sibling)) return sibling;
        }
        return null;
    }

    /** The fixture file or folder at {@code relative}; skips the calling test when it is absent. */
    public static Path require(String relative) {
        Path root = root();
        assumeTrue(root != null, "shared/fixtures not found beside the repository; skipping reference-data test");
        Path p = root.resolve(relative);
        assumeTrue(Files.exists(p), "fixture " + p + " is absent; skipping");
        return p;
    }
}
