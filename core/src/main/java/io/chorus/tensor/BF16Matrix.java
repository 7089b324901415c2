package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** BF16 weights: little-endian bfloat16 (the top 16 bits of a float32), row-major. */
public final class BF16Matrix extends TiledMatrix {
    public BF16Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.BF16; }

    /** L bf16 values per step, widened to ints in a vector of the float shape. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long base = r * rowBytes;
        int c = c0;
        for (; c + L <= c1; c += L) {
            // L bf16 -> L ints (the sign extension is shifted out) -> << 16 = the float bits
            ShortVector h = ShortVector.fromMemorySegment(S, data, base + 2L * c, LE);
            ((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + c - c0);
        }
        for (; c < c1; c++) dst[off + c - c0] = Float.intBitsToFloat(data.get(LE_SHORT, base + 2L * c) << 16);
    }
}
