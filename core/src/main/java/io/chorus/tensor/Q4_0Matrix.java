package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0 weights. Block of 32 values in 18 bytes: {@code half d; u8 qs[16]};
 * x[j] = ((qs[j] & 0xF) - 8) * d and x[j + 16] = ((qs[j] >> 4) - 8) * d for j < 16.
 */
public final class Q4_0Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 18;

    public Q4_0Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q4_0; }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b);
            ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, b + 2, LE);
            ByteVector lo = q.lanewise(VectorOperators.AND, (byte) 0x0F).sub((byte) 8);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, FloatTiles.F, 0)).mul(d).intoArray(dst, off + c);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, FloatTiles.F, 0)).mul(d).intoArray(dst, off + c + 16);
        }
    }
}
