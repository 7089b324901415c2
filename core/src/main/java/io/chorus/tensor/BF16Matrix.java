package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** BF16 weights: little-endian bfloat16 (the top 16 bits of a float32), row-major. */
public final class BF16Matrix extends TiledMatrix {
    public BF16Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.BF16; }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long base = r * rowBytes;
        int c = 0;
        for (; c + 16 <= cols; c += 16) {
            // 16 bf16 -> 16 ints (the sign extension is shifted out) -> << 16 = the float bits
            ShortVector h = ShortVector.fromMemorySegment(ShortVector.SPECIES_256, data, base + 2L * c, LE);
            ((IntVector) h.convertShape(VectorOperators.S2I, IntVector.SPECIES_512, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + c);
        }
        for (; c < cols; c++) dst[off + c] = Float.intBitsToFloat(data.get(LE_SHORT, base + 2L * c) << 16);
    }
}
