package io.chorus.bench;

import io.chorus.model.Batch;
import io.chorus.model.Model;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Forward-pass throughput in the spirit of llama-bench and llama-batched-bench, one forward call
 * per step: prompt processing of a 512-token prompt (pp512), single-stream decode of 128 tokens
 * (tg128), and total decode throughput with N sequences decoding together over 128-token contexts.
 *
 * <p>Usage: scripts/bench-forward MODEL.gguf [threads] [N list, e.g. 1,2,4,8,16,32,64; "" for none] [f16|f32 KV cache] [int8|f32 activations]
 *
 * <p>-Dchorus.bench.npp=P and -Dchorus.bench.ntg=G set the batched decode's prompt and decode
 * lengths (both 128 by default, as llama-batched-bench -npp 128 -ntg 128), for slow models or a
 * busy machine.
 */
public final class ForwardBench {
    public static void main(String[] args) {
        Locale.setDefault(Locale.ROOT);
        Path file = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : WorkerPool.defaultThreads();
        String[] ns = (args.length > 2 ? args[2] : "1,2,4,8,16,32,64").split(",");
        if (ns.length == 1 && ns[0].isBlank()) ns = new String[0]; // "": no batched decode
        int maxN = 0;
        for (String n : ns) maxN = Math.max(maxN, Integer.parseInt(n));
        try (WorkerPool pool = new WorkerPool(threads); Model model = Model.load(file, pool,
                ActivationPrecision.parse(args.length > 4 ? args[4] : "auto"))) {
            int bs = 16, ctx = 640;
            int blocksPerSeq = ctx / bs;
            int seqs = Math.max(maxN, 1);
            KvCacheDtype dtype = KvCacheDtype.parse(args.length > 3 ? args[3] : "f16");
            model.allocateKvCache(seqs * blocksPerSeq, bs, dtype, ctx);
            int[][] tables = new int[seqs][blocksPerSeq];
            for (int s = 0; s < seqs; s++) for (int b = 0; b < blocksPerSeq; b++) tables[s][b] = s * blocksPerSeq + b;
            SplittableRandom rnd = new SplittableRandom(1);
            int vocab = model.vocabSize();
            int[] prompt = new int[512];
            for (int i = 0; i < prompt.length; i++) prompt[i] = rnd.nextInt(Math.min(vocab, 30000));
            Batch batch = new Batch();
            float[] logits = new float[seqs * vocab];
            System.out.printf("model %s, %d threads, weights %.1f MiB, %s activations, %s%n", file.getFileName(), threads,
                    model.weightBytes() / 1048576.0, model.activationPrecision().label(), io.chorus.tensor.NativeKernels.description());

            // pp512: warm up once, then time the best of 3 (-Dchorus.bench.pp=false skips it)
            double best = Double.MAX_VALUE;
            boolean pp = Boolean.parseBoolean(System.getProperty("chorus.bench.pp", "true"));
            for (int r = 0; pp && r < 4; r++) {
                batch.clear();
                batch.addSequence(tables[0], bs, prompt, 0, 512, 0);
                batch.addLogitsForLastToken();
                long t0 = System.nanoTime();
                model.forward(batch, logits);
                double sec = (System.nanoTime() - t0) / 1e9;
                if (r > 0) best = Math.min(best, sec);
            }
            if (pp) System.out.printf("pp512   %8.1f t/s%n", 512 / best);

            // tg128: decode 128 tokens after a 1-token context (-Dchorus.bench.tg=N decodes N
            // instead, for very slow configurations; the line then says tgN)
            int tg = Integer.getInteger("chorus.bench.tg", 128);
            int[] one = new int[1];
            for (int warm = 0; warm < 2; warm++) {
                long expertBytes0 = model.expertBytesRead();
                long t0 = System.nanoTime();
                for (int i = 0; i < tg; i++) {
                    batch.clear();
                    one[0] = prompt[i % prompt.length];
                    batch.addSequence(tables[0], bs, one, 0, 1, i);
                    batch.addLogitsForLastToken();
                    model.forward(batch, logits);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                if (warm == 1 && model.config().moe() != null) {
                    // A mixture of experts reads its chosen experts only; the embedding table gives one row.
                    long read = moeDenseBytes(model) + (model.expertBytesRead() - expertBytes0) / tg;
                    System.out.printf("%-7s %8.2f t/s  (%.1f MiB read per token, %.2f GB/s)%n", "tg" + tg, tg / sec, read / 1048576.0, read * tg / sec / 1e9);
                } else if (warm == 1) {
                    System.out.printf("%-7s %8.2f t/s  (%.2f GB/s of weights)%n", "tg" + tg, tg / sec, model.weightBytes() * tg / sec / 1e9);
                }
            }

            // batched decode: N sequences, prompt npp each (prefilled), then ntg decode steps of N tokens
            int npp = Integer.getInteger("chorus.bench.npp", 128), steps = Integer.getInteger("chorus.bench.ntg", 128);
            if (npp < 1 || steps < 1 || npp + steps > ctx || npp + seqs > prompt.length) {
                throw new IllegalArgumentException("chorus.bench.npp + ntg must be at most " + ctx + ", npp at most " + (prompt.length - seqs));
            }
            int[] toks = new int[seqs];
            for (String nStr : ns) {
                int n = Integer.parseInt(nStr);
                for (int s = 0; s < n; s++) {
                    batch.clear();
                    batch.addSequence(tables[s], bs, prompt, s, npp, 0);
                    batch.addLogitsForLastToken();
                    model.forward(batch, logits);
                }
                long passes0 = model.expertPasses(), expertBytes0 = model.expertBytesRead();
                long t0 = System.nanoTime();
                for (int step = 0; step < steps; step++) {
                    batch.clear();
                    for (int s = 0; s < n; s++) {
                        toks[s] = prompt[(s + step) % 512];
                        batch.addSequence(tables[s], bs, toks, s, 1, npp + step);
                        batch.addLogitsForLastToken();
                    }
                    model.forward(batch, logits);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                System.out.printf("decode N=%-3d %8.1f t/s total  %6.1f t/s per sequence%n", n, n * steps / sec, steps / sec);
                if (model.config().moe() != null) {
                    long read = moeDenseBytes(model) + (model.expertBytesRead() - expertBytes0) / steps;
                    System.out.printf("             %.1f expert passes per layer and step (of %d experts), %.1f MiB read per step, %.2f GB/s%n",
                            (model.expertPasses() - passes0) / (double) steps / model.config().layers(), model.config().moe().experts(),
                            read / 1048576.0, read * steps / sec / 1e9);
                }
            }
        }
    }

    /** Bytes a step reads besides the routed experts: every other tensor, the embedding table only when it is also the output. */
    private static long moeDenseBytes(Model model) {
        long bytes = 0;
        for (var t : model.ggufFile().tensors().values()) { // MoE models load from GGUF only
            if (t.name().contains("_exps.") || (t.name().equals("token_embd.weight") && !model.config().tiedOutput())) continue;
            bytes += t.byteSize();
        }
        return bytes;
    }
}
