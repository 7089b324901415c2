package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shared product for all weight types and batch sizes: a tile of 4 weight rows is decoded, one
 * column chunk of {@link #KC} at a time, into a per-thread float scratch array (each type's
 * vectorised {@link #dequantizeRange}) and then multiplied with all T activation rows by the
 * register-tiled {@link FloatTiles} kernels. The decoded chunk (4 x 1024 floats, 16 KB) stays in
 * L1 while the tokens use it, and the activations of one chunk stay in L2 while row tiles stream.
 *
 * <p>A single token takes the same path as a batch (no separate fused kernel), so each token's
 * result is bit-identical whatever the batch size, at any vector width.
 *
 * <p>Vector width: float vectors are {@link FloatTiles#F} (the preferred shape: 4, 8 or 16 lanes);
 * quantised bytes are decoded {@link #L} at a time in byte vectors of {@link #BL}, so each
 * conversion to floats is a single-part widening, the only one C2 turns into one instruction. At
 * 4 lanes there is no 32-bit byte vector: the 4 bytes are read as an int into a 64-bit vector
 * ({@link #bytes}), which also keeps the read inside the block.
 *
 * <p>Rules for the Vector API code of the subclasses, learned by measuring C2 on JDK 25:
 * <ul>
 *   <li>Hot vector code calls only Vector API methods (which are force-inlined) and the tiny
 *       {@link #bytes}, never bigger helpers of ours: once a compilation has grown large C2 stops
 *       inlining ordinary methods (NodeCountInliningCutoff), and a vector passed to or returned
 *       from a call that is not inlined is boxed on the heap, which made kernels 4-5x slower.
 *   <li>x86 has no byte-lane shift; shifting bytes in 16-bit lanes and masking is fast, the
 *       API's byte-lane shift emulation is not.
 *   <li>A species wider than the hardware's vectors, or a conversion of a part other than 0
 *       (a lane slice first), is emulated and many times slower.
 * </ul>
 */
abstract class TiledMatrix extends WeightMatrix {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorSpecies<Float> F = FloatTiles.F;
    /** Float lanes per vector, and quantised values decoded per step: 4, 8 or 16. */
    static final int L = F.length();
    /** Byte vectors holding L quantised values (lanes past L, at L = 4, are ignored). */
    static final VectorSpecies<Byte> BL = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I64 = IntVector.SPECIES_64;
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
    /** Per-thread lane-sum buffer of the tile kernels (see {@link FloatTiles#lanes}). */
    private static final ThreadLocal<float[]> REDUCE = ThreadLocal.withInitial(() -> new float[16 * L]);

    protected final long rowBytes;

    protected TiledMatrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
        this.rowBytes = type().bytesFor(cols);
    }

    /** Reads the fp16 value at byte offset off. */
    final float half(long off) {
        return Float.float16ToFloat(data.get(LE_SHORT, off));
    }

    /**
     * The L bytes at {@code off} in lanes 0..L-1 of a {@link #BL} vector, reading no byte past
     * them (so the last block of a segment can be read).
     */
    static ByteVector bytes(MemorySegment m, long off) {
        return L == 4 ? IntVector.broadcast(I64, m.get(LE_INT, off)).reinterpretAsBytes()
                : ByteVector.fromMemorySegment(BL, m, off, LE);
    }

    /** This thread's lane-sum buffer for {@link FloatTiles#lanes} (16 L floats). */
    static float[] laneBuffer() {
        return REDUCE.get();
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
    public final void dequantizeRow(int r, float[] dst, int off) {
        dequantizeRange(r, 0, cols, dst, off);
    }

    /**
     * Writes the float values of row r, columns [c0, c1), into dst[off .. off + c1 - c0). c0 and
     * c1 are multiples of the block size (or c1 = cols).
     */
    protected abstract void dequantizeRange(int r, int c0, int c1, float[] dst, int off);

    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        float[] w = scratch(ROWS * KC);
        float[] red = laneBuffer();
        int r = r0;
        for (; r + ROWS <= r1; r += ROWS) {
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int c1 = Math.min(cols, c0 + KC), n = c1 - c0;
                for (int i = 0; i < ROWS; i++) dequantizeRange(r + i, c0, c1, w, i * n);
                boolean add = c0 > 0;
                int t = 0;
                for (; t + 4 <= T; t += 4) FloatTiles.k4x4(w, -c0, n, cols, x, t, out, outStride, r, c0, c1, add, red);
                for (; t < T; t++) FloatTiles.k4x1(w, -c0, n, cols, x, t, out, outStride, r, c0, c1, add, red);
            }
        }
        for (; r < r1; r++) {
            for (int c0 = 0; c0 < cols; c0 += KC) {
                int c1 = Math.min(cols, c0 + KC);
                dequantizeRange(r, c0, c1, w, 0);
                for (int t = 0; t < T; t++) FloatTiles.k1x1(w, -c0, cols, x, t, out, outStride, r, c0, c1, c0 > 0, red);
            }
        }
    }
}
