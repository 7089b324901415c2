package io.chorus.bench;

import io.chorus.tensor.GgmlType;
import io.chorus.tensor.NativeKernels;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Native against Java matmul kernels, interleaved in one process and reported as the best of many
 * rounds, which is what survives on a shared, noisy machine (JMH averages do not).
 *
 * <p>Usage: java -cp bench/target/chorus-jmh.jar io.chorus.bench.MatmulCompare [types] [Ts] [threads] [rows] [cols] [rounds]
 */
public final class MatmulCompare {
    public static void main(String[] args) {
        Locale.setDefault(Locale.ROOT);
        String[] types = (args.length > 0 ? args[0] : "Q8_0,Q4_0,Q4_K,Q6_K").split(",");
        String[] ts = (args.length > 1 ? args[1] : "1,16,64").split(",");
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rows = args.length > 3 ? Integer.parseInt(args[3]) : 8192;
        int cols = args.length > 4 ? Integer.parseInt(args[4]) : 8192;
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 15;
        cpuTime = threads == 1;
        System.out.println(NativeKernels.description() + "; " + (cpuTime ? "thread CPU time; " : "") + threads + " threads; " + rows + "x" + cols + "; best of " + rounds);
        System.out.println("type  T      native ms   java ms   native GB/s GFLOP/s   java GB/s GFLOP/s   speed-up");
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads)) {
            for (String type : types) {
                GgmlType t = GgmlType.valueOf(type);
                WeightMatrix w = WeightMatrix.of("w", t, randomWeights(arena, t, rows, cols), rows, cols);
                for (String tStr : ts) {
                    int T = Integer.parseInt(tStr);
                    float[] x = new float[T * cols];
                    SplittableRandom rnd = new SplittableRandom(2);
                    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                    float[] out = new float[T * rows];
                    double bestN = Double.MAX_VALUE, bestJ = Double.MAX_VALUE;
                    for (int r = 0; r < rounds + 2; r++) {
                        double n = time(() -> pool.run((rows + 15) / 16, (k, from, to) ->
                                NativeKernels.matmul(w, x, T, out, rows, from * 16, Math.min(rows, to * 16))));
                        double j = time(() -> pool.run((rows + 15) / 16, (k, from, to) ->
                                w.matmul(x, T, out, rows, from * 16, Math.min(rows, to * 16))));
                        if (r >= 2) { bestN = Math.min(bestN, n); bestJ = Math.min(bestJ, j); }
                    }
                    double gb = w.rowBytes() * (double) rows / 1e9, gf = 2.0 * rows * cols * T / 1e9;
                    System.out.printf("%-5s %-3d %9.2f %9.2f %10.1f %8.1f %10.1f %8.1f %8.2fx%n", type, T, bestN * 1e3, bestJ * 1e3,
                            gb / bestN, gf / bestN, gb / bestJ, gf / bestJ, bestJ / bestN);
                }
            }
        }
    }

    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
    private static boolean cpuTime;

    /** Wall time, or with one thread this thread's CPU time (immune to being descheduled on a busy machine). */
    private static double time(Runnable r) {
        long t0 = cpuTime ? MX.getCurrentThreadCpuTime() : System.nanoTime();
        r.run();
        return ((cpuTime ? MX.getCurrentThreadCpuTime() : System.nanoTime()) - t0) / 1e9;
    }

    static MemorySegment randomWeights(Arena arena, GgmlType t, int rows, int cols) {
        long bytes = t.bytesFor((long) rows * cols);
        MemorySegment data = arena.allocate(bytes, 64);
        SplittableRandom rnd = new SplittableRandom(1);
        for (long i = 0; i + 8 <= bytes; i += 8) data.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        short scale = Float.floatToFloat16(0.01f);
        for (long b = 0; b < bytes; b += t.typeSize) {
            switch (t) {
                case Q8_0, Q4_0, F16, BF16 -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case Q4_K, Q5_K -> { data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale); data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 2, scale); }
                case Q6_K -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, scale);
                case Q5_0, IQ4_NL -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case Q4_1, Q5_1 -> { data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale); data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 2, scale); }
                case Q2_K -> { data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 80, scale); data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 82, scale); }
                case Q3_K -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 108, scale);
                case IQ4_XS -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, scale);
                case F32 -> data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, b, 0.01f);
                default -> throw new IllegalArgumentException(t.name());
            }
        }
        return data;
    }
}
