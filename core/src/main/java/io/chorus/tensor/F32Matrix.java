package io.chorus.tensor;

import java.lang.foreign.MemorySegment;

/** F32 weights: plain little-endian float32, row-major. */
public final class F32Matrix extends TiledMatrix {
    public F32Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.F32; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        MemorySegment.copy(data, LE_FLOAT, r * rowBytes + 4L * c0, dst, off, c1 - c0);
    }
}
