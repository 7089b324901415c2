package io.chorus.bench;

import io.chorus.tensor.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Read bandwidth of main memory: every worker sums its share of a buffer much larger than the
 * caches with vector loads. This is the ceiling of single-stream decode, which must read every
 * weight once per token; docs/PERFORMANCE.md reports decode speed as a share of it.
 *
 * <p>Usage: scripts/bench-memory [threads] [MiB]
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    public static void main(String[] args) {
        Locale.setDefault(Locale.ROOT);
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : WorkerPool.defaultThreads();
        long bytes = (args.length > 1 ? Long.parseLong(args[1]) : 1024) << 20;
        System.out.printf("read bandwidth, %d threads, %d MiB buffer: %.1f GB/s (best of 7)%n", threads, bytes >> 20, measure(threads, bytes));
    }

    /** Best read bandwidth in GB/s over 7 passes. */
    public static double measure(int threads, long bytes) {
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads)) {
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1);
            long chunk = 1 << 20;
            int chunks = (int) (bytes / chunk);
            float[] sink = new float[threads];
            double best = 0;
            for (int pass = 0; pass < 7; pass++) {
                long t0 = System.nanoTime();
                pool.run(chunks, (w, from, to) -> {
                    FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
                    int step = F.vectorByteSize();
                    for (long off = from * chunk, end = to * chunk; off < end; off += 4L * step) {
                        a = a.add(FloatVector.fromMemorySegment(F, buf, off, ByteOrder.LITTLE_ENDIAN));
                        b = b.add(FloatVector.fromMemorySegment(F, buf, off + step, ByteOrder.LITTLE_ENDIAN));
                        c = c.add(FloatVector.fromMemorySegment(F, buf, off + 2L * step, ByteOrder.LITTLE_ENDIAN));
                        d = d.add(FloatVector.fromMemorySegment(F, buf, off + 3L * step, ByteOrder.LITTLE_ENDIAN));
                    }
                    sink[w] += a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
                });
                double sec = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, bytes / sec / 1e9);
            }
            if (sink[0] == 42) System.out.print("");
            return best;
        }
    }
}
