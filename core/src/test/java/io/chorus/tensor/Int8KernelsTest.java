package io.chorus.tensor;

import static io.chorus.tensor.WeightMatrixTest.randomBlocks;
import static io.chorus.tensor.WeightMatrixTest.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The 8-bit activation path: the rounding of activation rows against an independent scalar
 * rounding, the Java and native integer kernels against a float64 product of the dequantized
 * weights and the rounded activations, Java against native bit for bit, and every batch size
 * against each token alone.
 */
class Int8KernelsTest {
    static final int[] TS = {1, 2, 3, 4, 5, 7, 8, 17, 33};
    static final String INT8_TYPES = "Q8_0|Q4_0|Q5_0|IQ4_NL|Q4_1|Q5_1|Q4_K|Q5_K|Q6_K|IQ4_XS|Q2_K|Q3_K";

    // ---- activation rounding ----

    @Test
    void roundsA32BlocksAsLlamaCppQ8_0() {
        float[] x = new float[64];
        for (int j = 0; j < 32; j++) x[j] = (j - 10) * 0.25f; // amax 5.25 at j = 31
        x[33] = -2f;                                          // second block: amax 2, one nonzero value
        Q8Activations a = new Q8Activations();
        a.set(x, 1, 64);
        byte[] b = a.blocks(Q8Activations.Format.B32, null);
        float d = Float.float16ToFloat(Float.floatToFloat16(5.25f / 127));
        assertThat(Q8Activations.getFloat(b, 0)).isEqualTo(d);
        assertThat(b[8 + 31]).isEqualTo((byte) 127);
        assertThat(b[8 + 10]).isZero();
        assertThat(b[8 + 0]).isEqualTo((byte) Math.rint(-2.5f * (127f / 5.25f))); // -60.476 -> -60
        assertThat(b[8 + 11]).isEqualTo((byte) 6);                               // 6.047 -> 6
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += b[8 + j];
        assertThat(Q8Activations.getFloat(b, 4)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(5.25f / 127 * sum)));
        assertThat(Q8Activations.getFloat(b, 40)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(2f / 127)));
        assertThat(b[40 + 8 + 1]).isEqualTo((byte) -127);
        assertThat(Q8Activations.getFloat(b, 44)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(2f / 127 * -127)));
    }

    @Test
    void roundsK256BlocksAsLlamaCppQ8_K() {
        Random rnd = new Random(7);
        float[] x = new float[512];
        for (int i = 0; i < 256; i++) x[i] = (float) rnd.nextGaussian();
        x[100] = -9f;          // the value of largest magnitude is negative: d < 0, q[100] = 127
        // second block all zero: d = 0, q = 0
        Q8Activations a = new Q8Activations();
        a.set(x, 2, 256);      // two rows of one block each
        byte[] b = a.blocks(Q8Activations.Format.K256, null);
        float iscale = -127f / -9f;
        assertThat(Q8Activations.getFloat(b, 0)).isEqualTo(1f / iscale);
        for (int j = 0; j < 256; j++) {
            assertThat(b[4 + j]).as("q[%d]", j).isEqualTo((byte) Math.min(127, (int) Math.rint(iscale * x[j])));
        }
        assertThat(b[4 + 100]).isEqualTo((byte) -127);
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += b[4 + 16 * g + j];
            assertThat(Q8Activations.getShort(b, 260 + 2 * g)).as("bsum16[%d]", g).isEqualTo((short) s);
        }
        for (int g = 0; g < 8; g++) {
            int s = 0;
            for (int j = 0; j < 32; j++) s += b[4 + 32 * g + j];
            assertThat(Q8Activations.getShort(b, 292 + 2 * g)).as("bsum32[%d]", g).isEqualTo((short) s);
        }
        byte[] zero = Arrays.copyOfRange(b, 308, 616);
        assertThat(zero).containsOnly((byte) 0);
    }

    @Test
    void roundingOverThePoolEqualsRoundingInline() {
        Random rnd = new Random(8);
        int T = 37, cols = 512;
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Q8Activations inline = new Q8Activations(), pooled = new Q8Activations();
        inline.set(x, T, cols);
        pooled.set(x, T, cols);
        try (WorkerPool pool = new WorkerPool(3)) {
            for (Q8Activations.Format f : Q8Activations.Format.values()) {
                int n = (int) Q8Activations.rowBytes(f, cols) * T;
                assertThat(Arrays.copyOf(pooled.blocks(f, pool), n)).containsExactly(Arrays.copyOf(inline.blocks(f, null), n));
            }
        }
    }

    @Test
    void setMarksBothLayoutsStale() {
        float[] x = new float[32 * 8];
        Arrays.fill(x, 1f);
        Q8Activations a = new Q8Activations();
        a.set(x, 1, 256);
        assertThat(a.blocks(Q8Activations.Format.B32, null)[8]).isEqualTo((byte) 127);
        // q8_K maps the value of largest magnitude to -127, the sign going into d
        assertThat(a.blocks(Q8Activations.Format.K256, null)[4]).isEqualTo((byte) -127);
        assertThat(Q8Activations.getFloat(a.blocks(Q8Activations.Format.K256, null), 0)).isEqualTo(-1f / 127);
        Arrays.fill(x, 0, 256, -1f);
        a.set(x, 1, 256);
        assertThat(a.blocks(Q8Activations.Format.B32, null)[8]).isEqualTo((byte) -127);
        assertThat(Q8Activations.getFloat(a.blocks(Q8Activations.Format.K256, null), 0)).isEqualTo(1f / 127);
        assertThatThrownBy(() -> a.set(x, 2, 256)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- kernels ----

    /** Java and (when loaded) native kernels against float64 over the dequantized weights and rounded activations. */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "IQ4_NL", "Q4_1", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS", "Q2_K", "Q3_K"})
    void matchesFloat64OverRoundedActivations(GgmlType type) {
        Random rnd = new Random(600 + type.ordinal());
        int[] colsList = type.blockSize == 256 ? new int[] {256, 1792} : new int[] {32, 1088};
        for (int cols : colsList) {
            int rows = 13;
            byte[] bytes = randomBlocks(type, rows * cols, rnd);
            float[] wf = ReferenceKernels.dequantize(type, bytes, rows * cols);
            WeightMatrix w = WeightMatrix.of("w", type, segment(bytes), rows, cols);
            for (int T : new int[] {1, 3, 6}) {
                float[] x = new float[T * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                Q8Activations a = new Q8Activations();
                a.set(x, T, cols);
                byte[] xq = a.blocks(Int8Kernels.format(type), null);
                float[] xr = dequantizeActivations(Int8Kernels.format(type), xq, T, cols);
                double[] mag = new double[T * rows];
                double[] ref = ReferenceKernels.matmul(wf, rows, cols, xr, T, mag);
                if (type == GgmlType.Q4_1 || type == GgmlType.Q5_1) minimaUseRoundedSums(bytes, type, rows, cols, xq, T, ref);
                for (boolean nat : new boolean[] {false, true}) {
                    if (nat && !NativeInt8Kernels.supports(type)) continue;
                    float[] out = new float[T * rows];
                    if (nat) NativeInt8Kernels.matmul(w, xq, T, out, rows, 0, rows);
                    else Int8Kernels.matmul(w, xq, T, out, rows, 0, rows);
                    for (int i = 0; i < out.length; i++) {
                        assertEquals(ref[i], out[i], 2e-6 * mag[i] + 1e-6, type + (nat ? " native" : " java") + " cols=" + cols + " T=" + T + " i=" + i);
                    }
                }
            }
        }
    }

    /** The Java kernel computes the native kernel's bits, for every row range, batch size and tile tail. */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "IQ4_NL", "Q4_1", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS", "Q2_K", "Q3_K"})
    void javaEqualsNativeBitForBit(GgmlType type) {
        assumeTrue(NativeInt8Kernels.supports(type), "skipped: no native 8-bit kernel: " + NativeKernels.description());
        Random rnd = new Random(700 + type.ordinal());
        int rows = 23, cols = type.blockSize == 256 ? 768 : 224;
        WeightMatrix w = WeightMatrix.of("w", type, segment(randomBlocks(type, rows * cols, rnd)), rows, cols);
        for (int T : TS) {
            float[] x = new float[T * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            Q8Activations a = new Q8Activations();
            a.set(x, T, cols);
            byte[] xq = a.blocks(Int8Kernels.format(type), null);
            for (int[] rg : new int[][] {{0, rows}, {3, rows - 2}, {rows - 1, rows}, {5, 5}}) {
                int stride = rows + 2;
                float[] java = new float[T * stride], nat = new float[T * stride];
                Arrays.fill(java, Float.NaN);
                Arrays.fill(nat, Float.NaN);
                Int8Kernels.matmul(w, xq, T, java, stride, rg[0], rg[1]);
                NativeInt8Kernels.matmul(w, xq, T, nat, stride, rg[0], rg[1]);
                for (int i = 0; i < java.length; i++) {
                    int r = i % stride;
                    String where = type + " T=" + T + " rows [" + rg[0] + "," + rg[1] + ") i=" + i;
                    if (r < rg[0] || r >= rg[1]) assertThat(nat[i]).as(where + " untouched").isNaN();
                    else assertThat(Float.floatToRawIntBits(nat[i])).as(where).isEqualTo(Float.floatToRawIntBits(java[i]));
                }
            }
        }
    }

    /** A token's output is the same bits alone and inside any batch (rounding is per row), native and Java. */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "IQ4_NL", "Q4_1", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS", "Q2_K", "Q3_K"})
    void batchSizeDoesNotChangeResults(GgmlType type) {
        Random rnd = new Random(800 + type.ordinal());
        int rows = 21, cols = type.blockSize == 256 ? 512 : 160, T = 19;
        WeightMatrix w = WeightMatrix.of("w", type, segment(randomBlocks(type, rows * cols, rnd)), rows, cols);
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        try (WorkerPool pool = new WorkerPool(2)) {
            Q8Activations all = new Q8Activations();
            all.set(x, T, cols);
            float[] batch = new float[T * rows];
            w.matmul(pool, all, batch);
            float[] java = new float[T * rows];
            Int8Kernels.matmul(w, all.blocks(Int8Kernels.format(type), pool), T, java, rows, 0, rows);
            for (int t = 0; t < T; t++) {
                Q8Activations one = new Q8Activations();
                one.set(Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, cols);
                float[] alone = new float[rows];
                w.matmul(pool, one, alone);
                for (int r = 0; r < rows; r++) {
                    assertThat(Float.floatToRawIntBits(batch[t * rows + r])).as("%s t=%d r=%d", type, t, r)
                            .isEqualTo(Float.floatToRawIntBits(alone[r]));
                    assertThat(Float.floatToRawIntBits(java[t * rows + r])).as("java %s t=%d r=%d", type, t, r)
                            .isEqualTo(Float.floatToRawIntBits(alone[r]));
                }
            }
        }
    }

    /** auto: every quantized type but IQ4_XS takes the 8-bit path where the native 8-bit kernels are loaded; float weights do not. */
    @Test
    void autoPicksTheQuantizedTypesWithNativeKernels() {
        Random rnd = new Random(11);
        boolean nat = NativeInt8Kernels.available();
        for (GgmlType t : WeightMatrixTest.SUPPORTED) {
            WeightMatrix w = WeightMatrix.of("w", t, segment(randomBlocks(t, 256, rnd)), 1, 256);
            Q8Activations.Format own = t.blockSize == 256 ? Q8Activations.Format.K256 : t.blockSize > 1 ? Q8Activations.Format.B32 : null;
            assertThat(ActivationPrecision.AUTO.formatFor(w)).as(t.name()).isEqualTo(nat && t != GgmlType.IQ4_XS ? own : null);
            assertThat(ActivationPrecision.INT8.formatFor(w)).as(t.name()).isEqualTo(own);
            assertThat(ActivationPrecision.F32.formatFor(w)).as(t.name()).isNull();
        }
    }

    /** Float weights have no 8-bit kernel and take the float path through the same call. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16"})
    void otherTypesTakeTheFloatPath(GgmlType type) {
        Random rnd = new Random(900 + type.ordinal());
        int rows = 9, cols = 256, T = 3;
        WeightMatrix w = WeightMatrix.of("w", type, segment(randomBlocks(type, rows * cols, rnd)), rows, cols);
        assertThat(w.hasInt8Kernel()).isFalse();
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        try (WorkerPool pool = new WorkerPool(2)) {
            float[] viaActs = new float[T * rows], floats = new float[T * rows];
            Q8Activations a = new Q8Activations();
            a.set(x, T, cols);
            w.matmul(pool, a, viaActs);
            w.matmul(pool, x, T, floats);
            assertThat(viaActs).containsExactly(floats);
        }
    }

    @Test
    void int8TypesAreTheListedOnes() {
        for (GgmlType t : WeightMatrixTest.SUPPORTED) {
            assertThat(Int8Kernels.format(t) != null).as(t.name()).isEqualTo(t.name().matches(INT8_TYPES));
        }
        assertThat(ActivationPrecision.parse("F32")).isEqualTo(ActivationPrecision.F32);
        assertThat(ActivationPrecision.parse("int8")).isEqualTo(ActivationPrecision.INT8);
        assertThat(ActivationPrecision.auto()).isEqualTo(ActivationPrecision.AUTO);
        assertThat(ActivationPrecision.parse("auto")).isEqualTo(ActivationPrecision.AUTO);
        assertThat(ActivationPrecision.parse("f32")).isEqualTo(ActivationPrecision.F32);
        assertThatThrownBy(() -> ActivationPrecision.parse("bf16")).hasMessageContaining("auto, int8 or f32");
    }

    /**
     * Q4_1/Q5_1 weights are d q + m; the kernels take the minima's share from the activation's
     * stored s = fp16(d' sum q) (llama.cpp's q8_1) instead of d sum q: ref gets the same.
     */
    static void minimaUseRoundedSums(byte[] w, GgmlType type, int rows, int cols, byte[] xq, int T, double[] ref) {
        ByteBuffer wb = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN), xb = ByteBuffer.wrap(xq).order(ByteOrder.LITTLE_ENDIAN);
        int nb = cols / 32;
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < nb; b++) {
                    double m = Float.float16ToFloat(wb.getShort((r * nb + b) * type.typeSize + 2));
                    int a = (t * nb + b) * 40, sum = 0;
                    for (int j = 0; j < 32; j++) sum += xq[a + 8 + j];
                    ref[t * rows + r] += m * (xb.getFloat(a + 4) - (double) xb.getFloat(a) * sum);
                }
            }
        }
    }

    /** x as the kernels see it: d q per value (independent of the layout code under test, from the bytes). */
    static float[] dequantizeActivations(Q8Activations.Format f, byte[] xq, int T, int cols) {
        ByteBuffer b = ByteBuffer.wrap(xq).order(ByteOrder.LITTLE_ENDIAN);
        float[] x = new float[T * cols];
        int block = f == Q8Activations.Format.B32 ? 32 : 256, bytes = f == Q8Activations.Format.B32 ? 40 : 308;
        int qOff = f == Q8Activations.Format.B32 ? 8 : 4;
        int o = 0;
        for (int i = 0; i < T * cols; i += block, o += bytes) {
            float d = b.getFloat(o);
            for (int j = 0; j < block; j++) x[i + j] = d * xq[o + qOff + j];
        }
        return x;
    }
}
