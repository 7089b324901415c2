package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WeightMatrixTest {

    /**
     * Says in the test log which vector width the Java kernels run at here. The build runs this
     * class again under -XX:MaxVectorSize=16, 32 and 64 (property chorus.test.maxVectorSize); the
     * width is capped by the CPU, so the 64-byte run is 256-bit on an AVX2-only machine.
     */
    @org.junit.jupiter.api.BeforeAll
    static void logVectorWidth() {
        int bits = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String asked = System.getProperty("chorus.test.maxVectorSize");
        System.out.println("Java kernels at " + bits + "-bit vectors" + (asked == null ? ""
                : " (-XX:MaxVectorSize=" + asked + (bits < 8 * Integer.parseInt(asked) ? ", capped by this CPU)" : ")")));
        if (asked != null) assertThat(bits).isLessThanOrEqualTo(8 * Integer.parseInt(asked));
    }

    static final EnumSet<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.IQ4_XS);

    static MemorySegment segment(byte[] bytes) {
        MemorySegment s = Arena.ofAuto().allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return s;
    }

    static short randomHalf(Random rnd, float scale) {
        return Float.floatToFloat16((float) (rnd.nextGaussian() * scale));
    }

    static void putHalf(byte[] b, int at, short h) {
        b[at] = (byte) h;
        b[at + 1] = (byte) (h >> 8);
    }

    /** Random block bytes: every quant bit pattern, with the fp16 scale fields set to sane values. */
    static byte[] randomBlocks(GgmlType type, int n, Random rnd) {
        if (type.blockSize == 1) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
            return Quantizer.quantize(type, x);
        }
        byte[] b = new byte[(int) type.bytesFor(n)];
        rnd.nextBytes(b);
        for (int o = 0; o < b.length; o += type.typeSize) {
            switch (type) {
                case Q8_0, Q4_0, Q5_0, IQ4_NL -> putHalf(b, o, randomHalf(rnd, 0.05f));
                case Q4_1, Q5_1 -> { putHalf(b, o, randomHalf(rnd, 0.05f)); putHalf(b, o + 2, randomHalf(rnd, 0.5f)); }
                case Q4_K, Q5_K -> { putHalf(b, o, randomHalf(rnd, 0.01f)); putHalf(b, o + 2, randomHalf(rnd, 0.01f)); }
                case Q6_K -> putHalf(b, o + 208, randomHalf(rnd, 0.001f));
                case Q2_K -> { putHalf(b, o + 80, randomHalf(rnd, 0.01f)); putHalf(b, o + 82, randomHalf(rnd, 0.01f)); }
                case Q3_K -> putHalf(b, o + 108, randomHalf(rnd, 0.001f));
                case IQ4_XS -> putHalf(b, o, randomHalf(rnd, 0.0005f));
                default -> throw new AssertionError(type);
            }
        }
        return b;
    }

    static int colsFor(GgmlType type, boolean large) {
        return switch (type.blockSize) {
            case 1 -> large ? 1100 : 77;     // not a multiple of the vector length: column tails
            case 32 -> large ? 1088 : 96;    // > 1024 crosses a column chunk
            default -> large ? 1280 : 512;
        };
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void dequantizeRowMatchesReference(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        int rows = 5, cols = colsFor(type, true);
        byte[] bytes = randomBlocks(type, rows * cols, rnd);
        float[] ref = ReferenceKernels.dequantize(type, bytes, rows * cols);
        WeightMatrix w = WeightMatrix.of("w", type, segment(bytes), rows, cols);
        assertEquals(type, w.type());
        float[] row = new float[cols + 2];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 1);
            for (int c = 0; c < cols; c++) {
                float e = ref[r * cols + c];
                assertEquals(e, row[1 + c], Math.abs(e) * 1e-6f, type + " row " + r + " col " + c);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void matmulMatchesReference(GgmlType type) {
        Random rnd = new Random(100 + type.ordinal());
        for (boolean large : new boolean[] {false, true}) {
            int rows = large ? 13 : 37, cols = colsFor(type, large);
            byte[] bytes = randomBlocks(type, rows * cols, rnd);
            float[] wf = ReferenceKernels.dequantize(type, bytes, rows * cols);
            WeightMatrix w = WeightMatrix.of("w", type, segment(bytes), rows, cols);
            for (int T : new int[] {1, 2, 3, 5, 7, 8, 17, 64}) {
                float[] x = new float[T * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                double[] mag = new double[T * rows];
                double[] ref = ReferenceKernels.matmul(wf, rows, cols, x, T, mag);
                int[][] ranges = {{0, rows}, {3, rows - 2}, {rows - 1, rows}, {1, 6}};
                for (int[] rg : ranges) {
                    int stride = rows + 3;
                    float[] out = new float[T * stride];
                    Arrays.fill(out, Float.NaN);
                    w.matmul(x, T, out, stride, rg[0], rg[1]);
                    for (int t = 0; t < T; t++) {
                        for (int r = 0; r < stride; r++) {
                            float got = out[t * stride + r];
                            String where = type + " " + rows + "x" + cols + " T=" + T + " rows [" + rg[0] + "," + rg[1] + ") t=" + t + " r=" + r;
                            if (r < rg[0] || r >= rg[1]) {
                                assertThat(got).as(where + " must be untouched").isNaN();
                            } else {
                                double e = ref[t * rows + r];
                                assertEquals(e, got, 1e-5 * mag[t * rows + r] + 1e-6, where);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The Java kernels give each token the bit-identical result alone, inside any batch, and in
     * any row range (what makes batching safe when the native kernels are off or absent).
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void batchSizeDoesNotChangeJavaResults(GgmlType type) {
        Random rnd = new Random(400 + type.ordinal());
        int rows = 11, cols = type.blockSize == 1 ? 1100 : type.blockSize == 32 ? 1088 : 1280, T = 9;
        WeightMatrix w = WeightMatrix.of("w", type, segment(randomBlocks(type, rows * cols, rnd)), rows, cols);
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] all = new float[T * rows];
        w.matmul(x, T, all, rows, 0, rows);
        float[] one = new float[rows], part = new float[rows];
        for (int t = 0; t < T; t++) {
            float[] xt = Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            w.matmul(xt, 1, one, rows, 0, rows);
            w.matmul(xt, 1, part, rows, 3, rows - 1); // a range whose 4-row tiles fall elsewhere
            for (int r = 0; r < rows; r++) {
                assertEquals(all[t * rows + r], one[r], 0f, type + " t=" + t + " r=" + r);
                if (r >= 3 && r < rows - 1) assertEquals(one[r], part[r], 0f, type + " range, r=" + r);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "Q8_0", "Q4_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void poolMatmulMatchesReference(GgmlType type) {
        Random rnd = new Random(7);
        int rows = 83, cols = colsFor(type, false), T = 6;
        byte[] bytes = randomBlocks(type, rows * cols, rnd);
        float[] wf = ReferenceKernels.dequantize(type, bytes, rows * cols);
        WeightMatrix w = WeightMatrix.of("w", type, segment(bytes), rows, cols);
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        double[] mag = new double[T * rows];
        double[] ref = ReferenceKernels.matmul(wf, rows, cols, x, T, mag);
        float[] out = new float[T * rows];
        try (WorkerPool pool = new WorkerPool(2)) {
            w.matmul(pool, x, T, out);
        }
        for (int i = 0; i < out.length; i++) assertEquals(ref[i], out[i], 1e-5 * mag[i] + 1e-6, "index " + i);
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K", "IQ4_XS"})
    void quantizeRoundTripIsClose(GgmlType type) {
        Random rnd = new Random(3);
        int n = 256 * 16;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * 0.02);
        float[] y = ReferenceKernels.dequantize(type, Quantizer.quantize(type, x), n);
        double err = 0, sig = 0;
        for (int i = 0; i < n; i++) {
            err += (x[i] - y[i]) * (double) (x[i] - y[i]);
            sig += x[i] * (double) x[i];
        }
        double rel = Math.sqrt(err / sig);
        double limit = switch (type) {
            case F32 -> 0;
            case F16 -> 1e-3;
            case BF16 -> 5e-3;
            case Q8_0 -> 0.01;
            case Q6_K -> 0.04;
            case Q5_K -> 0.06;
            case Q5_1 -> 0.04;
            case Q5_0 -> 0.045;
            case Q4_1 -> 0.08;
            case IQ4_NL -> 0.08;
            case Q4_0, Q4_K -> 0.12;
            case IQ4_XS -> 0.10;
            case Q3_K -> 0.22;
            case Q2_K -> 0.40;
            default -> throw new AssertionError();
        };
        assertThat(rel).as(type + " relative RMS error").isLessThanOrEqualTo(limit);
    }

    @Test
    void quantizersEncodeExactValues() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 16; // -16..15: Q8_0 d = 16/127
        float[] y = ReferenceKernels.dequantize(GgmlType.Q8_0, Quantizer.quantize(GgmlType.Q8_0, x), 32);
        for (int i = 0; i < 32; i++) assertEquals(x[i], y[i], 0.07f);
        for (int i = 0; i < 32; i++) x[i] = (i % 16) - 8; // -8..7: Q4_0 is exact with d = 1
        y = ReferenceKernels.dequantize(GgmlType.Q4_0, Quantizer.quantize(GgmlType.Q4_0, x), 32);
        assertThat(y).containsExactly(x);
    }

    /** Inputs the 32-value quantizers represent exactly, with the bytes llama.cpp writes for them. */
    @Test
    void legacyQuantizersEncodeExactValues() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = (i % 16) * 0.5f + 1; // min 1, max 8.5: Q4_1 d = 0.5, m = 1
        byte[] b = Quantizer.quantize(GgmlType.Q4_1, x);
        assertThat(Arrays.copyOf(b, 6)).containsExactly(0x00, 0x38, 0x00, 0x3C, 0x00, 0x11);
        assertThat(b[19]).isEqualTo((byte) 0xFF);
        assertThat(ReferenceKernels.dequantize(GgmlType.Q4_1, b, 32)).containsExactly(x);

        for (int i = 0; i < 32; i++) x[i] = i - 16; // -16 has the largest magnitude: Q5_0 d = 1, q = i
        b = Quantizer.quantize(GgmlType.Q5_0, x);
        assertThat(Arrays.copyOf(b, 8)).containsExactly(0x00, 0x3C, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x11);
        assertThat(ReferenceKernels.dequantize(GgmlType.Q5_0, b, 32)).containsExactly(x);

        for (int i = 0; i < 32; i++) x[i] = i * 0.25f - 2; // min -2, max 5.75: Q5_1 d = 0.25, m = -2
        b = Quantizer.quantize(GgmlType.Q5_1, x);
        assertThat(Arrays.copyOf(b, 10)).containsExactly(0x00, 0x34, 0x00, 0xC0, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x11);
        assertThat(ReferenceKernels.dequantize(GgmlType.Q5_1, b, 32)).containsExactly(x);

        int[] levels = ReferenceKernels.IQ4_NL_LEVELS;
        for (int i = 0; i < 32; i++) x[i] = levels[(i * 7) % 16] * 0.5f; // the table itself, scaled: d = 0.5
        b = Quantizer.quantize(GgmlType.IQ4_NL, x);
        assertThat(Arrays.copyOf(b, 3)).containsExactly(0x00, 0x38, 0x00); // qs[0]: codes 0 (j=0) and 112 % 16 = 0 (j=16)
        assertThat(b[3]).isEqualTo((byte) (7 | (((17 * 7) % 16) << 4)));
        assertThat(ReferenceKernels.dequantize(GgmlType.IQ4_NL, b, 32)).containsExactly(x);
    }

    /** An all-zero block stores d = 0 and decodes to zeros (no division by zero). */
    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "IQ4_NL"})
    void legacyQuantizersKeepZeroBlocksZero(GgmlType type) {
        float[] y = ReferenceKernels.dequantize(type, Quantizer.quantize(type, new float[64]), 64);
        for (float v : y) assertEquals(0f, v, 0f);
    }

    // ---- hand-built blocks with values computed by hand ----

    @Test
    void q8_0HandBlock() {
        byte[] b = new byte[34];
        putHalf(b, 0, Float.floatToFloat16(0.5f));
        b[2] = 3; b[3] = -4; b[33] = 127;
        float[] row = dequant(GgmlType.Q8_0, b, 32);
        assertEquals(1.5f, row[0]);
        assertEquals(-2f, row[1]);
        assertEquals(0f, row[2]);
        assertEquals(63.5f, row[31]);
    }

    @Test
    void q4_0HandBlock() {
        byte[] b = new byte[18];
        putHalf(b, 0, Float.floatToFloat16(2f));
        b[2] = (byte) 0xF3;  // j=0: low 3 -> (3-8)*2 = -10, j=16: high 15 -> (15-8)*2 = 14
        b[17] = (byte) 0x08; // j=15: 0; j=31: (0-8)*2 = -16
        float[] row = dequant(GgmlType.Q4_0, b, 32);
        assertEquals(-10f, row[0]);
        assertEquals(14f, row[16]);
        assertEquals(0f, row[15]);
        assertEquals(-16f, row[31]);
        assertEquals(-16f, row[1]); // qs[1] = 0 -> (0 - 8) * 2
    }

    /** Q4_K block with chosen 6-bit scales/mins, including the split high bits of sub-blocks 4..7. */
    @Test
    void q4_KHandBlock() {
        byte[] b = new byte[144];
        putHalf(b, 0, Float.floatToFloat16(0.5f));   // d
        putHalf(b, 2, Float.floatToFloat16(0.25f));  // dmin
        // sub-block 0: sc = 10, m = 4; sub-block 1: sc = 63, m = 0
        b[4] = 10; b[8] = 4; b[5] = 63; b[9] = 0;
        // sub-block 5 (j=5): sc = 0b10_0111 = 39 -> low 4 bits 7 in scales[9], high 2 bits (2) in scales[1] bits 6..7
        //                    m  = 0b11_0001 = 49 -> low 4 bits 1 in scales[9] high nibble, high 2 bits (3) in scales[5] bits 6..7
        b[4 + 9] = (byte) (7 | (1 << 4));
        b[4 + 1] = (byte) (63 | (2 << 6));
        b[4 + 5] = (byte) (0 | (3 << 6));
        // qs: chunk 0, l = 0: low nibble 9 (sub-block 0), high nibble 15 (sub-block 1)
        b[16] = (byte) 0xF9;
        // chunk 2 (sub-blocks 4 and 5), l = 3: high nibble 6 -> sub-block 5, value index 128 + 32 + 3
        b[16 + 64 + 3] = (byte) 0x60;
        float[] row = dequant(GgmlType.Q4_K, b, 256);
        assertEquals(0.5f * 10 * 9 - 0.25f * 4, row[0]);       // 44
        assertEquals(0.5f * 63 * 15 - 0, row[32]);              // 472.5
        assertEquals(-0.25f * 4, row[1]);                        // q = 0
        assertEquals(0.5f * 39 * 6 - 0.25f * 49, row[163]);     // 117 - 12.25 = 104.75
        assertEquals(104.75f, row[163]);
    }

    @Test
    void q5_KHandBlock() {
        byte[] b = new byte[176];
        putHalf(b, 0, Float.floatToFloat16(1f));
        putHalf(b, 2, Float.floatToFloat16(0.5f));
        b[4] = 2; b[8] = 6;         // sub-block 0: sc = 2, m = 6
        b[4 + 3] = 1; b[8 + 3] = 0; // sub-block 3: sc = 1, m = 0
        b[16 + 0] = 1;              // qh[0] bit 0: +16 for chunk 0 low nibble at l = 0
        b[16 + 5] = 1 << 3;         // qh[5] bit 3: +16 for chunk 1 high nibble (sub-block 3) at l = 5
        b[48 + 0] = 0x0A;           // chunk 0 l=0 low nibble 10
        b[48 + 32 + 5] = (byte) 0x70; // chunk 1 l=5 high nibble 7
        float[] row = dequant(GgmlType.Q5_K, b, 256);
        assertEquals(1f * 2 * (10 + 16) - 0.5f * 6, row[0]);   // 49
        assertEquals(1f * 1 * (7 + 16), row[64 + 32 + 5]);     // 23
        assertEquals(-3f, row[1]);
    }

    @Test
    void q6_KHandBlock() {
        byte[] b = new byte[210];
        putHalf(b, 208, Float.floatToFloat16(0.5f)); // d last
        for (int i = 0; i < 16; i++) b[192 + i] = (byte) (i + 1); // scales 1..16
        b[192 + 14] = -3;
        // half 1, l = 17 (is = 1): q4 -> y[128 + 17 + 96] uses sc[8 + 1 + 6] = sc[15] = 16
        // ql[64 + 17 + 32] high nibble = 5, qh[32 + 17] bits 6..7 = 2: q = 5 | 2 << 4 = 37 - 32 = 5
        b[64 + 17 + 32] = (byte) 0x50;
        b[128 + 32 + 17] = (byte) (2 << 6);
        // half 1, l = 0: q3 -> y[128 + 64] with sc[8 + 0 + 4] = sc[12] = 13: ql high 0, qh bits 4..5 = 0 -> -32
        // half 1, l = 4: q3 -> y[128 + 68] uses sc[12] too; half 1 l = 20: q2 -> y[128+52] sc[8+1+2]=sc[11]=12
        float[] row = dequant(GgmlType.Q6_K, b, 256);
        assertEquals(0.5f * 16 * 5, row[128 + 17 + 96]);   // 40
        assertEquals(0.5f * 13 * -32, row[128 + 64]);      // -208
        assertEquals(0.5f * 1 * -32, row[0]);              // sc[0] = 1
        assertEquals(0.5f * 12 * -32, row[128 + 32 + 16]); // l = 16 (is = 1), q2: sc[8 + 1 + 2] = sc[11] = 12
        assertEquals(0.5f * -3 * -32, row[128 + 96]);      // l = 0, q4: sc[8 + 0 + 6] = sc[14] = -3 (signed)
    }

    @Test
    void q2_KHandBlock() {
        byte[] b = new byte[84];
        putHalf(b, 80, Float.floatToFloat16(0.5f));  // d
        putHalf(b, 82, Float.floatToFloat16(0.25f)); // dmin
        b[0] = 0x32;          // run 0: scale 2, min 3
        b[2] = 0x05;          // run 2 (h 0, j 1, g 0): scale 5, min 0
        b[6] = (byte) 0xF1;   // run 6 (h 0, j 3, g 0): scale 1, min 15
        b[11] = 0x27;         // run 11 (h 1, j 1, g 1): scale 7, min 2
        b[16] = (byte) 0xE7;  // qs[0]: fields 3, 1, 2, 3 -> values 0, 32, 64, 96
        b[16 + 52] = 0x08;    // qs[52] = half 1, g 1, l 4: field j = 1 is 2 -> value 128 + 32 + 16 + 4
        float[] row = dequant(GgmlType.Q2_K, b, 256);
        assertEquals(0.5f * 2 * 3 - 0.25f * 3, row[0]);    // 2.25
        assertEquals(-0.75f, row[1]);                        // q = 0, min only
        assertEquals(0.5f * 5 * 1, row[32]);                 // 2.5
        assertEquals(0.5f * 1 * 3 - 0.25f * 15, row[96]);  // -2.25
        assertEquals(0.5f * 7 * 2 - 0.25f * 2, row[180]);  // 6.5
    }

    @Test
    void q3_KHandBlock() {
        byte[] b = new byte[110];
        putHalf(b, 108, Float.floatToFloat16(0.5f)); // d last
        b[96] = 8; b[96 + 8] = 2;     // run 0: low 8 | high 2 << 4 = 40 -> scale 8
        b[96 + 5] = 0x50;             // run 13: low nibble in scales[5] >> 4 = 5, high bits 0 -> scale -27
        // run 13 = (h 1, j 2, g 1), l = 3: value 128 + 64 + 16 + 3; low bits in qs[32 + 16 + 3] bits 4..5,
        // high bit 4h + j = 6 of hmask[16 + 3]
        b[32 + 51] = 0x20;
        b[19] = 1 << 6;
        b[32] = 1;                    // qs[0] field 0 = 1, hmask[0] bit 0 clear: 1 - 4
        float[] row = dequant(GgmlType.Q3_K, b, 256);
        assertEquals(0.5f * 8 * -3, row[0]);     // -12
        assertEquals(0.5f * 8 * -4, row[1]);     // -16
        assertEquals(0.5f * -32 * -4, row[16]);  // run 1: all-zero scale bits -> -32; value -4 -> 64
        assertEquals(0.5f * -27 * 2, row[211]);  // -27
        assertEquals(-27f, row[211]);
    }

    @Test
    void iq4_XSHandBlock() {
        byte[] b = new byte[136];
        putHalf(b, 0, Float.floatToFloat16(0.25f));
        b[2] = 0x02; b[3] = (byte) 0xC0;  // scales_h: sub-block 0 high bits 2, sub-block 7 high bits 3
        b[4] = 0x01;                      // sub-block 0 low bits 1 -> 33 - 32 = 1; sub-block 1: 0 -> -32
        b[7] = (byte) 0xF0;               // sub-block 7 low bits 15 -> 63 - 32 = 31
        b[8] = (byte) 0xF0;               // qs[0]: low code 0 (-127) -> value 0, high code 15 (113) -> value 16
        b[8 + 48] = 0x08;                 // sub-block 3 (scale -32): code 8 (1) -> value 96, code 0 -> value 112
        b[8 + 117] = (byte) 0x9E;         // sub-block 7, j = 5: code 14 (89) -> 229, code 9 (13) -> 245
        float[] row = dequant(GgmlType.IQ4_XS, b, 256);
        assertEquals(0.25f * -127, row[0]);
        assertEquals(0.25f * 113, row[16]);
        assertEquals(0.25f * -32 * -127, row[32]);  // sub-block 1, code 0
        assertEquals(0.25f * -32 * 1, row[96]);
        assertEquals(1016f, row[112]);
        assertEquals(0.25f * 31 * 89, row[229]);
        assertEquals(0.25f * 31 * 13, row[245]);
    }

    @Test
    void q4_1HandBlock() {
        byte[] b = new byte[20];
        putHalf(b, 0, Float.floatToFloat16(0.5f));
        putHalf(b, 2, Float.floatToFloat16(-3f));
        b[4] = (byte) 0xF3;  // j=0: 3 * 0.5 - 3 = -1.5; j=16: 15 * 0.5 - 3 = 4.5
        b[19] = (byte) 0x80; // j=15: -3; j=31: 8 * 0.5 - 3 = 1
        float[] row = dequant(GgmlType.Q4_1, b, 32);
        assertEquals(-1.5f, row[0]);
        assertEquals(4.5f, row[16]);
        assertEquals(-3f, row[15]);
        assertEquals(1f, row[31]);
    }

    @Test
    void q5_0HandBlock() {
        byte[] b = new byte[22];
        putHalf(b, 0, Float.floatToFloat16(2f));
        int qh = 1 | 1 << 17 | 1 << 31; // fifth bits of values 0, 17 and 31
        for (int i = 0; i < 4; i++) b[2 + i] = (byte) (qh >>> (8 * i));
        b[6] = 0x3A;  // j=0: (10 | 16) - 16 = 10 -> 20; j=16: 3 - 16 -> -26
        b[7] = 0x21;  // j=1: 1 - 16 -> -30; j=17: (2 | 16) - 16 = 2 -> 4
        float[] row = dequant(GgmlType.Q5_0, b, 32);
        assertEquals(20f, row[0]);
        assertEquals(-26f, row[16]);
        assertEquals(-30f, row[1]);
        assertEquals(4f, row[17]);
        assertEquals(-32f, row[15]); // q = 0
        assertEquals(0f, row[31]);   // q = 16
    }

    @Test
    void q5_1HandBlock() {
        byte[] b = new byte[24];
        putHalf(b, 0, Float.floatToFloat16(0.25f));
        putHalf(b, 2, Float.floatToFloat16(1f));
        int qh = 1 | 1 << 20;
        for (int i = 0; i < 4; i++) b[4 + i] = (byte) (qh >>> (8 * i));
        b[8] = 0x0F;          // j=0: (15 | 16) * 0.25 + 1 = 8.75; j=16: 0 * 0.25 + 1 = 1
        b[8 + 4] = 0x70;      // j=4: 1; j=20: (7 | 16) * 0.25 + 1 = 6.75
        float[] row = dequant(GgmlType.Q5_1, b, 32);
        assertEquals(8.75f, row[0]);
        assertEquals(1f, row[16]);
        assertEquals(1f, row[4]);
        assertEquals(6.75f, row[20]);
    }

    @Test
    void iq4_nlHandBlock() {
        byte[] b = new byte[18];
        putHalf(b, 0, Float.floatToFloat16(0.5f));
        b[2] = (byte) 0xF0;     // j=0: K[0] = -127 -> -63.5; j=16: K[15] = 113 -> 56.5
        b[2 + 3] = (byte) 0x87; // j=3: K[7] = -10 -> -5; j=19: K[8] = 1 -> 0.5
        float[] row = dequant(GgmlType.IQ4_NL, b, 32);
        assertEquals(-63.5f, row[0]);
        assertEquals(56.5f, row[16]);
        assertEquals(-5f, row[3]);
        assertEquals(0.5f, row[19]);
        assertEquals(-63.5f, row[1]); // qs[1] = 0
    }

    private static float[] dequant(GgmlType type, byte[] b, int n) {
        WeightMatrix w = WeightMatrix.of("hand", type, segment(b), 1, n);
        float[] row = new float[n];
        w.dequantizeRow(0, row, 0);
        assertThat(row).containsExactly(ReferenceKernels.dequantize(type, b, n));
        return row;
    }

    /** Types Chorus cannot compute with are refused by name, with the list of those it can. */
    @ParameterizedTest
    @EnumSource(names = {"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "TQ1_0", "TQ2_0", "Q8_K"})
    void unsupportedTypeIsNamed(GgmlType type) {
        assertThat(type.supported).isFalse();
        MemorySegment s = Arena.ofAuto().allocate(type.bytesFor(256));
        assertThatThrownBy(() -> WeightMatrix.of("blk.0.attn_q.weight", type, s, 1, 256))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tensor blk.0.attn_q.weight has type " + type + ", which Chorus does not support; "
                        + "supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, BF16");
    }

    @Test
    void shapeAndSizeAreChecked() {
        MemorySegment s = Arena.ofAuto().allocate(34 * 4);
        assertThat(WeightMatrix.of("ok", GgmlType.Q8_0, s, 2, 64).rows()).isEqualTo(2);
        assertThatThrownBy(() -> WeightMatrix.of("t", GgmlType.Q8_0, s, 4, 33))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("t").hasMessageContaining("block size 32");
        assertThatThrownBy(() -> WeightMatrix.of("t", GgmlType.Q8_0, s, 1, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 68 bytes, got 136");
        assertThat(SUPPORTED).allMatch(t -> t.supported);
        assertThat(MemorySegment.ofArray(new byte[1]).get(ValueLayout.JAVA_BYTE, 0)).isZero();
    }
}
