package io.chorus.bench;

import io.chorus.model.Batch;
import io.chorus.model.Model;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.ReservedMemory;
import io.chorus.tensor.WorkerPool;
import java.nio.file.Path;

/**
 * Resident memory of a loaded model: before load, after load, and after one forward pass that touches
 * every weight, with the part mapped from the weight files (/proc/self/smaps) shown apart from anonymous
 * memory. Usage: ResidentProbe MODEL (a GGUF file or a Hugging Face folder).
 */
public final class ResidentProbe {
    /** [resident bytes mapped from .safetensors/.gguf files, anonymous resident bytes] from /proc/self/smaps. */
    static long[] smaps() {
        long file = 0, anon = 0;
        boolean weights = false;
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/smaps"))) {
                if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                    weights = line.endsWith(".safetensors") || line.endsWith(".gguf");
                } else if (line.startsWith("Rss:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    if (weights) file += kb * 1024;
                } else if (line.startsWith("Anonymous:")) {
                    anon += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException e) { throw new java.io.UncheckedIOException(e); }
        return new long[] {file, anon};
    }

    public static void main(String[] a) {
        long base = ReservedMemory.residentBytes().orElse(-1);
        try (WorkerPool pool = new WorkerPool(2); Model m = Model.load(Path.of(a[0]), pool, ActivationPrecision.F32)) {
            long loaded = ReservedMemory.residentBytes().orElse(-1);
            m.allocateKvCache(4, 16, KvCacheDtype.F16, 64);
            Batch b = new Batch();
            b.addSequence(new int[] {0, 1, 2, 3}, 16, new int[] {1}, 0, 1, 0);
            b.addLogitsForLastToken();
            m.forward(b, new float[m.vocabSize()]);
            long touched = ReservedMemory.residentBytes().orElse(-1);
            long[] split = smaps();
            System.out.printf("  after the pass: file-backed resident of the weight files %.1f MiB (%.3f x weights), anonymous resident %.1f MiB%n",
                    split[0] / 1048576.0, (double) split[0] / m.weightBytes(), split[1] / 1048576.0);
            System.out.printf("%s: weights %.1f MiB; RSS before load %.1f MiB, after load %.1f MiB (+%.1f), after one forward pass %.1f MiB (+%.1f over the JVM before load, %.3f x weights)%n",
                    a[0], m.weightBytes() / 1048576.0, base / 1048576.0, loaded / 1048576.0, (loaded - base) / 1048576.0,
                    touched / 1048576.0, (touched - base) / 1048576.0, (double) (touched - base) / m.weightBytes());
        }
    }
}
