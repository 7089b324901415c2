package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shared batched product for all weight types: a tile of 4 weight rows is decoded ONCE into a
 * per-thread float scratch array (each type's vectorised {@link #dequantizeRow}) and then
 * multiplied with all T activation rows by the register-tiled {@link FloatTiles} kernels.
 *
 * <p>Columns are processed in chunks of {@link #KC} so that the 4 decoded rows and the
 * activations of a 4-token tile stay in L1 and the activations of all tokens of one chunk stay in
 * L2 while the row tiles stream past. Types may override {@link #matvec} with a fused
 * decode-and-dot kernel for the single-token case, which is bound by weight streaming.
 *
 * <p>Rules for the Vector API code of the subclasses, learned by measuring C2 on JDK 25:
 * <ul>
 *   <li>Hot vector code calls only Vector API methods (which are force-inlined), never small
 *       helper methods of ours: once a compilation has grown large C2 stops inlining ordinary
 *       methods (NodeCountInliningCutoff), and a vector passed to or returned from a call that
 *       is not inlined is boxed on the heap, which made kernels 4-5x slower.
 *   <li>AVX-512 has no byte-lane shift; shifting bytes in 16-bit lanes and masking is fast,
 *       the API's byte-lane shift emulation is not.
 *   <li>Keep one add on a loop-carried accumulator per step (sum partial products as a tree)
 *       or FP latency, not throughput, bounds the loop.
 * </ul>
 */
abstract class TiledMatrix extends WeightMatrix {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 16 bytes: one load of quantized weights, widened to 16 floats. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final VectorSpecies<Float> F = FloatTiles.F;
    static final VectorOperators.Conversion<Byte, Float> B2F = VectorOperators.B2F;
    static final VectorOperators.Binary AND = VectorOperators.AND;
    static final VectorOperators.Binary LSHR = VectorOperators.LSHR;
    static final VectorOperators.Binary LSHL = VectorOperators.LSHL;

    /** Decoded rows per tile. */
    static final int ROWS = 4;
    /** Column chunk; a multiple of every block size (256) and of the vector length. */
    static final int KC = 1024;

    /** Per-thread decode buffer; grows on first use per shape and is then reused (no allocation). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    protected final long rowBytes;

    protected TiledMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
        this.rowBytes = type().bytesFor(cols);
    }

    /** Reads the fp16 value at byte offset off. */
    final float half(long off) {
        return Float.float16ToFloat(data.get(LE_SHORT, off));
    }

    static float[] scratch(int n) {
        float[] s = SCRATCH.get();
        if (s.length < n) {
            s = new float[n];
            SCRATCH.set(s);
        }
        return s;
    }

    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (T == 1 && matvec(x, out, r0, r1)) return;
        float[] w = scratch(ROWS * cols);
        int r = r0;
        for (; r + ROWS <= r1; r += ROWS) {
            for (int i = 0; i < ROWS; i++) dequantizeRow(r + i, w, i * cols);
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int c1 = Math.min(cols, c0 + KC);
                boolean add = c0 > 0;
                int t = 0;
                for (; t + 4 <= T; t += 4) FloatTiles.k4x4(w, 0, cols, x, t, out, outStride, r, c0, c1, add);
                for (; t < T; t++) FloatTiles.k4x1(w, 0, cols, x, t, out, outStride, r, c0, c1, add);
            }
        }
        for (; r < r1; r++) {
            dequantizeRow(r, w, 0);
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int c1 = Math.min(cols, c0 + KC);
                for (int t = 0; t < T; t++) FloatTiles.k1x1(w, 0, cols, x, t, out, outStride, r, c0, c1, c0 > 0);
            }
        }
    }

    /**
     * Optional fused single-token kernel: out[r] = W[r] . x for r in [r0, r1). Returns false when
     * the type has none and the generic tiled path should be used.
     */
    protected boolean matvec(float[] x, float[] out, int r0, int r1) {
        return false;
    }
}
