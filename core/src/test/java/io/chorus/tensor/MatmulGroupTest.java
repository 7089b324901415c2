package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Products run together as one pool job give the same bits as each run alone, for every weight
 * type, both activation paths, row counts that are not whole tiles and experts sliced from one 3-D
 * tensor; gathered rows give the same bits as the same rows inside their whole batch.
 */
class MatmulGroupTest {
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    @Test
    void groupedProductsEqualSeparateOnes() {
        Random rnd = new Random(3);
        int cols = 512;
        for (GgmlType type : WeightMatrixTest.SUPPORTED) {
            for (boolean int8 : new boolean[] {false, true}) {
                // three experts of 40 rows in one tensor, plus a matrix of 24 rows: jobs of 3, 3, 3 and 2 tiles
                MemorySegment experts = WeightMatrixTest.segment(WeightMatrixTest.randomBlocks(type, 3 * 40 * cols, rnd));
                WeightMatrix[] e = ExpertMatrices.of("exps", type, experts, 3, 40, cols);
                WeightMatrix other = WeightMatrix.of("other", type, WeightMatrixTest.segment(WeightMatrixTest.randomBlocks(type, 24 * cols, rnd)), 24, cols);
                WeightMatrix[] ws = {e[0], e[1], e[2], other};
                int[] tokens = {1, 5, 2, 9};
                Q8Activations[] in = new Q8Activations[ws.length];
                float[][] grouped = new float[ws.length][], alone = new float[ws.length][];
                MatmulGroup group = new MatmulGroup();
                for (int j = 0; j < ws.length; j++) {
                    float[] x = new float[tokens[j] * cols];
                    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                    in[j] = new Q8Activations();
                    in[j].set(x, tokens[j], cols);
                    grouped[j] = new float[tokens[j] * ws[j].rows()];
                    alone[j] = new float[tokens[j] * ws[j].rows()];
                    group.add(ws[j], in[j], grouped[j], (int8 ? ActivationPrecision.INT8 : ActivationPrecision.F32).formatFor(ws[j]));
                }
                group.run(pool);
                for (int j = 0; j < ws.length; j++) {
                    if (int8 && ws[j].hasInt8Kernel()) ws[j].matmul(pool, in[j], alone[j]);
                    else ws[j].matmul(pool, in[j].floats(), tokens[j], alone[j]);
                    assertThat(grouped[j]).as("%s int8 %s product %d", type, int8, j).isEqualTo(alone[j]);
                }
                // the expert slices are the tensor's rows 40e .. 40e + 39
                WeightMatrix whole = WeightMatrix.of("whole", type, experts, 120, cols);
                float[] a = new float[cols], b = new float[cols];
                whole.dequantizeRow(81, a, 0);
                e[2].dequantizeRow(1, b, 0);
                assertThat(b).as("%s expert 2 row 1", type).isEqualTo(a);
                group.clear();
                assertThat(group.size()).isZero();
            }
        }
    }

    @Test
    void gatheredRowsEqualTheirRowsInTheWholeBatch() {
        Random rnd = new Random(4);
        int cols = 256, T = 11;
        WeightMatrix w = WeightMatrix.of("q8", GgmlType.Q8_0, WeightMatrixTest.segment(WeightMatrixTest.randomBlocks(GgmlType.Q8_0, 64 * cols, rnd)), 64, cols);
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Q8Activations all = new Q8Activations();
        all.set(x, T, cols);
        float[] full = new float[T * 64];
        w.matmul(pool, all, full);
        int[] index = {7, 0, 3, 10, 4};
        GatheredRows gathered = new GatheredRows();
        Q8Activations some = gathered.gather(x, cols, index, 1, 4); // rows 0, 3, 10
        assertThat(some.tokens()).isEqualTo(3);
        float[] part = new float[3 * 64];
        w.matmul(pool, some, part);
        for (int i = 0; i < 3; i++) {
            for (int r = 0; r < 64; r++) assertThat(part[i * 64 + r]).isEqualTo(full[index[1 + i] * 64 + r]);
        }
        // scatter-add: each gathered row back to its token, scaled
        float[] dst = new float[T * 64];
        dst[3 * 64 + 5] = 1f;
        float[] weight = {9f, 0.5f, 2f, -1f, 9f};
        GatheredRows.scatterAdd(part, 64, index, weight, 1, 4, dst);
        assertThat(dst[0 * 64 + 7]).isEqualTo(0.5f * part[7]);
        assertThat(dst[3 * 64 + 5]).isEqualTo(1f + 2f * part[64 + 5]);
        assertThat(dst[10 * 64 + 63]).isEqualTo(-1f * part[2 * 64 + 63]);
        assertThat(dst[7 * 64]).as("a row that was not gathered").isZero();
    }

    @Test
    void rowsGatheredFromRoundedActivationsCopyTheirBytes() {
        Random rnd = new Random(5);
        int cols = 512, T = 9;
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        x[4 * cols + 300] = 0f; // a zero and a large value: blocks with a different scale
        x[8 * cols + 7] = 40f;
        Q8Activations all = new Q8Activations();
        all.set(x, T, cols);
        int[] index = {2, 8, 0, 4, 8, 6};
        GatheredRows fromBytes = new GatheredRows(), fromFloats = new GatheredRows();
        for (Q8Activations.Format f : Q8Activations.Format.values()) {
            Q8Activations a = fromBytes.gather(all, index, 1, 5); // rows 8, 0, 4, 8
            Q8Activations b = fromFloats.gather(x, cols, index, 1, 5);
            assertThat(a.tokens()).isEqualTo(4);
            assertThat(java.util.Arrays.copyOf(a.floats(), 4 * cols)).isEqualTo(java.util.Arrays.copyOf(b.floats(), 4 * cols));
            int rb = (int) Q8Activations.rowBytes(f, cols);
            byte[] copied = a.blocks(f, pool), rounded = b.blocks(f, pool), whole = all.blocks(f, pool);
            assertThat(java.util.Arrays.copyOf(copied, 4 * rb)).as("%s", f).isEqualTo(java.util.Arrays.copyOf(rounded, 4 * rb));
            assertThat(java.util.Arrays.copyOfRange(copied, 3 * rb, 4 * rb)).isEqualTo(java.util.Arrays.copyOfRange(whole, 8 * rb, 9 * rb));
        }
        // a plain set() afterwards rounds its own floats again
        Q8Activations c = fromBytes.gather(all, index, 0, 1);
        float[] y = new float[cols];
        java.util.Arrays.fill(y, 1f);
        c.set(y, 1, cols);
        Q8Activations d = new Q8Activations();
        d.set(y.clone(), 1, cols);
        assertThat(java.util.Arrays.copyOf(c.blocks(Q8Activations.Format.B32, pool), 16 * Q8Activations.B32_BYTES))
                .isEqualTo(java.util.Arrays.copyOf(d.blocks(Q8Activations.Format.B32, pool), 16 * Q8Activations.B32_BYTES));
    }
}
