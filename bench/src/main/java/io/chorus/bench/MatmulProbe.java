package io.chorus.bench;

import io.chorus.tensor.GgmlType;
import io.chorus.tensor.Quantizer;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

/**
 * Best-of-N timing of the batched matmul, a companion to the JMH MatmulBench for shared, noisy
 * machines: the fastest of many runs is far steadier than a mean when other processes steal the
 * cores. Each type runs for a few seconds first so C2 has compiled the kernels.
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp bench/target/chorus-jmh.jar
 * io.chorus.bench.MatmulProbe Q8_0,Q4_0 1,16,64 896x4864,8192x2048 2 [seconds]}
 * prints weight GB/s (bytes of the matrix / time) and GFLOP/s (2 * rows * cols * T / time).
 */
public final class MatmulProbe {
    public static void main(String[] args) {
        String[] types = args[0].split(",");
        int[] ts = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        String[] shapes = args[2].split(",");
        int threads = Integer.parseInt(args[3]);
        long nanos = (long) ((args.length > 4 ? Double.parseDouble(args[4]) : 4) * 1e9);
        try (WorkerPool pool = new WorkerPool(threads); Arena arena = Arena.ofShared()) {
            for (String type : types) {
                GgmlType t = GgmlType.valueOf(type);
                for (String shape : shapes) {
                    int rows = Integer.parseInt(shape.split("x")[0]), cols = Integer.parseInt(shape.split("x")[1]);
                    if (cols % t.blockSize != 0) continue;
                    long rowBytes = t.bytesFor(cols);
                    MemorySegment data = arena.allocate(rowBytes * rows, 64);
                    Random rnd = new Random(1);
                    float[] row = new float[cols];
                    for (int r = 0; r < rows; r++) {
                        if (r < 64) { // 64 distinct rows repeated: quick to build, same bytes per row
                            for (int c = 0; c < cols; c++) row[c] = (float) (rnd.nextGaussian() * 0.02);
                            MemorySegment.copy(MemorySegment.ofArray(Quantizer.quantize(t, row)), 0, data, r * rowBytes, rowBytes);
                        } else {
                            MemorySegment.copy(data, (r % 64) * rowBytes, data, r * rowBytes, rowBytes);
                        }
                    }
                    WeightMatrix w = WeightMatrix.of("probe", t, data, rows, cols);
                    for (int T : ts) {
                        float[] x = new float[T * cols];
                        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                        float[] out = new float[T * rows];
                        long best = Long.MAX_VALUE, end = System.nanoTime() + nanos;
                        for (int it = 0; System.nanoTime() < end || it < 30; it++) {
                            long t0 = System.nanoTime();
                            w.matmul(pool, x, T, out);
                            long dt = System.nanoTime() - t0;
                            if (it >= 10) best = Math.min(best, dt);
                        }
                        double s = best * 1e-9;
                        System.out.printf("%-5s %-11s T=%-3d threads=%d best %9.1f us %7.1f GB/s %7.1f GFLOP/s%n", type, shape, T,
                                threads, best / 1e3, rowBytes * rows / s / 1e9, 2.0 * rows * cols * T / s / 1e9);
                    }
                }
            }
        }
    }
}
