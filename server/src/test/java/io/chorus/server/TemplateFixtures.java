package io.chorus.server;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The chat templates of the shared reference fixtures (beside the repository); skips a test when absent. */
final class TemplateFixtures {
    private TemplateFixtures() {}

    static Path require(String name) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 5 && dir != null; i++, dir = dir.getParent()) {
            for (Path c : new Path[] {dir.resolve("shared/fixtures/templates"), dir.resolveSibling("shared").resolve("fixtures/templates")}) {
                Path p = c.resolve(name + ".jinja");
                if (Files.isRegularFile(p)) return p;
            }
        }
        assumeTrue(false, "shared/fixtures/templates/" + name + ".jinja not found; skipping");
        return null;
    }
}
