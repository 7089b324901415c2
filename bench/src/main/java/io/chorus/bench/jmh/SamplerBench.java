package io.chorus.bench.jmh;

import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.engine.runner.LogitsProcessor;
import io.chorus.engine.runner.LogprobsComputer;
import io.chorus.engine.runner.SamplingState;
import io.chorus.engine.runner.TemperatureSampler;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-token sampling cost for a Qwen2-sized vocabulary (151936), one row of logits drawn from
 * N(0, 2.5^2) (the usual spread of LLM logits): greedy; temperature 0.8 with top_p 0.9; top_k 40
 * with repetition, frequency and presence penalties over a 2000-token context (this one copies the
 * pristine row first, since the penalties modify it: subtract {@code copyRow}); and the logprobs
 * of the chosen token with 5 alternatives. One op = one token of one sequence.
 *
 * <p>Run: {@code scripts/jmh SamplerBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SamplerBench {
    private static final int VOCAB = 151_936;

    private final float[] pristine = new float[VOCAB];
    private final float[] row = new float[VOCAB];
    private final TemperatureSampler sampler = new TemperatureSampler();
    private final LogitsProcessor processor = new LogitsProcessor(new int[] {151_643, 151_645});
    private final LogprobsComputer logprobs = new LogprobsComputer();
    private SamplingState greedy, topP, topKPenalties;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(42);
        for (int v = 0; v < VOCAB; v++) pristine[v] = (float) (r.nextGaussian() * 2.5);
        System.arraycopy(pristine, 0, row, 0, VOCAB);
        greedy = SamplingState.seeded(SamplingParams.greedy(16), 1, 0);
        topP = SamplingState.seeded(SamplingParams.builder().temperature(0.8).topP(0.9).maxTokens(16).build(), 1, 0);
        topKPenalties = SamplingState.seeded(SamplingParams.builder().temperature(0.8).topK(40)
                .repetitionPenalty(1.1).frequencyPenalty(0.5).presencePenalty(0.5).maxTokens(1000).build(), 1, 0);
        int[] context = r.ints(2000, 0, VOCAB).toArray();
        topKPenalties.observe(context, 1500, context.length);
    }

    @Benchmark
    public int greedy() {
        return sampler.sample(row, 0, VOCAB, greedy);
    }

    @Benchmark
    public int temperatureTopP() {
        return sampler.sample(row, 0, VOCAB, topP);
    }

    @Benchmark
    public int topKWithPenalties() {
        System.arraycopy(pristine, 0, row, 0, VOCAB);
        processor.apply(row, 0, VOCAB, topKPenalties, 500);
        return sampler.sample(row, 0, VOCAB, topKPenalties);
    }

    @Benchmark
    public float[] copyRow() {
        System.arraycopy(pristine, 0, row, 0, VOCAB);
        return row;
    }

    @Benchmark
    public TokenLogprobs logprobsTop5() {
        return logprobs.compute(pristine, 0, VOCAB, 1234, 5);
    }
}
