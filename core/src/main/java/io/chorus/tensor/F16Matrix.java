package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** F16 weights: plain little-endian IEEE half precision, row-major. */
public final class F16Matrix extends TiledMatrix {
    /** L halves per step, widened to ints in a vector of the float shape. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    public F16Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.F16; }

    /**
     * The Vector API has no half-to-float conversion (and C2 vectorised the scalar
     * Float.float16ToFloat loop only sometimes, depending on where it was inlined): the magnitude
     * bits are moved into float position and scaled by 2^112, which is exact for every normal and
     * subnormal half; a step holding an infinity or NaN is converted one value at a time.
     */
    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long base = r * rowBytes;
        int o = off - c0;
        int c = c0;
        for (; c + L <= c1; c += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, data, base + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector mag = bits.and(0x7fff);
            if (mag.compare(VectorOperators.GE, 0x7c00).anyTrue()) {
                for (int j = c; j < c + L; j++) dst[o + j] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * j));
                continue;
            }
            mag.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f)
                    .reinterpretAsInts().or(bits.and(0x80000000)).reinterpretAsFloats().intoArray(dst, o + c);
        }
        for (; c < c1; c++) dst[o + c] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * c));
    }
}
