package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.testing.Fixtures;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Hugging Face weight formats (FP8 e4m3, AWQ GEMM, GPTQ) against scalar twins written from the
 * formats' definitions: dequantized rows bit for bit, products (single token and batched, through
 * the pool) within float rounding; and the fixtures README's worked examples read from the files.
 */
class HfWeightMatricesTest {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7}; // nibble i holds output 8c + AWQ_ORDER[i]

    // ---- scalar twins, straight from the format definitions ----

    /** e4m3fn from its bit fields. */
    static double e4m3(int b) {
        int s = (b >> 7) & 1, e = (b >> 3) & 0xF, m = b & 7;
        double v = e == 0 ? m / 8.0 * Math.pow(2, -6) : (1 + m / 8.0) * Math.pow(2, e - 7);
        return s == 1 ? -v : v;
    }

    static float[] fp8Dense(MemorySegment w, float[] scales, int rows, int cols) {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                out[r * cols + c] = (float) e4m3(w.get(ValueLayout.JAVA_BYTE, (long) r * cols + c) & 0xFF) * scales[scales.length == 1 ? 0 : r];
        return out;
    }

    static float[] awqDense(MemorySegment qw, MemorySegment qz, MemorySegment sc, int rows, int cols, int group) {
        float[] out = new float[rows * cols];
        for (int i = 0; i < cols; i++) {
            for (int c = 0; c < rows / 8; c++) {
                int word = qw.getAtIndex(I32, (long) i * (rows / 8) + c), zword = qz.getAtIndex(I32, (long) (i / group) * (rows / 8) + c);
                for (int n = 0; n < 8; n++) {
                    int o = 8 * c + AWQ_ORDER[n];
                    int q = (word >>> (4 * n)) & 15, z = (zword >>> (4 * n)) & 15;
                    float s = Float.float16ToFloat(sc.getAtIndex(I16, (long) (i / group) * rows + o));
                    out[o * cols + i] = (q - z) * s;
                }
            }
        }
        return out;
    }

    static float[] gptqDense(MemorySegment qw, MemorySegment qz, MemorySegment sc, int[] gIdx, int rows, int cols, int zeroOffset) {
        float[] out = new float[rows * cols];
        for (int k = 0; k < cols / 8; k++) {
            for (int o = 0; o < rows; o++) {
                int word = qw.getAtIndex(I32, (long) k * rows + o);
                for (int j = 0; j < 8; j++) {
                    int i = 8 * k + j, g = gIdx[i];
                    int z = ((qz.getAtIndex(I32, (long) g * (rows / 8) + o / 8) >>> (4 * (o % 8))) & 15) + zeroOffset;
                    float s = Float.float16ToFloat(sc.getAtIndex(I16, (long) g * rows + o));
                    out[o * cols + i] = (((word >>> (4 * j)) & 15) - z) * s;
                }
            }
        }
        return out;
    }

    // ---- random data ----

    static MemorySegment randomInts(Random rnd, long n) {
        MemorySegment s = Arena.ofAuto().allocate(4 * n, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(I32, i, rnd.nextInt());
        return s;
    }

    static MemorySegment randomHalves(Random rnd, long n, float std) {
        MemorySegment s = Arena.ofAuto().allocate(2 * n, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(I16, i, Float.floatToFloat16((float) Math.abs(rnd.nextGaussian() * std) + 1e-3f));
        return s;
    }

    static MemorySegment randomFp8(Random rnd, long n) {
        MemorySegment s = Arena.ofAuto().allocate(n, 64);
        for (long i = 0; i < n; i++) {
            int b = rnd.nextInt(256);
            if ((b & 0x7F) == 0x7F) b &= 0xFE; // no NaN in weights
            s.set(ValueLayout.JAVA_BYTE, i, (byte) b);
        }
        return s;
    }

    /** Checks every row bit for bit against the twin, and products for several batch sizes against float64. */
    static void check(WeightMatrix w, float[] dense, int rows, int cols, Random rnd) {
        float[] row = new float[cols + 2];
        for (int r = 0; r < rows; r++) {
            row[0] = row[cols + 1] = Float.NaN;
            w.dequantizeRow(r, row, 1);
            for (int c = 0; c < cols; c++) assertEquals(dense[r * cols + c], row[1 + c], 0f, w.name() + " row " + r + " col " + c);
            assertThat(row[0]).isNaN();
            assertThat(row[cols + 1]).isNaN();
        }
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int T : new int[] {1, 3, 4, 9}) {
                float[] x = new float[T * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                double[] mag = new double[T * rows];
                double[] ref = ReferenceKernels.matmul(dense, rows, cols, x, T, mag);
                float[] out = new float[T * rows];
                w.matmul(pool, x, T, out);
                for (int i = 0; i < out.length; i++) assertEquals(ref[i], out[i], 1e-5 * mag[i] + 1e-6, w.name() + " T=" + T + " index " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 0}) // per-tensor scale, per-row scales
    void fp8MatchesScalarTwin(int perTensor) {
        Random rnd = new Random(11 + perTensor);
        int rows = 40, cols = 1100; // odd column tail, more than one column chunk
        MemorySegment w = randomFp8(rnd, (long) rows * cols);
        float[] scales = new float[perTensor == 1 ? 1 : rows];
        for (int i = 0; i < scales.length; i++) scales[i] = (float) (1e-3 * (1 + rnd.nextDouble()));
        check(new Fp8Matrix("fp8", w, scales, rows, cols), fp8Dense(w, scales, rows, cols), rows, cols, rnd);
    }

    @Test
    void fp8DecodesEveryByte() {
        for (int b = 0; b < 256; b++) {
            float v = Fp8Matrix.e4m3((byte) b);
            if ((b & 0x7F) == 0x7F) assertThat(v).isNaN();
            else assertEquals((float) e4m3(b), v, 0f, "byte " + b);
        }
        assertThat(Fp8Matrix.e4m3((byte) 0x7E)).isEqualTo(448f);
        assertThat(Fp8Matrix.e4m3((byte) 0x01)).isEqualTo(0x1p-9f);
    }

    @Test
    void awqMatchesScalarTwin() {
        Random rnd = new Random(5);
        int rows = 48, cols = 1152, group = 64, groups = cols / group;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        check(new AwqMatrix("awq", qw, qz, sc, rows, cols, group), awqDense(qw, qz, sc, rows, cols, group), rows, cols, rnd);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gptqMatchesScalarTwin(boolean descAct) {
        Random rnd = new Random(descAct ? 7 : 8);
        int rows = 40, cols = 1088, group = 64, groups = cols / group;
        MemorySegment qw = randomInts(rnd, (long) cols * rows / 8), qz = randomInts(rnd, (long) groups * rows / 8);
        MemorySegment sc = randomHalves(rnd, (long) groups * rows, 0.02f);
        int[] gIdx = new int[cols];
        for (int i = 0; i < cols; i++) gIdx[i] = descAct ? rnd.nextInt(groups) : i / group; // act-order: any group per input
        for (int offset = 0; offset <= 1; offset++) {
            check(new GptqMatrix("gptq", qw, qz, sc, gIdx, groups, rows, cols, offset), gptqDense(qw, qz, sc, gIdx, rows, cols, offset), rows, cols, rnd);
        }
    }

    // ---- the fixtures README's worked examples ----

    @Test
    void awqWorkedExample() {
        try (HfCheckpoint c = HfCheckpoint.open(Fixtures.require("hf/llama-awq"))) {
            WeightMatrix q = c.matrix("blk.0.attn_q.weight", 256, 256);
            assertThat(q).isInstanceOf(AwqMatrix.class);
            assertThat(c.raw("model.layers.0.self_attn.q_proj.qweight").data().getAtIndex(I32, 0)).isEqualTo(0x8a6a8527);
            MemorySegment scales = c.raw("model.layers.0.self_attn.q_proj.scales").data();
            int[] qs = {7, 10, 2, 6, 5, 10, 8, 8}, zs = {7, 8, 7, 8, 7, 6, 8, 7}; // outputs 0..7 of input 0
            double[] readme = {0, 0.049927, -0.121307, -0.045837, -0.051971, 0.095337, 0, 0.027283};
            float[] row = new float[256];
            for (int o = 0; o < 8; o++) {
                q.dequantizeRow(o, row, 0);
                float expected = (qs[o] - zs[o]) * Float.float16ToFloat(scales.getAtIndex(I16, o));
                assertThat(row[0]).as("W[%d][0]", o).isEqualTo(expected);
                assertEquals(readme[o], row[0], 1e-6, "README W[" + o + "][0]");
            }
        }
    }

    @Test
    void gptqWorkedExample() {
        try (HfCheckpoint c = HfCheckpoint.open(Fixtures.require("hf/llama-gptq"))) {
            WeightMatrix q = c.matrix("blk.0.attn_q.weight", 256, 256);
            assertThat(q).isInstanceOf(GptqMatrix.class);
            float s = Float.float16ToFloat(c.raw("model.layers.0.self_attn.q_proj.scales").data().getAtIndex(I16, 0));
            int[] nibbles = {8, 9, 8, 8, 6, 5, 8, 4}; // inputs 0..7 of output 0; stored zero 7, + 1
            double[] readme = {0, 0.024139, 0, 0, -0.048279, -0.072418, 0, -0.096558};
            float[] row = new float[256];
            q.dequantizeRow(0, row, 0);
            for (int i = 0; i < 8; i++) {
                assertThat(row[i]).as("W[0][%d]", i).isEqualTo((nibbles[i] - 8) * s);
                assertEquals(readme[i], row[i], 1e-6, "README W[0][" + i + "]");
            }
        }
    }

    @Test
    void fp8WorkedExample() {
        try (HfCheckpoint c = HfCheckpoint.open(Fixtures.require("hf/llama-fp8"))) {
            WeightMatrix q = c.matrix("blk.0.attn_q.weight", 256, 256);
            assertThat(q).isInstanceOf(Fp8Matrix.class);
            float scale = c.raw("model.layers.0.self_attn.q_proj.weight_scale").data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0);
            assertThat(c.raw("model.layers.0.self_attn.q_proj.weight").data().get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 0x35);
            float[] row = new float[256];
            q.dequantizeRow(0, row, 0);
            assertThat(row[0]).isEqualTo(0.8125f * scale);
            assertEquals(6.0009e-4, row[0], 1e-8);
        }
    }
}
