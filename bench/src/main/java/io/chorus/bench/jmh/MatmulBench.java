package io.chorus.bench.jmh;

import io.chorus.tensor.GgmlType;
import io.chorus.tensor.NativeKernels;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Batched matmul of a {@code rows x cols} weight matrix with T tokens on a pool of {@code threads},
 * native kernels ({@code native=true}) against the types' Java kernels. The default 8192 x 8192
 * matrix is larger than L3, so T=1 measures weight streaming: GB/s = weight bytes / time (printed
 * at set-up); T=16/64 measure compute: GFLOP/s = 2 rows cols T / time.
 *
 * <p>Run: {@code scripts/jmh MatmulBench -p type=Q8_0 -p T=1,16,64}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBench {
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;

    @Param({"1", "16", "64"})
    public int T;

    @Param({"true", "false"})
    public boolean nativeKernels;

    @Param({"8192"})
    public int rows;

    @Param({"8192"})
    public int cols;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private WorkerPool pool;
    private WeightMatrix w;
    private float[] x, out;

    @Setup(Level.Trial)
    public void setUp() {
        if (nativeKernels && !NativeKernels.available()) throw new IllegalStateException(NativeKernels.description());
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        long bytes = t.bytesFor((long) rows * cols);
        MemorySegment data = arena.allocate(bytes, 64);
        SplittableRandom rnd = new SplittableRandom(1);
        for (long i = 0; i < bytes; i += 8) data.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        // sane fp16 scales so values stay finite (random bits could be inf/NaN)
        short scale = Float.floatToFloat16(0.01f);
        for (long b = 0; b < bytes; b += t.typeSize) {
            switch (t) {
                case Q8_0, Q4_0 -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case Q4_K, Q5_K -> { data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale); data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 2, scale); }
                case Q6_K -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, scale);
                case Q5_0, IQ4_NL -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case Q4_1, Q5_1 -> { data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale); data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 2, scale); }
                case Q2_K -> { data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 80, scale); data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 82, scale); }
                case Q3_K -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 108, scale);
                case IQ4_XS -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case F16, BF16 -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case F32 -> data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, b, 0.01f);
                default -> throw new IllegalArgumentException(type);
            }
        }
        w = WeightMatrix.of("bench", t, data, rows, cols);
        x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        out = new float[T * rows];
        pool = new WorkerPool(threads);
        System.out.printf("%n%s %dx%d: %.1f MB of weights, %.2f GFLOP per call at T=%d; %s%n", type, rows, cols,
                bytes / 1e6, 2.0 * rows * cols * T / 1e9, T, NativeKernels.description());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        final WeightMatrix m = w;
        final float[] xx = x, o = out;
        final int n = T, r = rows;
        int chunks = (r + 15) / 16;
        if (nativeKernels) {
            pool.run(chunks, (k, from, to) -> NativeKernels.matmul(m, xx, n, o, r, from * 16, Math.min(r, to * 16)));
        } else {
            pool.run(chunks, (k, from, to) -> m.matmul(xx, n, o, r, from * 16, Math.min(r, to * 16)));
        }
        return o;
    }
}
