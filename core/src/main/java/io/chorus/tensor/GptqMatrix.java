package io.chorus.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * GPTQ 4-bit weights as AutoGPTQ packs them and vLLM reads {@code quant_method: gptq}: {@code qweight}
 * i32 [in / 8][out], nibble j of word [k][o] holding input 8k + j of output o; {@code qzeros} i32
 * [groups][out / 8], nibble j of word [g][c] holding output 8c + j; {@code scales} f16 [groups][out];
 * {@code g_idx} [in] the group of each input (i / group_size, or any order with desc_act).
 * W[o][i] = (q - (z[g][o] + zeroOffset)) * s[g][o] with g = g_idx[i]; zeroOffset is 1 for the original
 * checkpoint format, which stores zero - 1, and 0 for gptq_v2.
 *
 * <p>The words of eight consecutive outputs for the same eight inputs are adjacent, so a tile of
 * eight rows ({@link #decode8}) loads them as one 8-lane vector and takes one nibble per input.
 */
public final class GptqMatrix extends Packed4Matrix {
    private final MemorySegment zeros, scales;
    private final int[] groupOf;    // [cols] group of each input
    private final int zeroOffset;
    private final int zeroWords;    // out / 8
    private final MemorySegment kernelZeros, kernelScales; // as the native kernel reads them
    /** Inputs per group when g_idx is the trivial order (input i in group i / size) and the native kernel takes it, else 0. */
    private final int nativeGroupSize;
    /** The same for the 8-bit activation kernel, else 0. */
    private final int int8GroupSize;
    /** The same for the 16-bit activation kernel, else 0. */
    private final int int16GroupSize;

    public GptqMatrix(String name, MemorySegment qweight, MemorySegment qzeros, MemorySegment scales, int[] groupOf,
                      int groups, int rows, int cols, int zeroOffset) {
        super(name, qweight, rows, cols);
        if (rows % 8 != 0 || cols % 8 != 0) {
            throw new IllegalArgumentException("GPTQ tensor " + name + ": " + rows + " outputs and " + cols + " inputs must be multiples of 8");
        }
        if (groupOf.length != cols) throw new IllegalArgumentException("tensor " + name + ".g_idx has " + groupOf.length + " entries, expected " + cols);
        for (int g : groupOf) {
            if (g < 0 || g >= groups) throw new IllegalArgumentException("tensor " + name + ".g_idx holds group " + g + " outside [0, " + groups + ")");
        }
        AwqMatrix.check(name + ".qweight", qweight, (long) cols * rows / 2);
        AwqMatrix.check(name + ".qzeros", qzeros, (long) groups * rows / 2);
        AwqMatrix.check(name + ".scales", scales, (long) groups * rows * 2);
        this.zeros = qzeros;
        this.scales = scales;
        this.groupOf = groupOf;
        this.zeroOffset = zeroOffset;
        this.zeroWords = rows / 8;
        this.kernelZeros = NativeHfqKernels.unscoped(qzeros);
        this.kernelScales = NativeHfqKernels.unscoped(scales);
        int gs = trivialGroupSize(groupOf, groups);
        this.nativeGroupSize = NativeHfqKernels.gptq() && NativeHfqKernels.groupSizeSupported(gs) ? gs : 0;
        this.int8GroupSize = NativeHfqKernels.gptq8() && NativeHfqKernels.int8GroupSizeSupported(gs) ? gs : 0;
        this.int16GroupSize = NativeHfqKernels.gptq16() && gs > 0 && NativeHfqKernels.int16Supported(cols, gs) ? gs : 0;
    }

    /** 8-bit activations only with the native integer kernel (there is no Java twin to fall back on). */
    @Override
    Q8Activations.Format int8Format() {
        return int8GroupSize > 0 ? Q8Activations.Format.B32 : null;
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

    /** Auto takes 16-bit activations (float-like results, integer dot products) where the native kernel takes this matrix, else floats. */
    @Override
    Q8Activations.Format autoFormat() {
        return int16GroupSize > 0 ? Q8Activations.Format.I16 : null;
    }

    @Override
    void matmulQ(Q8Activations.Format format, byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        int gs = format == Q8Activations.Format.I16 ? int16GroupSize : int8GroupSize;
        NativeHfqKernels.gptqQ(format, this, kernelZeros, kernelScales, gs, zeroOffset, xq, T, out, outStride, r0, r1);
    }

    /**
     * The group size when every input i is in group i / size (no act-order permutation), else 0. An
     * act-order g_idx keeps the Java kernel, which looks each input's group up.
     */
    static int trivialGroupSize(int[] groupOf, int groups) {
        int cols = groupOf.length;
        if (groups <= 0 || cols % groups != 0) return 0;
        int gs = cols / groups;
        for (int i = 0; i < cols; i++) if (groupOf[i] != i / gs) return 0;
        return gs;
    }

    /** The native kernel where loaded and g_idx is the trivial order, else the Java one. */
    @Override
    public void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (nativeGroupSize > 0 && r0 % 8 == 0 && r1 % 8 == 0) {
            NativeHfqKernels.gptq(this, kernelZeros, kernelScales, nativeGroupSize, zeroOffset, x, T, out, outStride, r0, r1);
        } else {
            super.matmul(x, T, out, outStride, r0, r1);
        }
    }

    /** The Java kernel alone (tests compare it with the native one). */
    void javaMatmul(float[] x, int T, float[] out, int outStride, int r0, int r1) {
        super.matmul(x, T, out, outStride, r0, r1);
    }

    /** The group size the native kernel runs with, or 0 when products take the Java kernel. */
    int nativeGroupSize() { return nativeGroupSize; }

    MemorySegment kernelZeros() { return kernelZeros; }
    MemorySegment kernelScales() { return kernelScales; }
    int zeroOffset() { return zeroOffset; }

    @Override
    public GgmlType type() { return GgmlType.GPTQ_4; }

    @Override
    protected void decode8(int r, int c0, int c1, float[] wT) {
        float[] sz = laneBuffer(); // [0, 8): scales, [8, 16): zeros of the current group
        int g = -1;
        FloatVector s = null, z = null;
        for (int c = c0; c < c1; c += 8) {
            IntVector words = IntVector.fromMemorySegment(I8, data, ((long) (c >>> 3) * rows + r) * 4, LE);
            for (int j = 0; j < 8; j++) {
                int gj = groupOf[c + j];
                if (gj != g) {
                    g = gj;
                    int zw = zeros.get(LE_INT, ((long) g * zeroWords + (r >>> 3)) * 4);
                    for (int l = 0; l < 8; l++) {
                        sz[l] = Float.float16ToFloat(scales.get(LE_SHORT, ((long) g * rows + r + l) * 2));
                        sz[8 + l] = ((zw >>> (4 * l)) & 0xF) + zeroOffset;
                    }
                    s = FloatVector.fromArray(F8, sz, 0);
                    z = FloatVector.fromArray(F8, sz, 8);
                }
                IntVector q = words.lanewise(VectorOperators.LSHR, 4 * j).and(0xF);
                ((FloatVector) q.convert(VectorOperators.I2F, 0)).sub(z).mul(s).intoArray(wT, (c + j - c0) * 8);
            }
        }
    }

    @Override
    protected void dequantizeRange(int r, int c0, int c1, float[] dst, int off) {
        int zshift = 4 * (r & 7);
        int g = -1;
        float s = 0, z = 0;
        for (int c = c0; c < c1; c += 8) {
            int word = data.get(LE_INT, ((long) (c >>> 3) * rows + r) * 4);
            for (int j = 0; j < 8; j++) {
                int gj = groupOf[c + j];
                if (gj != g) {
                    g = gj;
                    z = ((zeros.get(LE_INT, ((long) g * zeroWords + (r >>> 3)) * 4) >>> zshift) & 0xF) + zeroOffset;
                    s = Float.float16ToFloat(scales.get(LE_SHORT, ((long) g * rows + r) * 2));
                }
                dst[off + c + j - c0] = (((word >>> (4 * j)) & 0xF) - z) * s;
            }
        }
    }
}
