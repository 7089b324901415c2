package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shared product of the 4-bit formats packed along outputs (AWQ, GPTQ): their words hold eight
 * outputs of one input (AWQ) or eight inputs of one output read eight outputs at a time (GPTQ), so a
 * tile of 8 output rows decodes naturally into 8-lane vectors, one per input. A tile is decoded once
 * per column chunk, transposed ([input][8 outputs], {@link #decode8}), and then every token of the
 * batch multiplies it with one broadcast activation per input and 8-lane FMAs into accumulators held
 * in locals (tiles of 4 tokens). Each token's sums run in the same order whatever the batch size.
 *
 * <p>Machines whose float vectors are narrower than 8 lanes (128-bit) take the generic row path of
 * {@link TiledMatrix}, as do row ranges that do not start and end on a tile of 8.
 */
abstract class Packed4Matrix extends TiledMatrix {
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    /** True where 8-lane float vectors are native (AVX2, AVX-512); else the row path. */
    static final boolean WIDE = L >= 8;

    protected Packed4Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    /**
     * Writes rows [r, r + 8) over inputs [c0, c1) transposed: {@code wT[(c - c0) * 8 + l] = W[r + l][c]}.
     * r is a multiple of 8; c0, c1 multiples of 8.
     */
    protected abstract void decode8(int r, int c0, int c1, float[] wT);

    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (!WIDE || r0 % 8 != 0 || (r1 - r0) % 8 != 0) {
            super.matmul(x, T, out, outStride, r0, r1);
            return;
        }
        float[] wT = scratch(8 * KC);
        for (int r = r0; r < r1; r += 8) {
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int c1 = Math.min(cols, c0 + KC), n = c1 - c0;
                decode8(r, c0, c1, wT);
                boolean add = c0 > 0;
                int t = 0;
                for (; t + 4 <= T; t += 4) {
                    FloatVector a0 = FloatVector.zero(F8), a1 = a0, a2 = a0, a3 = a0;
                    int x0 = t * cols + c0, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
                    for (int c = 0; c < n; c++) {
                        FloatVector w = FloatVector.fromArray(F8, wT, c * 8);
                        a0 = w.fma(FloatVector.broadcast(F8, x[x0 + c]), a0);
                        a1 = w.fma(FloatVector.broadcast(F8, x[x1 + c]), a1);
                        a2 = w.fma(FloatVector.broadcast(F8, x[x2 + c]), a2);
                        a3 = w.fma(FloatVector.broadcast(F8, x[x3 + c]), a3);
                    }
                    store(a0, out, t * outStride + r, add);
                    store(a1, out, (t + 1) * outStride + r, add);
                    store(a2, out, (t + 2) * outStride + r, add);
                    store(a3, out, (t + 3) * outStride + r, add);
                }
                for (; t < T; t++) {
                    FloatVector a0 = FloatVector.zero(F8);
                    int x0 = t * cols + c0;
                    for (int c = 0; c < n; c++) a0 = FloatVector.fromArray(F8, wT, c * 8).fma(FloatVector.broadcast(F8, x[x0 + c]), a0);
                    store(a0, out, t * outStride + r, add);
                }
            }
        }
    }

    private static void store(FloatVector a, float[] out, int at, boolean add) {
        (add ? a.add(FloatVector.fromArray(F8, out, at)) : a).intoArray(out, at);
    }
}
