package io.chorus.model;

import io.chorus.model.checkpoint.GgufCheckpoint;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.tensor.WeightMatrix;
import java.nio.file.Path;

/**
 * A plain float64 phi3 forward pass over a GGUF's weights (dequantized to float32, then widened), written
 * from the architecture's definition, not from Chorus's kernels: fused QKV, NEOX rope with per-pair
 * frequency divisors and a factor on cos and sin, causal softmax attention (within a sliding window when
 * given), fused gate/up SwiGLU. Teacher forced over a prompt, it returns the logits of every position.
 */
final class Phi3Float64 {
    private Phi3Float64() {}

    /**
     * @param factors   per rotated pair, the divisor of its frequency, or null for none
     * @param ropeScale multiplies cos and sin (longrope's attention factor)
     * @return [prompt.length][vocab] logits
     */
    static double[][] logits(Path gguf, int[] prompt, float[] factors, double ropeScale) {
        return logits(gguf, prompt, factors, ropeScale, 0);
    }

    /**
     * As {@link #logits(Path, int[], float[], double)}, every layer windowed: the query at position t
     * sees key positions j with t - j &lt; window (window positions, itself included), as transformers'
     * and llama.cpp's masks do; 0 for plain causal attention.
     */
    static double[][] logits(Path gguf, int[] prompt, float[] factors, double ropeScale, int window) {
        return logitsWithDivisors(gguf, prompt, widen(factors), ropeScale, window);
    }

    static double[] widen(float[] f) {
        if (f == null) return null;
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** As above with the per-pair frequency divisors in float64 (rope scaling's, computed by the test). */
    static double[][] logitsWithDivisors(Path gguf, int[] prompt, double[] factors, double ropeScale, int window) {
        try (GgufCheckpoint ck = GgufCheckpoint.open(gguf)) {
            ModelConfig c = ck.config();
            int n = prompt.length, dim = c.dim(), hd = c.headDim(), heads = c.heads(), kvHeads = c.kvHeads();
            int qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim(), half = c.rotDim() / 2;
            double[][] embd = matrix(ck, "token_embd.weight", c.vocabSize(), dim);
            double[][] x = new double[n][];
            for (int t = 0; t < n; t++) x[t] = embd[prompt[t]].clone();
            for (int l = 0; l < c.layers(); l++) {
                String p = "blk." + l + ".";
                double[] attnNorm = matrix(ck, p + "attn_norm.weight", 1, dim)[0];
                double[][] wqkv = matrix(ck, p + "attn_qkv.weight", qDim + 2 * kvDim, dim);
                double[][] wo = matrix(ck, p + "attn_output.weight", dim, qDim);
                double[][] q = new double[n][], k = new double[n][], v = new double[n][];
                for (int t = 0; t < n; t++) {
                    double[] qkv = mul(wqkv, rmsnorm(x[t], attnNorm, c.rmsEps()));
                    q[t] = java.util.Arrays.copyOfRange(qkv, 0, qDim);
                    k[t] = java.util.Arrays.copyOfRange(qkv, qDim, qDim + kvDim);
                    v[t] = java.util.Arrays.copyOfRange(qkv, qDim + kvDim, qDim + 2 * kvDim);
                    rotate(q[t], heads, hd, half, t, c.ropeTheta(), factors, ropeScale);
                    rotate(k[t], kvHeads, hd, half, t, c.ropeTheta(), factors, ropeScale);
                }
                for (int t = 0; t < n; t++) {
                    double[] att = new double[qDim];
                    for (int h = 0; h < heads; h++) {
                        int kh = h / (heads / kvHeads);
                        int from = window > 0 ? Math.max(0, t - window + 1) : 0;
                        double[] s = new double[t + 1];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = from; j <= t; j++) {
                            double d = 0;
                            for (int i = 0; i < hd; i++) d += q[t][h * hd + i] * k[j][kh * hd + i];
                            s[j] = d / Math.sqrt(hd);
                            max = Math.max(max, s[j]);
                        }
                        double sum = 0;
                        for (int j = from; j <= t; j++) sum += s[j] = Math.exp(s[j] - max);
                        for (int j = from; j <= t; j++) for (int i = 0; i < hd; i++) att[h * hd + i] += s[j] / sum * v[j][kh * hd + i];
                    }
                    add(x[t], mul(wo, att));
                }
                double[] ffnNorm = matrix(ck, p + "ffn_norm.weight", 1, dim)[0];
                double[][] up = matrix(ck, p + "ffn_up.weight", 2 * ffn, dim), down = matrix(ck, p + "ffn_down.weight", dim, ffn);
                for (int t = 0; t < n; t++) {
                    double[] gu = mul(up, rmsnorm(x[t], ffnNorm, c.rmsEps()));
                    double[] act = new double[ffn];
                    for (int i = 0; i < ffn; i++) act[i] = gu[i] / (1 + Math.exp(-gu[i])) * gu[ffn + i];
                    add(x[t], mul(down, act));
                }
            }
            double[] outNorm = matrix(ck, "output_norm.weight", 1, dim)[0];
            double[][] out = matrix(ck, "output.weight", c.vocabSize(), dim);
            double[][] logits = new double[n][];
            for (int t = 0; t < n; t++) logits[t] = mul(out, rmsnorm(x[t], outNorm, c.rmsEps()));
            return logits;
        }
    }

    /**
     * Rotates pairs (i, i + half) of each head by pos * theta^(-2i / rotDim) / factors[i], and scales
     * the rotated values by {@code scale}; dimensions past the rotated ones stay as they are.
     */
    static void rope(double[] x, int heads, int headDim, int half, int pos, double theta, float[] factors, double scale) {
        rotate(x, heads, headDim, half, pos, theta, widen(factors), scale);
    }

    /** As {@link #rope} with float64 divisors. */
    static void rotate(double[] x, int heads, int headDim, int half, int pos, double theta, double[] factors, double scale) {
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(theta, -2.0 * i / (2 * half)) / (factors == null ? 1 : factors[i]);
                double cos = Math.cos(pos * freq) * scale, sin = Math.sin(pos * freq) * scale;
                int a = h * headDim + i, b = a + half;
                double xa = x[a], xb = x[b];
                x[a] = xa * cos - xb * sin;
                x[b] = xa * sin + xb * cos;
            }
        }
    }

    private static double[] rmsnorm(double[] x, double[] w, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * r * w[i];
        return out;
    }

    private static double[] mul(double[][] w, double[] x) {
        double[] out = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) s += w[r][i] * x[i];
            out[r] = s;
        }
        return out;
    }

    private static void add(double[] x, double[] d) {
        for (int i = 0; i < x.length; i++) x[i] += d[i];
    }

    private static double[][] matrix(GgufCheckpoint ck, String name, int rows, int cols) {
        TensorData t = ck.tensor(name);
        WeightMatrix m = WeightMatrix.of(t.name(), t.type(), t.data(), rows, cols);
        float[] row = new float[cols];
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            m.dequantizeRow(r, row, 0);
            for (int i = 0; i < cols; i++) out[r][i] = row[i];
        }
        return out;
    }
}
