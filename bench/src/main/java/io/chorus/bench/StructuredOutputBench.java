package io.chorus.bench;

import io.chorus.engine.Engine;
import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.model.gguf.GgufFile;
import io.chorus.structured.CompiledGrammar;
import io.chorus.structured.GrammarMatcher;
import io.chorus.structured.GrammarSpec;
import io.chorus.structured.StructuredOutput;
import io.chorus.structured.TokenVocabulary;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Structured-output costs. {@code mask MODEL.gguf}: grammar compile time for the 24 test schemas and a
 * nested order schema, then the per-token cost of masking a logits row of the model's vocabulary
 * (constrain: mask lookup or computation plus applying it) and of advancing the matcher, over
 * sequences that pick a random allowed token each step: first a cold pass (empty mask cache), then a
 * warm one. {@code throughput MODEL.gguf [threads]}: decode throughput of 16 parallel requests of
 * 32 + 32 tokens, none, one or all of them constrained to English-like text.
 *
 * <p>Usage: scripts/bench-structured mask VOCAB_OR_MODEL.gguf [logits width] | throughput MODEL.gguf [threads]
 */
public final class StructuredOutputBench {
    static final String NESTED = """
            {"type":"object","properties":{"id":{"type":"string","format":"uuid"},
             "customer":{"type":"object","properties":{"name":{"type":"string","maxLength":40},"email":{"type":"string","format":"email"},
               "address":{"type":"object","properties":{"street":{"type":"string","maxLength":60},"city":{"type":"string","maxLength":30},
                 "zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["street","city","zip"],"additionalProperties":false}},
               "required":["name","email","address"],"additionalProperties":false},
             "items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string","maxLength":12},
               "qty":{"type":"integer","minimum":1,"maximum":100},"price":{"type":"number","minimum":0}},
               "required":["sku","qty","price"],"additionalProperties":false},"minItems":1,"maxItems":5},
             "status":{"enum":["new","paid","shipped"]},"placed":{"type":"string","format":"date-time"},
             "notes":{"type":["string","null"],"maxLength":80}},
             "required":["id","customer","items","status","placed"],"additionalProperties":false}""";

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        String mode = args[0];
        Path file = Path.of(args[1]);
        if (mode.equals("mask")) mask(file, args.length > 2 ? Integer.parseInt(args[2]) : 0);
        else throughput(file, args.length > 2 ? Integer.parseInt(args[2]) : WorkerPool.defaultThreads());
    }

    static List<String> schemas() throws Exception {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                StructuredOutputBench.class.getResourceAsStream("/structured-schemas.jsonl"), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) if (!line.isBlank()) out.add(line);
        }
        return out;
    }

    /** {@code logitsWidth}: the model's logits row (Qwen2.5 pads its 151,665 tokens to 151,936); 0 = from the file. */
    static void mask(Path file, int logitsWidth) throws Exception {
        Tokenizer tok;
        int modelVocab;
        try (GgufFile f = GgufFile.open(file)) {
            tok = Tokenizer.fromGguf(f);
            modelVocab = Math.max(tok.vocabSize(), f.tensors().containsKey("token_embd.weight") ? (int) f.tensor("token_embd.weight").dims()[1] : 0);
            modelVocab = Math.max(modelVocab, logitsWidth);
        }
        int[] eos = java.util.stream.IntStream.range(0, tok.vocabSize()).filter(tok::isEog).toArray();
        TokenVocabulary vocab = TokenVocabulary.of(tok);
        long t0 = System.nanoTime();
        new StructuredOutput(vocab, modelVocab);
        System.out.printf("vocabulary %d tokens (logits %d); index built in %.0f ms%n", tok.vocabSize(), modelVocab, (System.nanoTime() - t0) / 1e6);

        // Compile: each schema on a fresh engine-side cache, so every one is a real compile (JIT warmed on a first round).
        List<String> all = new ArrayList<>(schemas());
        all.add(NESTED);
        double worst = 0, sum = 0;
        for (int round = 0; round < 2; round++) {
            worst = 0;
            sum = 0;
            for (String s : all) {
                StructuredOutput so = new StructuredOutput(vocab, modelVocab);
                CompiledGrammar g = so.compile(GrammarSpec.jsonSchema(s));
                double ms = g.compileNanos() / 1e6;
                worst = Math.max(worst, ms);
                sum += ms;
            }
        }
        System.out.printf("compile %d schemas: mean %.2f ms, worst %.2f ms%n", all.size(), sum / all.size(), worst);

        StructuredOutput so = new StructuredOutput(vocab, modelVocab);
        CompiledGrammar g = so.compile(GrammarSpec.jsonSchema(NESTED));
        float[] logits = new float[modelVocab];
        float[] noise = new float[modelVocab * 2];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < noise.length; i++) noise[i] = (float) r.nextGaussian() * 3;
        for (String pass : new String[] {"cold", "warm", "warm"}) {
            long[] constrain = new long[400_000];
            long[] advance = new long[400_000];
            int n = 0, seqs = pass.equals("cold") ? 20 : 200, completed = 0;
            long totalTokens = 0;
            for (int s = 0; s < seqs; s++) {
                GrammarMatcher m = g.newMatcher();
                for (int step = 0; step < 1500; step++) {
                    System.arraycopy(noise, r.nextInt(modelVocab), logits, 0, modelVocab);
                    long a = System.nanoTime();
                    StructuredOutput.Outcome o = so.constrain(m, logits, 0, eos, true);
                    long b = System.nanoTime();
                    if (o != StructuredOutput.Outcome.OK) break;
                    int pick = pickAllowed(logits, r);
                    if (Arrays.binarySearch(eos, pick) >= 0) {
                        completed++;
                        break;
                    }
                    long c = System.nanoTime();
                    m.advance(so.tokenBytes(pick), pick);
                    long d = System.nanoTime();
                    if (n < constrain.length) {
                        constrain[n] = b - a;
                        advance[n++] = d - c;
                    }
                    totalTokens++;
                }
            }
            long[] cs = Arrays.copyOf(constrain, n), as = Arrays.copyOf(advance, n);
            Arrays.sort(cs);
            Arrays.sort(as);
            System.out.printf("%s: %d sequences (%d complete), %d tokens | mask+apply median %.1f us  p90 %.1f us  p99 %.1f us  max %.1f ms"
                            + " | advance median %.2f us  p99 %.2f us%n",
                    pass, seqs, completed, totalTokens, cs[n / 2] / 1e3, cs[(int) (n * 0.9)] / 1e3, cs[(int) (n * 0.99)] / 1e3,
                    cs[n - 1] / 1e6, as[n / 2] / 1e3, as[(int) (n * 0.99)] / 1e3);
        }
    }

    /** A token drawn in proportion to exp(logit) among the finite logits (a temperature-1 sampler, roughly). */
    private static int pickAllowed(float[] logits, SplittableRandom r) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double total = 0;
        for (float x : logits) if (x > Float.NEGATIVE_INFINITY) total += Math.exp(x - max);
        double target = r.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] == Float.NEGATIVE_INFINITY) continue;
            last = i;
            target -= Math.exp(logits[i] - max);
            if (target <= 0) return i;
        }
        return last;
    }

    static void throughput(Path file, int threads) throws Exception {
        try (WorkerPool pool = new WorkerPool(threads); Model model = Model.load(file, pool)) {
            Tokenizer tok = Tokenizer.of(model.checkpoint());
            int n = 16, promptLen = 32, gen = 32;
            model.allocateKvCache(n * ((promptLen + gen) / 16 + 2) + 16, 16, KvCacheDtype.F16, promptLen + gen + 32);
            EngineConfig cfg = new EngineConfig(n, 2048, promptLen + gen + 32, false, SchedulingPolicy.FCFS, List.of());
            // Plain English-like text without end: every request generates all its tokens, constrained or not,
            // and the mask (about half the vocabulary refused) is real work on every token.
            GrammarSpec spec = GrammarSpec.regex("[A-Za-z0-9 ,.'\\n-]*");
            try (EngineClient engine = Engine.start(cfg, model, new TemperatureSampler(), TokenVocabulary.of(tok))) {
                System.out.printf("model %s, %d threads, %d parallel requests of %d+%d tokens%n", file.getFileName(), threads, n, promptLen, gen);
                run(engine, n, 0, promptLen, 8, model.vocabSize(), spec); // warm-up (JIT, mask cache)
                for (int round = 0; round < 2; round++) {
                    for (int constrained : new int[] {0, 1, n}) {
                        io.chorus.engine.api.EngineStats before = engine.stats();
                        double tps = run(engine, n, constrained, promptLen, gen, model.vocabSize(), spec);
                        io.chorus.engine.api.EngineStats after = engine.stats();
                        long steps = after.steps() - before.steps();
                        long inModel = after.totalModelNanos() - before.totalModelNanos();
                        long outside = after.totalScheduleNanos() - before.totalScheduleNanos()
                                + after.totalForwardNanos() - before.totalForwardNanos() - inModel;
                        // Wall-clock throughput swings with other load on the machine; the time per step spent
                        // outside the model (scheduling, masking, sampling) is what constraining adds.
                        System.out.printf("round %d  constrained %2d of %d: decode %7.1f t/s total, %6.2f t/s per request;"
                                        + " per step: model %.2f ms, outside the model %.3f ms%n",
                                round, constrained, n, tps, tps / n, inModel / 1e6 / steps, outside / 1e6 / steps);
                    }
                }
            }
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong IDS = new java.util.concurrent.atomic.AtomicLong();

    /** Decode throughput (tokens after the last first token, over that time) of n requests, the first k constrained. */
    static double run(EngineClient engine, int n, int k, int promptLen, int gen, int vocab, GrammarSpec spec) throws Exception {
        SplittableRandom r = new SplittableRandom(n * 31L + k);
        List<RequestHandle> hs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[promptLen];
            for (int j = 0; j < promptLen; j++) prompt[j] = 10 + r.nextInt(Math.min(20000, vocab - 10));
            SamplingParams.Builder b = SamplingParams.builder().temperature(1.0).seed((long) i).maxTokens(gen).ignoreEos(true);
            if (i < k) b.grammar(spec);
            hs.add(engine.submit(new EngineRequest("b" + IDS.incrementAndGet(), prompt, b.build())));
        }
        long lastFirst = 0, end = 0, tokens = 0;
        long[] firsts = new long[n];
        int[] counts = new int[n];
        for (int i = 0; i < n; i++) {
            for (RequestOutput o; (o = hs.get(i).next(Duration.ofMinutes(30))) != null; ) {
                if (o.newTokenIds().length > 0 && firsts[i] == 0) firsts[i] = o.timings().firstTokenNanos();
                counts[i] += o.newTokenIds().length;
                if (o.finished()) {
                    end = Math.max(end, o.timings().finishNanos());
                    break;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            lastFirst = Math.max(lastFirst, firsts[i]);
            tokens += counts[i] - 1;
        }
        return tokens / ((end - lastFirst) / 1e9);
    }
}
