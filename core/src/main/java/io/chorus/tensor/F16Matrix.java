package io.chorus.tensor;

import java.lang.foreign.MemorySegment;

/** F16 weights: plain little-endian IEEE half precision, row-major. */
public final class F16Matrix extends TiledMatrix {
    public F16Matrix(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols);
    }

    @Override
    public GgmlType type() { return GgmlType.F16; }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        // Simple counted loop: C2 vectorises Float.float16ToFloat (vcvtph2ps) here.
        long base = r * rowBytes;
        int o = off - c0;
        for (int c = c0; c < c1; c++) dst[o + c] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * c));
    }
}
