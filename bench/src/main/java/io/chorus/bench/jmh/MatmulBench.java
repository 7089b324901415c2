package io.chorus.bench.jmh;

import io.chorus.tensor.GgmlType;
import io.chorus.tensor.Quantizer;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Batched matmul out[T][rows] = W x[T] on a 2-thread {@link WorkerPool}, weights off-heap.
 *
 * <p>Besides the matmul rate (ops/s) JMH prints two derived rates as auxiliary counters:
 * <ul>
 *   <li>{@code weightGB}: weight bytes streamed per second / 1e9 = ops/s * type.bytesFor(rows*cols) / 1e9
 *       (the figure that bounds single-token decode, T = 1);
 *   <li>{@code gflop}: 1e9 floating-point operations per second = ops/s * 2 * rows * cols * T / 1e9
 *       (one multiply and one add per weight per token; the figure for batched decode).
 * </ul>
 * Run e.g. {@code scripts/jmh MatmulBench -p type=Q8_0 -p T=1 -f 1 -wi 3 -i 3 -w 1 -r 1}. Any
 * {@code -p shape=RxC} works, e.g. 32768x4096 (142 MB of Q8_0) to stream weights from DRAM
 * rather than L3. The K-quants need cols % 256 == 0, so they fail on 4864x896 by design.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBench {

    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K", "F16"})
    public String type;

    @Param({"1", "4", "16", "64"})
    public int T;

    /** rows x cols: Qwen2.5-0.5B FFN up/gate (4864x896) and down (896x4864), and a large matrix. */
    @Param({"4864x896", "896x4864", "8192x2048"})
    public String shape;

    /** Kernel threads; 1 gives steadier figures on a loaded machine. */
    @Param({"2"})
    public int threads;

    private Arena arena;
    private WorkerPool pool;
    private WeightMatrix w;
    private float[] x;
    private float[] out;
    double bytesPerOp;
    double flopPerOp;

    @Setup(Level.Trial)
    public void setup() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
        GgmlType t = GgmlType.valueOf(type);
        if (cols % t.blockSize != 0) {
            // e.g. K-quants on the 896-wide Qwen2.5-0.5B shapes: llama.cpp stores those in a fallback type
            throw new IllegalArgumentException(shape + " does not fit " + type + ": cols not a multiple of " + t.blockSize);
        }
        arena = Arena.ofShared();
        long rowBytes = t.bytesFor(cols);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        Random rnd = new Random(42);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) row[c] = (float) (rnd.nextGaussian() * 0.02);
            MemorySegment.copy(MemorySegment.ofArray(Quantizer.quantize(t, row)), 0, data, r * rowBytes, rowBytes);
        }
        w = WeightMatrix.of("bench", t, data, rows, cols);
        x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        out = new float[T * rows];
        pool = new WorkerPool(threads);
        bytesPerOp = (double) rowBytes * rows;
        flopPerOp = 2.0 * rows * cols * T;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    /** Derived rates, normalised by JMH per second of measurement. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double weightGB;
        public double gflop;
    }

    @Benchmark
    public float matmul(Rates rates) {
        w.matmul(pool, x, T, out);
        rates.weightGB += bytesPerOp * 1e-9;
        rates.gflop += flopPerOp * 1e-9;
        return out[0];
    }
}
