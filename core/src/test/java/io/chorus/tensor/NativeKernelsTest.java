package io.chorus.tensor;

import static io.chorus.tensor.WeightMatrixTest.randomBlocks;
import static io.chorus.tensor.WeightMatrixTest.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The native kernels against the scalar reference, the Java kernels, and themselves across batch sizes. */
class NativeKernelsTest {

    static final int[] TS = {1, 2, 3, 5, 7, 8, 17, 33, 64};

    @BeforeEach
    void needsNative() {
        assumeTrue(NativeKernels.available(), "skipped: " + NativeKernels.description());
        // The build's second run forces the AVX2 library (CHORUS_NATIVE=avx2): it tests it where
        // the default run loads the AVX-512 one, and is not needed where AVX2 is the default.
        String forced = System.getProperty("chorus.test.nativeVariant");
        if (forced != null) {
            assumeTrue(NativeVariant.best(NativeVariant.cpuFlags()) != NativeVariant.byId(forced),
                    "skipped: the default run already tested the " + forced + " build");
            assertThat(NativeKernels.description()).startsWith("native kernels (" + forced + ")");
        }
    }

    @Test
    void describesItself() {
        assertThat(NativeKernels.description()).startsWith("native kernels (");
        for (GgmlType t : WeightMatrixTest.SUPPORTED) assertThat(NativeKernels.supports(t)).as(t.name()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void matchesReference(GgmlType type) {
        Random rnd = new Random(200 + type.ordinal());
        // rows not a multiple of the 4-row tile; plain types: column tails (77, 1100) and the
        // fused path (96); large cols cross the 512-column chunk
        int[] colsList = type.blockSize == 1 ? new int[] {77, 1100, 96} : type.blockSize == 256 ? new int[] {512, 1792} : new int[] {96, 1088};
        for (int ci = 0; ci < colsList.length; ci++) {
            int rows = ci == 1 ? 13 : 37, cols = colsList[ci];
            byte[] bytes = randomBlocks(type, rows * cols, rnd);
            float[] wf = ReferenceKernels.dequantize(type, bytes, rows * cols);
            WeightMatrix w = WeightMatrix.of("w", type, segment(bytes), rows, cols);
            for (int T : TS) {
                float[] x = new float[T * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                double[] mag = new double[T * rows];
                double[] ref = ReferenceKernels.matmul(wf, rows, cols, x, T, mag);
                int[][] ranges = {{0, rows}, {3, rows - 2}, {rows - 1, rows}, {1, 6}, {4, 4}};
                for (int[] rg : ranges) {
                    int stride = rows + 3;
                    float[] out = new float[T * stride];
                    Arrays.fill(out, Float.NaN);
                    NativeKernels.matmul(w, x, T, out, stride, rg[0], rg[1]);
                    for (int t = 0; t < T; t++) {
                        for (int r = 0; r < stride; r++) {
                            float got = out[t * stride + r];
                            String where = type + " " + rows + "x" + cols + " T=" + T + " rows [" + rg[0] + "," + rg[1] + ") t=" + t + " r=" + r;
                            if (r < rg[0] || r >= rg[1]) {
                                assertThat(got).as(where + " must be untouched").isNaN();
                            } else {
                                assertEquals(ref[t * rows + r], got, 1e-5 * mag[t * rows + r] + 1e-6, where);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Each token's result is bit-identical whether it is computed alone or inside any batch. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void batchSizeDoesNotChangeResults(GgmlType type) {
        Random rnd = new Random(300 + type.ordinal());
        for (int cols : type.blockSize == 1 ? new int[] {1100, 1024} : new int[] {1536}) {
            batchInvariance(type, rnd, type == GgmlType.BF16 ? 23 : 21, cols); // 23 = 7 x 3 + 2: BF16's 3-row batch tile and a tail
        }
    }

    private static void batchInvariance(GgmlType type, Random rnd, int rows, int cols) {
        WeightMatrix w = WeightMatrix.of("w", type, segment(randomBlocks(type, rows * cols, rnd)), rows, cols);
        int T = 70; // more than one 64-token pass
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] all = new float[T * rows];
        NativeKernels.matmul(w, x, T, all, rows, 0, rows);
        float[] one = new float[rows];
        for (int t = 0; t < T; t++) {
            float[] xt = Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            NativeKernels.matmul(w, xt, 1, one, rows, 0, rows);
            for (int r = 0; r < rows; r++) assertEquals(one[r], all[t * rows + r], 0f, type + " t=" + t + " r=" + r);
        }
    }

    /** Long products run as several bounded calls (a critical call holds off safepoints); the split changes nothing. */
    @ParameterizedTest
    @EnumSource(names = {"F16", "Q8_0", "Q4_0", "Q6_K"})
    void splittingRowsIntoSeveralCallsChangesNoResult(GgmlType type) {
        Random rnd = new Random(500 + type.ordinal());
        int rows = 70, cols = type.blockSize == 256 ? 512 : 96, T = 9;
        byte[] bytes = randomBlocks(type, rows * cols, rnd);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            // Weights in a shared arena, as a mapped checkpoint is: the kernels read them outside it.
            java.lang.foreign.MemorySegment mapped = arena.allocate(bytes.length, 64);
            java.lang.foreign.MemorySegment.copy(bytes, 0, mapped, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
            WeightMatrix w = WeightMatrix.of("w", type, mapped, rows, cols);
            float[] x = new float[T * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] whole = new float[T * rows], split = new float[T * rows];
            NativeKernels.matmul(w, x, T, whole, rows, 2, 69, rows);
            NativeKernels.matmul(w, x, T, split, rows, 2, 69, 16); // calls of rows [2,18) [18,34) ... [66,69)
            assertThat(split).containsExactly(whole);
            assertThat(whole[0]).isZero();
            assertThat(whole[2]).isNotZero();
        }
        // About 2^26 multiply-adds a call, in whole 16-row tiles, never fewer than 16 rows.
        assertThat(NativeKernels.rowsPerCall(896, 1)).isEqualTo(8320);
        assertThat(NativeKernels.rowsPerCall(896, 512)).isEqualTo(144);
        assertThat(NativeKernels.rowsPerCall(8192, 4096)).isEqualTo(16);
    }

    /** Native and Java kernels agree closely; the pool path uses the native kernel. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void agreesWithJavaKernels(GgmlType type) {
        Random rnd = new Random(400 + type.ordinal());
        int rows = 83, cols = type.blockSize == 1 ? 896 : type.blockSize == 32 ? 896 : 1024;
        byte[] bytes = randomBlocks(type, rows * cols, rnd);
        float[] wf = ReferenceKernels.dequantize(type, bytes, rows * cols);
        WeightMatrix w = WeightMatrix.of("w", type, segment(bytes), rows, cols);
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int T : TS) {
                float[] x = new float[T * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                double[] mag = new double[T * rows];
                ReferenceKernels.matmul(wf, rows, cols, x, T, mag); // sum |w x|: the scale of rounding error
                float[] java = new float[T * rows], nat = new float[T * rows];
                w.matmul(x, T, java, rows, 0, rows); // the type's own Java kernel
                w.matmul(pool, x, T, nat);           // dispatches to native
                for (int i = 0; i < java.length; i++) {
                    assertEquals(java[i], nat[i], 2e-5 * mag[i] + 1e-6, type + " T=" + T + " index " + i);
                }
            }
        }
    }

    @Test
    void rejectsOutOfRangeArguments() {
        WeightMatrix w = WeightMatrix.of("w", GgmlType.F32, segment(new byte[4 * 4 * 16]), 4, 16);
        float[] x = new float[16], out = new float[4];
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NativeKernels.matmul(w, x, 2, out, 4, 0, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NativeKernels.matmul(w, x, 1, out, 4, 0, 5))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
