package io.chorus.tensor;

import static io.chorus.tensor.HfWeightMatricesTest.randomFp8;
import static io.chorus.tensor.HfWeightMatricesTest.randomHalves;
import static io.chorus.tensor.HfWeightMatricesTest.randomInts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native FP8, AWQ and GPTQ kernels (chorus_hfq.c) against scalar twins that perform the very
 * operations its header defines, so every output must match bit for bit: at odd shapes (row tails
 * below a tile, column tails, several decode chunks per group), every batch size from 1 to 37, row
 * ranges inside the matrix, per-tensor and per-row FP8 scales, asymmetric and symmetric GPTQ zeros
 * in both checkpoint formats. Bit-exact twins also prove batching cannot change a token's result.
 */
class HfqNativeKernelsTest {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7}; // nibble n holds output 8j + AWQ_ORDER[n]
    private static final int MAX_T = 37;

    // ---- scalar twins of the kernels' arithmetic ----

    /** The kernels' lane sum: l + 4, then l + 2, then l + 1. */
    static float hsum8(float[] a) {
        float[] t = a.clone();
        for (int i = 0; i < 4; i++) t[i] += t[i + 4];
        for (int i = 0; i < 2; i++) t[i] += t[i + 2];
        return t[0] + t[1];
    }

    static float fp8Twin(MemorySegment w, float s, int r, int cols, float[] x, int xo) {
        float[] lanes = new float[8];
        for (int c = 0; c < cols; c++) {
            int b = w.get(ValueLayout.JAVA_BYTE, (long) r * cols + c); // sign-extended, as the kernel's widening
            float wv = Float.intBitsToFloat((b << 20) & 0x87F00000) * s;
            lanes[c % 8] = Math.fma(wv, x[xo + c], lanes[c % 8]);
        }
        return hsum8(lanes);
    }

    static float groupSum(float[] x, int from, int gs) {
        float[] lanes = new float[8];
        for (int i = 0; i < gs; i++) lanes[i % 8] += x[from + i];
        return hsum8(lanes);
    }

    interface Nibbles {
        /** q (weight nibble), z (zero point as used) and s (scale) of output o, input i. */
        float q(int o, int i);
        float z(int o, int g);
        float s(int o, int g);
    }

    static float groupedTwin(Nibbles n, int o, int cols, int gs, float[] x, int xo) {
        float acc = 0;
        for (int g = 0; g < cols / gs; g++) {
            float G = 0;
            for (int i = g * gs; i < (g + 1) * gs; i++) G = Math.fma(n.q(o, i), x[xo + i], G);
            float sx = groupSum(x, xo + g * gs, gs);
            acc = Math.fma(n.s(o, g), Math.fma(-n.z(o, g), sx, G), acc);
        }
        return acc;
    }

    static Nibbles awq(MemorySegment qw, MemorySegment qz, MemorySegment sc, int rows, int gs) {
        int words = rows / 8;
        return new Nibbles() {
            int nibble(int o) { for (int n = 0; n < 8; n++) if (AWQ_ORDER[n] == o % 8) return n; throw new AssertionError(); }
            public float q(int o, int i) { return (qw.getAtIndex(I32, (long) i * words + o / 8) >>> (4 * nibble(o))) & 15; }
            public float z(int o, int g) { return (qz.getAtIndex(I32, (long) g * words + o / 8) >>> (4 * nibble(o))) & 15; }
            public float s(int o, int g) { return Float.float16ToFloat(sc.getAtIndex(I16, (long) g * rows + o)); }
        };
    }

    static Nibbles gptq(MemorySegment qw, MemorySegment qz, MemorySegment sc, int rows, int zeroOffset) {
        return new Nibbles() {
            public float q(int o, int i) { return (qw.getAtIndex(I32, (long) (i / 8) * rows + o) >>> (4 * (i % 8))) & 15; }
            public float z(int o, int g) { return ((qz.getAtIndex(I32, (long) g * (rows / 8) + o / 8) >>> (4 * (o % 8))) & 15) + zeroOffset; }
            public float s(int o, int g) { return Float.float16ToFloat(sc.getAtIndex(I16, (long) g * rows + o)); }
        };
    }

    interface Kernel { void run(float[] x, int T, float[] out, int outStride, int r0, int r1); }
    interface Twin { float at(int r, float[] x, int xo); }
    interface Run { void run(int T, float[] out, int outStride, int r0, int r1); }
    interface TokenTwin { float at(int r, int t); }

    /** Every T in 1..MAX_T and each row range with float activations. */
    static void checkAllBatches(String name, Kernel k, Twin twin, int rows, int cols, int[][] ranges, Random rnd) {
        float[] x = randomActivations(cols, rnd);
        check(name, (T, out, stride, r0, r1) -> k.run(x, T, out, stride, r0, r1), (r, t) -> twin.at(r, x, t * cols), rows, ranges);
    }

    static float[] randomActivations(int cols, Random rnd) {
        float[] x = new float[MAX_T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /** Every T in 1..MAX_T and each row range: outputs in the range equal the twin's bits, the others stay untouched. */
    static void check(String name, Run k, TokenTwin twin, int rows, int[][] ranges) {
        float[][] expected = new float[MAX_T][rows];
        for (int t = 0; t < MAX_T; t++)
            for (int r = 0; r < rows; r++) expected[t][r] = twin.at(r, t);
        for (int T = 1; T <= MAX_T; T++) {
            for (int[] rg : ranges) {
                int stride = rows + 5;
                float[] out = new float[T * stride];
                Arrays.fill(out, Float.NaN);
                k.run(T, out, stride, rg[0], rg[1]);
                for (int t = 0; t < T; t++) {
                    for (int r = 0; r < stride; r++) {
                        String where = name + " T=" + T + " rows [" + rg[0] + "," + rg[1] + ") t=" + t + " r=" + r;
                        float got = out[t * stride + r];
                        if (r < rg[0] || r >= rg[1]) assertThat(got).as(where + " must be untouched").isNaN();
                        else assertThat(Float.floatToRawIntBits(got)).as(where + ": " + got + " vs " + expected[t][r])
                                .isEqualTo(Float.floatToRawIntBits(expected[t][r]));
                    }
                }
            }
        }
    }

    /** 8-bit activations: the rows of x in B32 blocks, as Q8Activations builds them. */
    static byte[] quantize(float[] x, int cols) {
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.B32, cols);
        byte[] xq = new byte[MAX_T * rb];
        for (int t = 0; t < MAX_T; t++) Q8Activations.quantizeRow32(x, t * cols, cols, xq, t * rb);
        return xq;
    }

    /** The 8-bit kernels' arithmetic: exact integer sums per block, then the same group step as the float kernels. */
    static float grouped8Twin(Nibbles n, int o, int cols, int gs, byte[] xq, int xo) {
        float acc = 0;
        for (int g = 0; g < cols / gs; g++) {
            float G = 0, sy = 0;
            for (int b = g * gs / 32; b < (g + 1) * gs / 32; b++) {
                int off = xo + b * Q8Activations.B32_BYTES;
                int isum = 0;
                for (int j = 0; j < 32; j++) isum += (int) n.q(o, 32 * b + j) * xq[off + 8 + j];
                G = Math.fma(Q8Activations.getFloat(xq, off), (float) isum, G);
                sy += Q8Activations.getFloat(xq, off + 4);
            }
            acc = Math.fma(n.s(o, g), Math.fma(-n.z(o, g), sy, G), acc);
        }
        return acc;
    }

    // ---- FP8 ----

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void fp8MatchesTwinBitForBit(boolean perTensor) {
        assumeTrue(NativeHfqKernels.fp8(), "skipped: no native FP8 kernel (" + NativeKernels.description() + ")");
        Random rnd = new Random(perTensor ? 31 : 32);
        int rows = 39, cols = 1100; // row tails below the 3- and 4-row tiles (ranges), a column tail, three 512-column chunks
        MemorySegment w = randomFp8(rnd, (long) rows * cols);
        float[] scales = new float[perTensor ? 1 : rows];
        for (int i = 0; i < scales.length; i++) scales[i] = (float) (1e-3 * (1 + rnd.nextDouble()));
        Fp8Matrix m = new Fp8Matrix("fp8", w, scales, rows, cols);
        float[] s = new float[rows];
        for (int r = 0; r < rows; r++) s[r] = scales[perTensor ? 0 : r] * 0x1p120f;
        checkAllBatches("fp8", m::matmul, (r, x, xo) -> fp8Twin(w, s[r], r, cols, x, xo), rows, cols,
                new int[][] {{0, rows}, {3, rows - 2}, {rows - 1, rows}}, rnd);
    }

    @Test
    void fp8SubnormalWeightsAndLargeScales() {
        assumeTrue(NativeHfqKernels.fp8(), "skipped: no native FP8 kernel");
        // every byte but NaN, in every lane position, with large and tiny scales, single token and batched
        // (the batch decodes by another instruction sequence that must give the same bits)
        int rows = 4, cols = 256;
        MemorySegment w = Arena.ofAuto().allocate(rows * cols);
        for (int i = 0; i < rows * cols; i++) w.set(ValueLayout.JAVA_BYTE, i, (byte) ((i * 7) & 0x7F) == 0x7F ? 0 : (byte) (i * 7));
        float[] scales = {100f, 1f, 1e-30f, 0.5f};
        Fp8Matrix m = new Fp8Matrix("fp8", w, scales, rows, cols);
        int T = 16;
        float[] x = new float[T * cols];
        Arrays.fill(x, 1f);
        for (int batch : new int[] {1, T}) {
            float[] out = new float[batch * rows];
            m.matmul(x, batch, out, rows, 0, rows);
            for (int t = 0; t < batch; t++)
                for (int r = 0; r < rows; r++) {
                    float want = fp8Twin(w, scales[r] * 0x1p120f, r, cols, x, t * cols);
                    assertThat(out[t * rows + r]).as("T=" + batch + " t=" + t + " row " + r).isEqualTo(want);
                    assertThat(Float.isFinite(out[t * rows + r])).isTrue();
                }
        }
    }

    // ---- AWQ ----

    @ParameterizedTest
    @CsvSource({"200, 384, 128", "200, 384, 32", "64, 640, 64", "24, 256, 256"})
    void awqMatchesTwinBitForBit(int rows, int cols, int gs) {
        assumeTrue(NativeHfqKernels.awq(), "skipped: no native AWQ kernel");
        Random rnd = new Random(rows * 31 + gs);
        int groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        AwqMatrix m = new AwqMatrix("awq", qw, qz, sc, rows, cols, gs);
        assertThat(m.nativeKernel()).isTrue();
        Nibbles n = awq(qw, qz, sc, rows, gs);
        // 200 outputs: three 64-output tiles and one word; ranges inside start and end on words
        checkAllBatches("awq " + rows + "x" + cols + "/" + gs, m::matmul, (r, x, xo) -> groupedTwin(n, r, cols, gs, x, xo), rows, cols,
                new int[][] {{0, rows}, {8, rows - 16}, {rows - 8, rows}}, rnd);
    }

    // ---- GPTQ ----

    @ParameterizedTest
    @CsvSource({
        "104, 320, 64, 1, false", "104, 320, 64, 0, false", "104, 320, 32, 1, true",
        "32, 320, 320, 0, false", "40, 384, 128, 1, true"})
    void gptqMatchesTwinBitForBit(int rows, int cols, int gs, int zeroOffset, boolean sym) {
        assumeTrue(NativeHfqKernels.gptq(), "skipped: no native GPTQ kernel");
        Random rnd = new Random(rows * 17 + gs + zeroOffset);
        int groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        if (sym) { // symmetric: every stored zero 7 (+1 = 8) or 8
            for (long i = 0; i < (long) groups * rows / 8; i++) qz.setAtIndex(I32, i, zeroOffset == 1 ? 0x77777777 : 0x88888888);
        }
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = i / gs;
        GptqMatrix m = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, zeroOffset);
        assertThat(m.nativeGroupSize()).isEqualTo(gs);
        Nibbles n = gptq(qw, qz, sc, rows, zeroOffset);
        // 104 outputs: three 32-output tiles and one vector of 8
        checkAllBatches("gptq " + rows + "x" + cols + "/" + gs + " +" + zeroOffset, m::matmul,
                (r, x, xo) -> groupedTwin(n, r, cols, gs, x, xo), rows, cols,
                new int[][] {{0, rows}, {8, rows - 8}, {rows - 8, rows}}, rnd);
    }

    /** A true act-order g_idx keeps the Java kernel (it looks each input's group up); a sorted one takes the native kernel. */
    @Test
    void gptqActOrderTakesTheJavaKernel() {
        Random rnd = new Random(9);
        int rows = 16, cols = 256, gs = 64, groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = (i * 5) % groups;
        GptqMatrix m = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, 1);
        assertThat(m.nativeGroupSize()).isZero();
        assertThat(GptqMatrix.trivialGroupSize(gIdx, groups)).isZero();
        int[] sorted = new int[cols];
        for (int i = 0; i < cols; i++) sorted[i] = i / gs;
        assertThat(GptqMatrix.trivialGroupSize(sorted, groups)).isEqualTo(gs);
        sorted[cols - 1] = groups - 2; // one input out of place
        assertThat(GptqMatrix.trivialGroupSize(sorted, groups)).isZero();
        float[] x = new float[3 * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] a = new float[3 * rows], b = new float[3 * rows];
        m.matmul(x, 3, a, rows, 0, rows);
        m.javaMatmul(x, 3, b, rows, 0, rows);
        assertThat(a).containsExactly(b);
    }

    // ---- 8-bit activations ----

    @ParameterizedTest
    @CsvSource({"200, 384, 128", "200, 512, 256", "64, 320, 32", "24, 256, 64"})
    void awq8MatchesTwinBitForBit(int rows, int cols, int gs) {
        assumeTrue(NativeHfqKernels.awq8(), "skipped: no native 8-bit AWQ kernel");
        Random rnd = new Random(rows * 37 + gs);
        int groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        AwqMatrix m = new AwqMatrix("awq", qw, qz, sc, rows, cols, gs);
        assertThat(m.int8Format()).isEqualTo(Q8Activations.Format.B32);
        assertThat(m.prefersInt8()).isFalse(); // auto keeps floats; INT8 opts in
        assertThat(m.hasInt8Kernel()).isTrue();
        Nibbles n = awq(qw, qz, sc, rows, gs);
        byte[] xq = quantize(randomActivations(cols, rnd), cols);
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.B32, cols);
        check("awq8 " + rows + "x" + cols + "/" + gs, (T, out, stride, r0, r1) -> m.matmulQ(Q8Activations.Format.B32, xq, T, out, stride, r0, r1),
                (r, t) -> grouped8Twin(n, r, cols, gs, xq, t * rb), rows, new int[][] {{0, rows}, {8, rows - 16}, {rows - 8, rows}});
    }

    @ParameterizedTest
    @CsvSource({"104, 384, 128, 1, false", "104, 512, 256, 0, false", "40, 320, 32, 1, true", "32, 256, 256, 0, true", "48, 1024, 512, 1, false"})
    void gptq8MatchesTwinBitForBit(int rows, int cols, int gs, int zeroOffset, boolean sym) {
        assumeTrue(NativeHfqKernels.gptq8(), "skipped: no native 8-bit GPTQ kernel");
        Random rnd = new Random(rows * 19 + gs + zeroOffset);
        int groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        if (sym) {
            for (long i = 0; i < (long) groups * rows / 8; i++) qz.setAtIndex(I32, i, zeroOffset == 1 ? 0x77777777 : 0x88888888);
        }
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = i / gs;
        GptqMatrix m = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, zeroOffset);
        assertThat(m.int8Format()).isEqualTo(Q8Activations.Format.B32);
        Nibbles n = gptq(qw, qz, sc, rows, zeroOffset);
        byte[] xq = quantize(randomActivations(cols, rnd), cols);
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.B32, cols);
        check("gptq8 " + rows + "x" + cols + "/" + gs, (T, out, stride, r0, r1) -> m.matmulQ(Q8Activations.Format.B32, xq, T, out, stride, r0, r1),
                (r, t) -> grouped8Twin(n, r, cols, gs, xq, t * rb), rows, new int[][] {{0, rows}, {8, rows - 8}, {rows - 8, rows}});
    }

    // ---- 16-bit activations ----

    /** 16-bit activations: the rows of x in I16 blocks, as Q8Activations builds them. */
    static byte[] quantize16(float[] x, int cols) {
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.I16, cols);
        byte[] xq = new byte[MAX_T * rb];
        for (int t = 0; t < MAX_T; t++) Q8Activations.quantizeRow16(x, t * cols, cols, xq, t * rb);
        return xq;
    }

    /**
     * The 16-bit kernels' definition (chorus_hfq.c): per span of min(gs, 128) inputs, the exact integer
     * sums isum = sum q code and sumq = sum q, then y = fma(s d, (float) (isum - z sumq), y).
     */
    static float grouped16Twin(Nibbles n, int o, int cols, int gs, byte[] xq, int xo) {
        int span = Math.min(gs, 128);
        float y = 0;
        for (int c0 = 0; c0 < cols; c0 += span) {
            int blk = xo + c0 / 128 * Q8Activations.I16_BYTES;
            float d = Q8Activations.getFloat(xq, blk + 256);
            int isum = 0, sumq = 0;
            for (int i = c0; i < c0 + span; i++) {
                int q = Q8Activations.getShort(xq, blk + 2 * Q8Activations.pairSlot(i % 128));
                isum += (int) n.q(o, i) * q;
                sumq += q;
            }
            int g = c0 / gs;
            y = Math.fma(n.s(o, g) * d, (float) (isum - (int) n.z(o, g) * sumq), y);
        }
        return y;
    }

    @ParameterizedTest
    @CsvSource({"200, 384, 128", "200, 512, 256", "64, 384, 32", "24, 256, 64", "136, 1024, 512"})
    void awq16MatchesTwinBitForBit(int rows, int cols, int gs) {
        assumeTrue(NativeHfqKernels.awq16(), "skipped: no native 16-bit AWQ kernel");
        Random rnd = new Random(rows * 41 + gs);
        int groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        AwqMatrix m = new AwqMatrix("awq", qw, qz, sc, rows, cols, gs);
        assertThat(ActivationPrecision.AUTO.formatFor(m)).isEqualTo(Q8Activations.Format.I16);
        Nibbles n = awq(qw, qz, sc, rows, gs);
        byte[] xq = quantize16(randomActivations(cols, rnd), cols);
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.I16, cols);
        // 200 outputs: a single token takes 128-output pairs (8 + 8 words, then 8 + 1), a batch 64-output tiles
        check("awq16 " + rows + "x" + cols + "/" + gs, (T, out, stride, r0, r1) -> m.matmulQ(Q8Activations.Format.I16, xq, T, out, stride, r0, r1),
                (r, t) -> grouped16Twin(n, r, cols, gs, xq, t * rb), rows, new int[][] {{0, rows}, {8, rows - 16}, {rows - 8, rows}});
    }

    @ParameterizedTest
    @CsvSource({"104, 384, 128, 1, false", "104, 512, 256, 0, false", "40, 256, 32, 1, true", "32, 256, 64, 0, true", "48, 1024, 512, 1, false"})
    void gptq16MatchesTwinBitForBit(int rows, int cols, int gs, int zeroOffset, boolean sym) {
        assumeTrue(NativeHfqKernels.gptq16(), "skipped: no native 16-bit GPTQ kernel");
        Random rnd = new Random(rows * 23 + gs + zeroOffset);
        int groups = cols / gs;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        if (sym) {
            for (long i = 0; i < (long) groups * rows / 8; i++) qz.setAtIndex(I32, i, zeroOffset == 1 ? 0x77777777 : 0x88888888);
        }
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = i / gs;
        GptqMatrix m = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, zeroOffset);
        assertThat(ActivationPrecision.AUTO.formatFor(m)).isEqualTo(Q8Activations.Format.I16);
        Nibbles n = gptq(qw, qz, sc, rows, zeroOffset);
        byte[] xq = quantize16(randomActivations(cols, rnd), cols);
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.I16, cols);
        // 104 outputs: three 32-output tiles and one vector of 8
        check("gptq16 " + rows + "x" + cols + "/" + gs, (T, out, stride, r0, r1) -> m.matmulQ(Q8Activations.Format.I16, xq, T, out, stride, r0, r1),
                (r, t) -> grouped16Twin(n, r, cols, gs, xq, t * rb), rows, new int[][] {{0, rows}, {8, rows - 8}, {rows - 8, rows}});
    }

    /** AUTO gives AWQ and GPTQ 16-bit activations where the shape allows, INT8 the 8-bit kernels, F32 floats. */
    @Test
    void autoPicksSixteenBitsForAwqAndGptq() {
        Random rnd = new Random(5);
        int rows = 16;
        for (int[] shape : new int[][] {{256, 64}, {384, 128}, {512, 256}, {192, 64}, {320, 32}, {384, 96}}) {
            int cols = shape[0], gs = shape[1], groups = cols / gs;
            boolean i16 = cols % 128 == 0 && (gs == 32 || gs == 64 || gs % 128 == 0);
            MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
            MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
            int[] gIdx = new int[cols];
            for (int i = 0; i < cols; i++) gIdx[i] = i / gs;
            AwqMatrix awq = new AwqMatrix("awq", qw, qz, sc, rows, cols, gs);
            GptqMatrix gptq = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, 1);
            String what = cols + "/" + gs;
            assertThat(NativeHfqKernels.int16Supported(cols, gs)).as(what).isEqualTo(i16);
            assertThat(ActivationPrecision.AUTO.formatFor(awq)).as(what).isEqualTo(i16 && NativeHfqKernels.awq16() ? Q8Activations.Format.I16 : null);
            assertThat(ActivationPrecision.AUTO.formatFor(gptq)).as(what).isEqualTo(i16 && NativeHfqKernels.gptq16() ? Q8Activations.Format.I16 : null);
            assertThat(ActivationPrecision.INT8.formatFor(awq)).as(what).isEqualTo(awq.int8Format());
            assertThat(ActivationPrecision.INT8.formatFor(gptq)).as(what).isEqualTo(gptq.int8Format());
            assertThat(ActivationPrecision.F32.formatFor(awq)).isNull();
            assertThat(ActivationPrecision.F32.formatFor(gptq)).isNull();
        }
        assertThat(NativeHfqKernels.int16Supported(256, 0)).isFalse();
        // an act-order g_idx keeps floats under auto
        int cols = 256, gs = 64, groups = 4;
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = (i * 5) % groups;
        GptqMatrix actOrder = new GptqMatrix("gptq", randomInts(rnd, (long) cols * rows / 8), randomInts(rnd, (long) groups * rows / 8),
                randomHalves(rnd, (long) groups * rows, 0.02f), gIdx, groups, rows, cols, 1);
        assertThat(ActivationPrecision.AUTO.formatFor(actOrder)).isNull();
    }

    /** The 16-bit path stays within float rounding of the float kernels (~1.5e-5 of each block's largest value). */
    @Test
    void sixteenBitActivationsStayCloseToTheFloatPath() {
        assumeTrue(NativeHfqKernels.awq16() && NativeHfqKernels.gptq16(), "skipped: no native 16-bit kernels");
        Random rnd = new Random(78);
        int rows = 128, cols = 512, gs = 128, groups = cols / gs, T = 5;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = i / gs;
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Q8Activations a = new Q8Activations();
        a.set(x, T, cols);
        byte[] xq = a.blocks(Q8Activations.Format.I16, null);
        for (WeightMatrix w : new WeightMatrix[] {new AwqMatrix("awq", qw, qz, sc, rows, cols, gs),
                new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, 1)}) {
            agree((xx, TT, out, os, r0, r1) -> w.matmulQ(Q8Activations.Format.I16, xq, TT, out, os, r0, r1), w::matmul, w, x, T, rows, cols, 1e-4);
        }
    }

    /** Group sizes the 8-bit kernels cannot take, and act-order g_idx, leave the float path only. */
    @Test
    void withoutAnIntegerKernelTheFloatPathRuns() {
        Random rnd = new Random(3);
        int rows = 16, cols = 192, gs = 96, groups = 2; // 96: whole activation blocks, but not whole 64-input float chunks
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        AwqMatrix awq = new AwqMatrix("awq", qw, qz, sc, rows, cols, gs);
        assertThat(awq.hasInt8Kernel()).isEqualTo(NativeHfqKernels.awq8());
        assertThat(awq.nativeKernel()).isFalse(); // floats take the Java kernel
        AwqMatrix whole = new AwqMatrix("awq", qw, randomInts(rnd, rows / 8), randomHalves(rnd, rows, 0.02f), rows, cols, 192);
        assertThat(whole.hasInt8Kernel()).isFalse(); // 192: over 128 and not a multiple of 256
        assertThat(whole.prefersInt8()).isFalse();
        assertThat(whole.nativeKernel()).isEqualTo(NativeHfqKernels.awq());
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = (i * 5) % groups;
        GptqMatrix actOrder = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, 1);
        assertThat(actOrder.hasInt8Kernel()).isFalse();
        assertThat(actOrder.prefersInt8()).isFalse();
        assertThat(NativeHfqKernels.int8GroupSizeSupported(128)).isTrue();
        assertThat(NativeHfqKernels.int8GroupSizeSupported(512)).isTrue();
        assertThat(NativeHfqKernels.int8GroupSizeSupported(192)).isFalse();
        assertThat(NativeHfqKernels.int8GroupSizeSupported(48)).isFalse();
    }

    @Test
    void groupSizesTheKernelsTake() {
        assertThat(NativeHfqKernels.groupSizeSupported(128)).isTrue();
        assertThat(NativeHfqKernels.groupSizeSupported(32)).isTrue();
        assertThat(NativeHfqKernels.groupSizeSupported(64)).isTrue();
        assertThat(NativeHfqKernels.groupSizeSupported(4864)).isTrue();
        assertThat(NativeHfqKernels.groupSizeSupported(96)).isFalse(); // > 64, not a multiple of 64
        assertThat(NativeHfqKernels.groupSizeSupported(12)).isFalse(); // not whole words
        assertThat(NativeHfqKernels.groupSizeSupported(0)).isFalse();
        assertThat(NativeHfqKernels.rowsPerCall(896, 1, 64) % 64).isZero();
        assertThat(NativeHfqKernels.rowsPerCall(8192, 4096, 64)).isEqualTo(64);
    }

    /** The Java kernels and the native ones agree within float rounding (they sum in different orders). */
    @Test
    void nativeAndJavaKernelsAgree() {
        assumeTrue(NativeHfqKernels.awq() && NativeHfqKernels.gptq() && NativeHfqKernels.fp8(), "skipped: no native kernels");
        Random rnd = new Random(77);
        int rows = 128, cols = 512, gs = 128, groups = cols / gs, T = 5;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = i / gs;
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        AwqMatrix awq = new AwqMatrix("awq", qw, qz, sc, rows, cols, gs);
        GptqMatrix gptq = new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, 1);
        Fp8Matrix fp8 = new Fp8Matrix("fp8", randomFp8(rnd, (long) rows * cols), new float[] {0.01f}, rows, cols);
        agree(awq::matmul, awq::javaMatmul, awq, x, T, rows, cols, 2e-6);
        agree(gptq::matmul, gptq::javaMatmul, gptq, x, T, rows, cols, 2e-6);
        agree(fp8::matmul, fp8::javaMatmul, fp8, x, T, rows, cols, 2e-6);
    }

    private static void agree(Kernel nat, Kernel java, WeightMatrix w, float[] x, int T, int rows, int cols, double rel) {
        float[] a = new float[T * rows], b = new float[T * rows], row = new float[cols];
        nat.run(x, T, a, rows, 0, rows);
        java.run(x, T, b, rows, 0, rows);
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < T; t++) {
                double mag = 0;
                for (int c = 0; c < cols; c++) mag += Math.abs(row[c] * x[t * cols + c]);
                assertThat((double) a[t * rows + r]).as(w.name() + " r=" + r + " t=" + t).isCloseTo(b[t * rows + r], org.assertj.core.data.Offset.offset(rel * mag + 1e-6));
            }
        }
    }
}
