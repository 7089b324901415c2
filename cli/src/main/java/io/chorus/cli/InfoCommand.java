package io.chorus.cli;

import io.chorus.backend.Backend;
import io.chorus.backend.CpuBackend;
import io.chorus.model.ModelConfig;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.GgufCheckpoint;
import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.checkpoint.SafetensorsFile;
import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code chorus info FILE|DIR}: what a GGUF model or Hugging Face folder is and what serving it takes. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show a model's (GGUF file or Hugging Face folder) architecture, shape, tensor types and memory needs.")
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF model file, Hugging Face model folder, or hf:REPO/FILE.gguf from the hub")
    Path file;
    @picocli.CommandLine.Mixin HubOptions hub;

    @Override
    public Integer call() {
        file = hub.local(file);
        if (java.nio.file.Files.isDirectory(file)) return hf();
        try (GgufFile f = GgufFile.open(file)) {
            ModelConfig c = ModelConfig.fromGguf(f);
            System.out.printf("file           %s (GGUF v%d, %s)%n", file, f.version(), Units.bytes(f.fileSize()));
            System.out.printf("name           %s%n", c.name());
            System.out.printf("architecture   %s%n", c.arch().ggufName);
            System.out.printf("shape          dim %d, %d layers, %d heads / %d KV heads, head dim %d, FFN %d, vocab %d%n",
                    c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(), c.vocabSize());
            System.out.printf("context        %d tokens, rope theta %.0f%s, rms eps %g%n", c.contextLength(), c.ropeTheta(),
                    f.tensor("rope_freqs.weight") != null ? " with frequency factors" : "", c.rmsEps());
            printRopeScaling(c);
            System.out.printf("output         %s%n", c.tiedOutput() ? "tied to token embeddings" : "separate output.weight");
            if (c.slidingWindow() > 0 || c.attnSoftcap() > 0 || c.finalSoftcap() > 0) System.out.printf("attention      %s%n", AttentionLine.of(c));
            Map<String, long[]> byType = new TreeMap<>();
            long params = 0, bytes = 0;
            for (GgufTensorInfo t : f.tensors().values()) {
                long[] agg = byType.computeIfAbsent(t.typeName(), k -> new long[3]);
                agg[0]++;
                agg[1] += t.elements();
                agg[2] += t.byteSize();
                params += t.elements();
                bytes += t.byteSize();
            }
            System.out.printf("parameters     %.1f M in %d tensors, %s of weights%n", params / 1e6, f.tensors().size(), Units.bytes(bytes));
            if (c.moe() != null) {
                long[] active = activePerToken(f, c.moe());
                System.out.printf("experts        %d experts, %d used per token, expert FFN %d%s%n", c.moe().experts(), c.moe().expertsUsed(),
                        c.moe().expertFfnDim(), c.moe().hasSharedExpert() ? ", shared expert FFN " + c.moe().sharedFfnDim() : "");
                System.out.printf("active         %.1f M parameters per token, %s of weights read per token%n", active[0] / 1e6, Units.bytes(active[1]));
            }
            java.util.Set<String> unsupported = new java.util.TreeSet<>();
            for (GgufTensorInfo t : f.tensors().values()) {
                if (t.type() == null || !t.type().supported) unsupported.add(t.typeName());
            }
            for (Map.Entry<String, long[]> e : byType.entrySet()) {
                System.out.printf("  %-12s %4d tensors  %8.1f M params  %s%s%n", e.getKey(), e.getValue()[0], e.getValue()[1] / 1e6,
                        Units.bytes(e.getValue()[2]), unsupported.contains(e.getKey()) ? "  (not supported)" : "");
            }
            String tokenizer = f.getString("tokenizer.ggml.model", "none");
            String pre = f.getString("tokenizer.ggml.pre", null);
            System.out.printf("tokenizer      %s%s%n", tokenizer, pre != null ? " (pre-tokenizer " + pre + ")" : "");
            System.out.printf("chat template  %s%n", templates(GgufCheckpoint.chatTemplates(f)));
            printMemory(c, bytes);
            if (!unsupported.isEmpty()) {
                System.out.println("warning        tensor types " + String.join(", ", unsupported) + " are not supported by Chorus"
                        + " (supported: " + io.chorus.tensor.GgmlType.supportedNames() + "); serving this file will fail");
            }
        }
        return 0;
    }

    /** "present", naming the templates when the model ships more than the default one (a tool_use for requests with tools). */
    private static String templates(Map<String, String> named) {
        boolean hasDefault = named.containsKey(Checkpoint.DEFAULT_TEMPLATE);
        String base = hasDefault ? "present" : "absent (ChatML is used)";
        boolean others = named.size() > (hasDefault ? 1 : 0);
        return others ? base + " (" + String.join(", ", named.keySet()) + ")" : base;
    }

    private int hf() {
        try (HfCheckpoint h = HfCheckpoint.open(file)) {
            ModelConfig c = h.config();
            System.out.printf("folder         %s (Hugging Face, %d safetensors file%s)%n", file, h.shards().size(), h.shards().size() == 1 ? "" : "s");
            printShape(c, h.tensor("rope_freqs.weight") != null);
            System.out.printf("quantization   %s%n", h.quantization() == null ? "none" : h.quantization());
            Map<String, long[]> byType = new TreeMap<>();
            long params = 0, count = 0;
            for (SafetensorsFile s : h.shards()) {
                for (SafetensorsFile.Entry e : s.entries().values()) {
                    long[] agg = byType.computeIfAbsent(e.dtype(), k -> new long[3]);
                    agg[0]++;
                    agg[1] += e.elements();
                    agg[2] += e.end() - e.begin();
                    params += e.elements();
                    count++;
                }
            }
            System.out.printf("tensors        %.1f M stored values in %d tensors, %s of weights%n", params / 1e6, count, Units.bytes(h.weightBytes()));
            for (Map.Entry<String, long[]> e : byType.entrySet()) {
                System.out.printf("  %-12s %4d tensors  %8.1f M values  %s%n", e.getKey(), e.getValue()[0], e.getValue()[1] / 1e6, Units.bytes(e.getValue()[2]));
            }
            System.out.printf("tokenizer      tokenizer.json%n");
            System.out.printf("chat template  %s%n", templates(h.chatTemplates()));
            printMemory(c, h.weightBytes());
        }
        return 0;
    }

    private static void printShape(ModelConfig c, boolean ropeFactors) {
        System.out.printf("name           %s%n", c.name());
        System.out.printf("architecture   %s%n", c.arch().ggufName);
        System.out.printf("shape          dim %d, %d layers, %d heads / %d KV heads, head dim %d, FFN %d, vocab %d%n",
                c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(), c.vocabSize());
        System.out.printf("context        %d tokens, rope theta %.0f%s, rms eps %g%n", c.contextLength(), c.ropeTheta(),
                ropeFactors ? " with frequency factors" : "", c.rmsEps());
        printRopeScaling(c);
        System.out.printf("output         %s%n", c.tiedOutput() ? "tied to token embeddings" : "separate output weights");
    }

    /**
     * Linear or yarn scaling; longrope's factors, as serving at the model's whole context picks them, and
     * when the other set applies.
     */
    private static void printRopeScaling(ModelConfig c) {
        if (c.ropeScaling() != null) System.out.printf("rope scaling   %s%n", c.ropeScaling().describe());
        io.chorus.model.LongRope lr = c.longRope();
        if (lr == null) return;
        System.out.printf("rope scaling   longrope: %s at the default max-model-len; %s factors with --max-model-len %s %d%n",
                lr.describe(c.contextLength()), lr.usesLong(c.contextLength()) ? "short" : "long",
                lr.usesLong(c.contextLength()) ? "<=" : ">", lr.originalContext());
    }

    /** What serving takes, as the backend that would serve it counts it (one thread: nothing runs here). */
    private static void printMemory(ModelConfig c, long bytes) {
        try (Backend backend = CpuBackend.withThreads(1, ActivationPrecision.auto())) {
            long kvF16 = backend.kvBytesPerBlock(c, 1, KvCacheDtype.F16);
            long kvF32 = backend.kvBytesPerBlock(c, 1, KvCacheDtype.F32);
            System.out.printf("KV cache       %s per token (f16), %s (f32)%n", Units.bytes(kvF16), Units.bytes(kvF32));
            System.out.printf("memory         weights %s + one full-context (%d tokens) f16 KV cache %s = %s%n",
                    Units.bytes(bytes), c.contextLength(), Units.bytes(kvF16 * c.contextLength()), Units.bytes(bytes + kvF16 * c.contextLength()));
            System.out.printf("matmul         %s%n", backend.description());
        }
    }

    /**
     * Parameters and bytes one token reads: every tensor but the routed experts' ({@code *_exps}), of
     * which it reads the share of the experts it uses. The embedding table counts whole, as llama.cpp's
     * and Hugging Face's active-parameter figures do.
     */
    static long[] activePerToken(GgufFile f, io.chorus.model.MoeConfig moe) {
        long params = 0, bytes = 0;
        for (GgufTensorInfo t : f.tensors().values()) {
            boolean routed = t.name().contains("_exps.");
            params += routed ? t.elements() / moe.experts() * moe.expertsUsed() : t.elements();
            bytes += routed ? t.byteSize() / moe.experts() * moe.expertsUsed() : t.byteSize();
        }
        return new long[] {params, bytes};
    }
}
