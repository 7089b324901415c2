package io.chorus.backend;

import io.chorus.model.ModelConfig;
import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.TensorData;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.MatmulGroup;
import io.chorus.tensor.Q8Activations;
import io.chorus.tensor.WeightMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * A backend that writes down every call the model makes (name and shape, one line each) and passes
 * it on to another backend: what a model asks of its backend, in order, for tests of the seam.
 */
final class RecordingBackend implements Backend {
    private final Backend inner;
    final List<String> calls = new ArrayList<>();

    RecordingBackend(Backend inner) {
        this.inner = inner;
    }

    private void log(String s) { calls.add(s); }

    @Override public WeightMatrix matrix(Checkpoint checkpoint, String name, int rows, int cols) {
        log("matrix " + name + " " + rows + "x" + cols);
        return inner.matrix(checkpoint, name, rows, cols);
    }
    @Override public WeightMatrix matrix(String name, TensorData tensor, int rows, int cols) {
        log("matrix " + name + " " + rows + "x" + cols);
        return inner.matrix(name, tensor, rows, cols);
    }
    @Override public WeightMatrix[] experts(String name, TensorData tensor, int experts, int rows, int cols) {
        log("experts " + name + " " + experts + "x" + rows + "x" + cols);
        return inner.experts(name, tensor, experts, rows, cols);
    }
    @Override public void readRow(WeightMatrix w, int row, float[] dst, int off) {
        log("readRow " + w.name() + " " + row);
        inner.readRow(w, row, dst, off);
    }
    @Override public ActivationPrecision precision() { return inner.precision(); }
    @Override public Q8Activations.Format activationFormat(WeightMatrix w) { return inner.activationFormat(w); }

    @Override public void matmul(WeightMatrix w, Q8Activations a, float[] out) {
        log("matmul " + w.name() + " rows=" + a.tokens());
        inner.matmul(w, a, out);
    }
    @Override public void matmulF32(WeightMatrix w, float[] x, int rows, float[] out) {
        log("matmulF32 " + w.name() + " rows=" + rows);
        inner.matmulF32(w, x, rows, out);
    }
    @Override public void matmul(MatmulGroup group) {
        log("matmulGroup size=" + group.size());
        inner.matmul(group);
    }
    @Override public void logits(WeightMatrix output, Q8Activations xl, float[] logits, int vocab, float softcap) {
        log("logits " + output.name() + " rows=" + xl.tokens() + " vocab=" + vocab + " softcap=" + softcap);
        inner.logits(output, xl, logits, vocab, softcap);
    }

    @Override public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int rows, int width, float eps) {
        log("rmsnorm rows=" + rows + " width=" + width);
        inner.rmsnorm(out, outOff, x, xOff, w, rows, width, eps);
    }
    @Override public void add(float[] x, float[] y, int rows, int width) {
        log("add rows=" + rows + " width=" + width);
        inner.add(x, y, rows, width);
    }
    @Override public void addBias(float[] x, float[] bias, int rows, int width) {
        log("addBias rows=" + rows + " width=" + width);
        inner.addBias(x, bias, rows, width);
    }
    @Override public void rope(float[] x, int rows, int heads, int headDim, int rotDim, float[] cos, float[] sin, boolean neox) {
        log("rope rows=" + rows + " heads=" + heads + (neox ? " neox" : ""));
        inner.rope(x, rows, heads, headDim, rotDim, cos, sin, neox);
    }
    @Override public void swiglu(float[] out, float[] g, float[] u, int n) {
        log("swiglu n=" + n);
        inner.swiglu(out, g, u, n);
    }
    @Override public void swigluFused(float[] out, float[] gateUp, int rows, int width) {
        log("swigluFused rows=" + rows + " width=" + width);
        inner.swigluFused(out, gateUp, rows, width);
    }
    @Override public void geglu(float[] out, float[] g, float[] u, int rows, int width) {
        log("geglu rows=" + rows + " width=" + width);
        inner.geglu(out, g, u, rows, width);
    }
    @Override public void scatterAdd(float[] src, int cols, int[] index, float[] weight, int from, int to, float[] dst) {
        log("scatterAdd rows=" + (to - from));
        inner.scatterAdd(src, cols, index, weight, from, to, dst);
    }

    @Override public long kvBytesPerBlock(ModelConfig config, int blockSize, KvCacheDtype dtype) {
        log("kvBytesPerBlock " + blockSize + " " + dtype);
        return inner.kvBytesPerBlock(config, blockSize, dtype);
    }
    @Override public KvCache allocateKvCache(ModelConfig config, int numBlocks, int blockSize, KvCacheDtype dtype, int maxContext) {
        log("allocateKvCache blocks=" + numBlocks + " blockSize=" + blockSize + " " + dtype + " maxContext=" + maxContext);
        return inner.allocateKvCache(config, numBlocks, blockSize, dtype, maxContext);
    }
    @Override public void writeKv(KvCache cache, int layer, int rows, int[] slots, float[] k, float[] v) {
        StringBuilder s = new StringBuilder("writeKv layer=" + layer + " slots=");
        for (int t = 0; t < rows; t++) s.append(t > 0 ? "," : "").append(slots[t]);
        log(s.toString());
        inner.writeKv(cache, layer, rows, slots, k, v);
    }
    @Override public void attend(KvCache cache, int layer, int rows, int[] positions, int[][] tables, float[] q, float[] out, int window) {
        log("attend layer=" + layer + " rows=" + rows + " window=" + window);
        inner.attend(cache, layer, rows, positions, tables, q, out, window);
    }
    @Override public void copyBlocks(KvCache cache, int[] src, int[] dst, int count) {
        log("copyBlocks count=" + count);
        inner.copyBlocks(cache, src, dst, count);
    }

    @Override public long memoryBytes() { return inner.memoryBytes(); }
    @Override public int threads() { return inner.threads(); }
    @Override public String description() { return "recording " + inner.description(); }
    @Override public void close() { inner.close(); }
}
