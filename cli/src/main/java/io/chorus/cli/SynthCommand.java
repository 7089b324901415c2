package io.chorus.cli;

import io.chorus.model.SyntheticModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus synth}: writes a seeded random-weight model of a named shape. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a seeded random-weight GGUF model of a real or test shape (for tests, benchmarks and the demo).")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--shape", required = true, description = "Shape: ${COMPLETION-CANDIDATES}", completionCandidates = Shapes.class)
    String shape;

    @Option(names = "--type", defaultValue = "Q8_0", completionCandidates = Mixes.class,
            description = "Weight types, as llama-quantize's presets (its per-tensor mix and its fallback for rows "
                    + "256-value blocks cannot tile): ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--out", required = true, description = "Output GGUF file")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default ${DEFAULT-VALUE})")
    long seed;

    static final class Mixes extends java.util.ArrayList<String> {
        Mixes() {
            for (SyntheticModel.Mix m : SyntheticModel.Mix.values()) add(m.name());
        }
    }

    static final class Shapes extends java.util.ArrayList<String> {
        Shapes() {
            super(SyntheticModel.SHAPES.keySet());
        }
    }

    @Override
    public Integer call() throws Exception {
        SyntheticModel.Shape s = SyntheticModel.shape(shape);
        SyntheticModel.Mix mix = SyntheticModel.Mix.parse(type);
        long t0 = System.nanoTime();
        System.err.printf("writing %s (%s, %s, seed %d)...%n", out, shape, mix, seed);
        SyntheticModel.write(s, mix, seed, out);
        System.err.printf("done in %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, Units.bytes(java.nio.file.Files.size(out)));
        return 0;
    }
}
