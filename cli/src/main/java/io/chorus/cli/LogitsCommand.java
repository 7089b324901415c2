package io.chorus.cli;

import io.chorus.backend.Backend;
import io.chorus.backend.CpuBackend;
import io.chorus.model.Batch;
import io.chorus.model.Model;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus logits}: teacher-forced logits of a token sequence, for comparison with other implementations. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Write teacher-forced logits as float32 little-endian [positions x vocab].")
final class LogitsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "GGUF model file, Hugging Face model folder, or hf:REPO/FILE.gguf from the hub")
    Path model;
    @picocli.CommandLine.Mixin HubOptions hub;

    @Option(names = "--tokens", required = true, split = ",", description = "Token ids, comma-separated")
    int[] tokens;

    @Option(names = "--out", required = true, description = "Output file")
    Path out;

    @Option(names = "--threads", description = "Kernel threads (default: all cores)")
    Integer threads;

    @Option(names = "--max-model-len",
            description = "Most tokens one sequence may hold, as a server would be started with; it picks longrope's long or short factors (default: the tokens given, rounded up to a block)")
    Integer maxModelLen;

    @Option(names = "--kv-cache-dtype", defaultValue = "f32", description = "f32 or f16 (default ${DEFAULT-VALUE})")
    String kvDtype;

    @Option(names = "--activation-precision", defaultValue = "auto",
            description = "int8 (8-bit activations for quantized weights, as llama.cpp), f32 (exact float32), or auto: int8 for the 32-value block types (Q8_0, Q4_0, ...), 16-bit activations for AWQ / GPTQ, where the native kernels load (default ${DEFAULT-VALUE})")
    String activationPrecision;

    @Override
    public Integer call() throws IOException {
        try (Backend backend = CpuBackend.withThreads(threads != null ? threads : CpuBackend.defaultThreads(), ActivationPrecision.parse(activationPrecision));
             Model m = Model.load(hub.local(model), backend)) {
            int n = tokens.length, blockSize = 16;
            int blocks = (n + blockSize - 1) / blockSize;
            m.allocateKvCache(blocks, blockSize, KvCacheDtype.parse(kvDtype), maxModelLen != null ? Math.max(maxModelLen, n) : blocks * blockSize);
            if (m.ropeScaling() != null) System.err.println("rope: " + m.ropeScaling());
            int[] table = new int[blocks];
            Arrays.setAll(table, i -> i);
            Batch batch = new Batch();
            batch.addSequence(table, blockSize, tokens, 0, n, 0);
            for (int i = 0; i < n; i++) batch.addLogitsRow(i);
            float[] logits = new float[n * m.vocabSize()];
            m.forward(batch, logits);
            ByteBuffer buf = ByteBuffer.allocate(logits.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(logits);
            Files.write(out, buf.array());
            System.err.printf("wrote %d x %d logits to %s%n", n, m.vocabSize(), out);
        }
        return 0;
    }
}
