package io.chorus.tensor;

import java.lang.foreign.MemorySegment;

/** BF16 weights: little-endian bfloat16 (the top 16 bits of a float32), row-major. */
public final class BF16Matrix extends TiledMatrix {
    public BF16Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.BF16; }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        // A plain counted loop over the segment; C2 vectorises it (as for F16).
        long base = r * rowBytes;
        for (int c = 0; c < cols; c++) dst[off + c] = Float.intBitsToFloat(data.get(LE_SHORT, base + 2L * c) << 16);
    }
}
