package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 weights. Block of 32 values in 34 bytes: {@code half d; int8 qs[32]}; x[j] = d * qs[j].
 */
public final class Q8_0Matrix extends TiledMatrix {
    static final int BLOCK = 32, BYTES = 34;

    public Q8_0Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.Q8_0; }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c += BLOCK, b += BYTES) {
            float d = half(b);
            for (int h = 0; h < 2; h++) {
                ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, b + 2 + 16 * h, LE);
                FloatVector f = (FloatVector) q.convertShape(VectorOperators.B2F, FloatTiles.F, 0);
                f.mul(d).intoArray(dst, off + c + 16 * h);
            }
        }
    }
}
