package io.chorus.bench;

import io.chorus.model.checkpoint.HfFolderWriter;
import java.nio.file.Path;

/**
 * Writes a GGUF model as a Hugging Face folder for benchmarks:
 * {@code ExportHf MODEL.gguf OUT_DIR bf16|fp8|awq|gptq [group_size, default 128] [shard MiB, default 4096]}.
 */
public final class ExportHf {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: ExportHf MODEL.gguf OUT_DIR bf16|fp8|awq|gptq [group_size] [shard MiB]");
            System.exit(2);
        }
        int group = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        long shard = (args.length > 4 ? Long.parseLong(args[4]) : 4096) << 20;
        long t0 = System.nanoTime();
        HfFolderWriter.write(Path.of(args[0]), Path.of(args[1]), HfFolderWriter.Format.valueOf(args[2].toUpperCase(java.util.Locale.ROOT)), group, shard);
        System.out.printf("wrote %s (%s) in %.1f s%n", args[1], args[2], (System.nanoTime() - t0) / 1e9);
    }
}
