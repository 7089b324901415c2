package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * AWQ 4-bit weights in AutoAWQ's GEMM packing, as vLLM reads {@code quant_method: awq}:
 * {@code qweight} i32 [in][out / 8], {@code qzeros} i32 [in / group][out / 8], {@code scales} f16
 * [in / group][out]. In column j of qweight and qzeros, output 8j + k sits in nibble
 * {@code [0, 4, 1, 5, 2, 6, 3, 7][k]} (AutoAWQ interleaves the eight outputs of a word as 0, 2, 4, 6,
 * 1, 3, 5, 7). W[o][i] = (q[i][o] - z[i / group][o]) * s[i / group][o], both nibbles unsigned.
 *
 * <p>Inputs are the outer dimension here: one word holds eight outputs of one input, so a tile of
 * eight rows ({@link #decode8}) reads one word per input and shifts its nibbles into eight lanes; one
 * output row alone ({@link #dequantizeRange}) is a strided walk through qweight.
 */
public final class AwqMatrix extends Packed4Matrix {
    /** Nibble of output 8j + k within its word. */
    static final int[] NIBBLE = {0, 4, 1, 5, 2, 6, 3, 7};
    /** Per lane l (output 8j + l), the shift that brings its nibble down. */
    private static final int[] SHIFT = {0, 16, 4, 20, 8, 24, 12, 28};

    private final MemorySegment zeros, scales;
    private final int groupSize;
    private final long wordsPerInput; // out / 8
    private final MemorySegment kernelZeros, kernelScales; // as the native kernel reads them
    private final boolean nativeKernel, int8Kernel, int16Kernel;

    public AwqMatrix(String name, MemorySegment qweight, MemorySegment qzeros, MemorySegment scales, int rows, int cols, int groupSize) {
        super(name, qweight, rows, cols);
        if (rows % 8 != 0 || groupSize <= 0 || cols % groupSize != 0) {
            throw new IllegalArgumentException("AWQ tensor " + name + ": " + rows + " outputs must be a multiple of 8 and "
                    + cols + " inputs a multiple of group_size " + groupSize);
        }
        long groups = cols / groupSize;
        check(name + ".qweight", qweight, (long) cols * rows / 2);
        check(name + ".qzeros", qzeros, groups * rows / 2);
        check(name + ".scales", scales, groups * rows * 2);
        this.zeros = qzeros;
        this.scales = scales;
        this.groupSize = groupSize;
        this.wordsPerInput = rows / 8;
        this.kernelZeros = NativeHfqKernels.unscoped(qzeros);
        this.kernelScales = NativeHfqKernels.unscoped(scales);
        this.nativeKernel = NativeHfqKernels.awq() && NativeHfqKernels.groupSizeSupported(groupSize);
        this.int8Kernel = NativeHfqKernels.awq8() && NativeHfqKernels.int8GroupSizeSupported(groupSize);
        this.int16Kernel = NativeHfqKernels.awq16() && NativeHfqKernels.int16Supported(cols, groupSize);
    }

    /** 8-bit activations only with the native integer kernel (there is no Java twin to fall back on). */
    @Override
    Q8Activations.Format int8Format() {
        return int8Kernel ? Q8Activations.Format.B32 : null;
    }

    /**
     * Auto does not take the 8-bit path: on the HF fixtures rounding activations to 8 bits moves
     * logits by up to ~0.4 and changes greedy continuations the float path reproduces exactly; INT8
     * (--activation-precision int8) opts in.
     */
    @Override
    public boolean prefersInt8() {
        return false;
    }

    /** Auto takes 16-bit activations (float-like results, integer dot products) where the native kernel is loaded, else floats. */
    @Override
    Q8Activations.Format autoFormat() {
        return int16Kernel ? Q8Activations.Format.I16 : null;
    }

    /** 128 outputs: a 64-byte line of each input's words, the single-token kernel's pair of tiles. */
    @Override
    int streamRows() {
        return 128;
    }

    @Override
    void matmulQ(Q8Activations.Format format, byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        NativeHfqKernels.awqQ(format, this, kernelZeros, kernelScales, groupSize, xq, T, out, outStride, r0, r1);
    }

    /** The native kernel where loaded and the group size suits it, else the Java one. */
    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (nativeKernel && r0 % 8 == 0 && r1 % 8 == 0) NativeHfqKernels.awq(this, kernelZeros, kernelScales, groupSize, x, T, out, outStride, r0, r1);
        else super.matmul(x, T, out, outStride, r0, r1);
    }

    /** The Java kernel alone (tests compare it with the native one). */
    void javaMatmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        super.matmul(x, T, out, outStride, r0, r1);
    }

    /** True when products take the native kernel. */
    boolean nativeKernel() { return nativeKernel; }

    MemorySegment kernelZeros() { return kernelZeros; }
    MemorySegment kernelScales() { return kernelScales; }
    int groupSize() { return groupSize; }

    static void check(String name, MemorySegment s, long bytes) {
        if (s.byteSize() != bytes) throw new IllegalArgumentException("tensor " + name + " has " + s.byteSize() + " bytes, expected " + bytes);
    }

    @Override
    public GgmlType type() { return GgmlType.AWQ_4; }

    @Override
    protected void decode8(int r, int c0, int c1, float[] wT) {
        IntVector shifts = IntVector.fromArray(I8, SHIFT, 0);
        float[] sz = laneBuffer(); // [0, 8): scales, [8, 16): zeros of the group
        long word = r >>> 3, step = wordsPerInput * 4;
        for (int g0 = c0; g0 < c1; ) {
            int g = g0 / groupSize, g1 = Math.min(c1, (g + 1) * groupSize);
            int zw = zeros.get(LE_INT, (g * wordsPerInput + word) * 4);
            for (int l = 0; l < 8; l++) {
                sz[l] = Float.float16ToFloat(scales.get(LE_SHORT, ((long) g * rows + r + l) * 2));
                sz[8 + l] = (zw >>> SHIFT[l]) & 0xF;
            }
            FloatVector s = FloatVector.fromArray(F8, sz, 0), z = FloatVector.fromArray(F8, sz, 8);
            long at = (g0 * wordsPerInput + word) * 4;
            for (int c = g0; c < g1; c++, at += step) {
                IntVector q = IntVector.broadcast(I8, data.get(LE_INT, at)).lanewise(VectorOperators.LSHR, shifts).and(0xF);
                ((FloatVector) q.convert(VectorOperators.I2F, 0)).sub(z).mul(s).intoArray(wT, (c - c0) * 8);
            }
            g0 = g1;
        }
    }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        long word = r >>> 3;
        int shift = 4 * NIBBLE[r & 7];
        for (int g0 = c0; g0 < c1; ) {
            int g = g0 / groupSize, g1 = Math.min(c1, (g + 1) * groupSize);
            int z = (zeros.get(LE_INT, (g * wordsPerInput + word) * 4) >>> shift) & 0xF;
            float s = Float.float16ToFloat(scales.get(LE_SHORT, ((long) g * rows + r) * 2));
            long at = (g0 * wordsPerInput + word) * 4, step = wordsPerInput * 4;
            for (int c = g0; c < g1; c++, at += step) {
                int q = (data.get(LE_INT, at) >>> shift) & 0xF;
                dst[off + c - c0] = (q - z) * s;
            }
            g0 = g1;
        }
    }
}
