package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP8 weights as AutoFP8 / llm-compressor write them for vLLM: one float8 e4m3fn byte per weight,
 * row-major [out][in], times a per-tensor or per-output-row scale. W[r][c] = e4m3(byte) * scale[r].
 *
 * <p>e4m3fn: sign bit 7, exponent bits 6-3 (bias 7), mantissa bits 2-0; exponent 0 is subnormal
 * (m/8 * 2^-6); 0x7F/0xFF are NaN; no infinity. Placing the low 7 bits at float bits 20..26 gives a
 * float32 whose value is the e4m3 value times 2^-120 (subnormals included, as float32 subnormals), so
 * one multiply by scale * 2^120 decodes and scales exactly: the same float as e4m3(byte) * scale.
 */
public final class Fp8Matrix extends TiledMatrix {
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final float UNBIAS = 0x1p120f;

    private final float[] scales; // [rows], scale * 2^120 of each output row
    private final MemorySegment scaleSegment; // the same floats, as the native kernel reads them

    /**
     * @param weight     rows x cols e4m3fn bytes
     * @param rowScales  one scale for the whole matrix, or one per row
     */
    public Fp8Matrix(String name, MemorySegment weight, float[] rowScales, int rows, int cols) {
        super(name, weight, rows, cols);
        if (weight.byteSize() != (long) rows * cols) {
            throw new IllegalArgumentException("tensor " + name + " (F8_E4M3, " + rows + " x " + cols + ") needs " + (long) rows * cols + " bytes, got " + weight.byteSize());
        }
        if (rowScales.length != 1 && rowScales.length != rows) {
            throw new IllegalArgumentException("tensor " + name + " has " + rowScales.length + " scales; expected 1 (per tensor) or " + rows + " (per row)");
        }
        scales = new float[rows];
        for (int r = 0; r < rows; r++) scales[r] = (rowScales.length == 1 ? rowScales[0] : rowScales[r]) * UNBIAS;
        scaleSegment = MemorySegment.ofArray(scales);
    }

    /** The native kernel where loaded (the same weights; sums in its own fixed order), else the Java one. */
    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (NativeHfqKernels.fp8()) NativeHfqKernels.fp8(this, scaleSegment, x, T, out, outStride, r0, r1);
        else super.matmul(x, T, out, outStride, r0, r1);
    }

    /** The Java kernel alone (tests compare it with the native one). */
    void javaMatmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        super.matmul(x, T, out, outStride, r0, r1);
    }

    /** Each row's scale times 2^120, as the native kernel reads them. */
    MemorySegment scaleSegment() { return scaleSegment; }

    @Override
    public GgmlType type() { return GgmlType.F8_E4M3; }

    /** The exact value of one e4m3fn byte (NaN for 0x7F / 0xFF). */
    public static float e4m3(byte b) {
        int e = (b >> 3) & 0xF, m = b & 7;
        if (e == 0xF && m == 7) return Float.NaN;
        float v = e == 0 ? m * 0x1p-9f : Math.scalb(1 + m / 8f, e - 7);
        return b < 0 ? -v : v;
    }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long base = (long) r * cols;
        float s = scales[r];
        int c = c0;
        for (; c + L <= c1; c += L) {
            ByteVector b = bytes(data, base + c);
            IntVector i = (IntVector) b.convertShape(VectorOperators.B2I, I, 0); // sign-extended: bit 7 stays set
            i.and(0x7F).lanewise(LSHL, 20).or(i.and(0x80).lanewise(LSHL, 24))
                    .reinterpretAsFloats().mul(s).intoArray(dst, off + c - c0);
        }
        for (; c < c1; c++) {
            int b = data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + c);
            dst[off + c - c0] = Float.intBitsToFloat(((b & 0x7F) << 20) | ((b & 0x80) << 24)) * s;
        }
    }
}
