package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The MoE feed-forward of a step against a scalar per-token twin (float64, one token at a time, the
 * weights dequantized whole, the expert tensors indexed as [expert][row][col] without the slicing
 * code), and the grouped pass over a batch against each token run alone: bit-identical, with one
 * pass per expert that the step's tokens chose.
 */
class MoeFeedForwardTest {
    @TempDir static Path dir;
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Rows of a 2-D or 3-D tensor as floats, [all rows][cols]. */
    private static float[][] rows(GgufFile f, String name) {
        GgufTensorInfo t = f.tensor(name);
        int cols = (int) t.dims()[0];
        int n = (int) (t.elements() / cols);
        WeightMatrix m = WeightMatrix.of(name, t.type(), t.data(), n, cols);
        float[][] out = new float[n][cols];
        for (int r = 0; r < n; r++) m.dequantizeRow(r, out[r], 0);
        return out;
    }

    private static double dot(float[] w, float[] x, int xo) {
        double s = 0;
        for (int c = 0; c < w.length; c++) s += (double) w[c] * x[xo + c];
        return s;
    }

    private static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    /** y += scale * down(silu(gate x) * up x) for rows [r0, r0 + ff) of gate/up and expert slice e of down. */
    private static void ffn(float[][] gate, float[][] up, float[][] down, int r0, int ff, int downRow0, float[] x, int xo, double scale, double[] y) {
        double[] h = new double[ff];
        for (int i = 0; i < ff; i++) h[i] = silu(dot(gate[r0 + i], x, xo)) * dot(up[r0 + i], x, xo);
        for (int d = 0; d < y.length; d++) {
            double s = 0;
            for (int i = 0; i < ff; i++) s += down[downRow0 + d][i] * h[i];
            y[d] += scale * s;
        }
    }

    @ParameterizedTest
    @CsvSource({"tiny-mixtral,F32", "tiny-qwen2moe,F32", "tiny-qwen3moe,F32", "tiny-mixtral,Q4_K_M", "tiny-qwen2moe,Q8_0", "tiny-qwen3moe,Q6_K"})
    void matchesScalarPerTokenTwinAndIsBatchInvariant(String shape, String mix) throws IOException {
        Path file = dir.resolve(shape + "-" + mix + ".gguf");
        SyntheticModel.write(SyntheticModel.shape(shape), SyntheticModel.Mix.parse(mix), 17, file);
        try (GgufFile f = GgufFile.open(file); var checkpoint = io.chorus.model.checkpoint.GgufCheckpoint.open(file)) {
            ModelConfig c = ModelConfig.fromGguf(f);
            MoeConfig m = c.moe();
            int dim = c.dim(), ne = m.experts(), ff = m.expertFfnDim(), k = m.expertsUsed();
            MoeFeedForward moe = MoeFeedForward.load(checkpoint, c, new io.chorus.backend.CpuBackend(pool, ActivationPrecision.F32));
            // 150 tokens x 2 experts = 300 gathered rows: more than one wave (MoeFeedForward.WAVE_ROWS)
            int T = 150;
            assertThat(T * k).isGreaterThan(MoeFeedForward.WAVE_ROWS);
            SplittableRandom rnd = new SplittableRandom(9);
            float[] x = new float[T * dim];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            // Token rows 5 and 6 equal: the router must send equal rows to the same experts with the same weights.
            System.arraycopy(x, 5 * dim, x, 6 * dim, dim);
            Q8Activations xa = new Q8Activations();
            xa.set(x, T, dim);
            for (int layer = 0; layer < c.layers(); layer++) {
                String p = "blk." + layer + ".";
                float[] out = new float[T * dim];
                long passes = moe.expertPasses();
                moe.forward(layer, xa, T, out);
                BitSet used = new BitSet();
                for (int t = 0; t < T; t++) for (int j = 0; j < k; j++) used.set(moe.router().chosen(t, j));
                assertThat(moe.expertPasses() - passes).as("one pass per expert chosen in the step").isEqualTo(used.cardinality());

                float[][] router = rows(f, p + "ffn_gate_inp.weight");
                float[][] gate = rows(f, p + "ffn_gate_exps.weight"), up = rows(f, p + "ffn_up_exps.weight");
                float[][] down = rows(f, p + "ffn_down_exps.weight");
                double maxAbs = 0, maxDiff = 0;
                for (int t = 0; t < T; t++) {
                    double[] logit = new double[ne];
                    for (int e = 0; e < ne; e++) logit[e] = dot(router[e], x, t * dim);
                    Integer[] order = new Integer[ne];
                    for (int e = 0; e < ne; e++) order[e] = e;
                    final int tt = t;
                    Arrays.sort(order, (a, b) -> logit[a] != logit[b] ? Double.compare(logit[b], logit[a]) : Integer.compare(a, b));
                    double max = logit[order[0]], z = 0, picked = 0;
                    for (double l : logit) z += Math.exp(l - max);
                    for (int j = 0; j < k; j++) picked += Math.exp(logit[order[j]] - max) / z;
                    double[] y = new double[dim];
                    for (int j = 0; j < k; j++) {
                        int e = order[j];
                        double w = Math.exp(logit[e] - max) / z;
                        if (m.normalizeTopK()) w /= picked;
                        assertThat(moe.router().chosen(tt, j)).as("%s layer %d token %d expert %d", shape, layer, t, j).isEqualTo(e);
                        ffn(gate, up, down, e * ff, ff, e * dim, x, t * dim, w, y);
                    }
                    if (m.hasSharedExpert()) {
                        float[] gi = rows(f, p + "ffn_gate_inp_shexp.weight")[0];
                        double s = 1 / (1 + Math.exp(-dot(gi, x, t * dim)));
                        ffn(rows(f, p + "ffn_gate_shexp.weight"), rows(f, p + "ffn_up_shexp.weight"), rows(f, p + "ffn_down_shexp.weight"),
                                0, m.sharedFfnDim(), 0, x, t * dim, s, y);
                    }
                    for (int d = 0; d < dim; d++) {
                        maxAbs = Math.max(maxAbs, Math.abs(y[d]));
                        maxDiff = Math.max(maxDiff, Math.abs(y[d] - out[t * dim + d]));
                    }
                }
                assertThat(maxAbs).as("a non-trivial output").isGreaterThan(1e-3);
                assertThat(maxDiff).as("%s %s layer %d vs the float64 twin (output up to %.4f)", shape, mix, layer, maxAbs).isLessThan(maxAbs * 2e-5);
                for (int d = 0; d < dim; d++) assertThat(out[6 * dim + d]).isEqualTo(out[5 * dim + d]);

                // Each token alone: the same bits as inside the step.
                float[] one = new float[dim];
                float[] xOne = new float[dim];
                for (int t = 0; t < T; t++) {
                    System.arraycopy(x, t * dim, xOne, 0, dim);
                    xa.set(xOne, 1, dim);
                    moe.forward(layer, xa, 1, one);
                    for (int d = 0; d < dim; d++) assertThat(one[d]).as("%s layer %d token %d alone, value %d", shape, layer, t, d).isEqualTo(out[t * dim + d]);
                }
                xa.set(x, T, dim);
            }
        }
    }
}
