package io.chorus.tensor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The input of one or more matmuls: T rows of {@code cols} floats, plus the same rows rounded to 8
 * bits in blocks with scales, built on first demand and then shared by every matmul that reads this
 * input (q/k/v, gate/up). Each row is rounded on its own, so a row's blocks never depend on the
 * other rows of the batch.
 *
 * <p>Two block layouts, as llama.cpp rounds activations (little-endian, rows one after the other):
 * <ul>
 *   <li>{@link Format#B32} for weights in 32-value blocks, {@value #B32_BYTES} bytes a block:
 *       {@code float d; float s; int8 q[32]}. d = fp16(amax / 127), q = rint(x 127 / amax)
 *       (llama.cpp's q8_0), s = fp16(d' sum q) with the unrounded d' (its q8_1 sum).
 *   <li>{@link Format#K256} for 256-value super-blocks, {@value #K_BYTES} bytes a block:
 *       {@code float d; int8 q[256]; int16 bsum16[16]; int16 bsum32[8]}: q = min(127, rint(x (-127 / max)))
 *       where max is the value of largest magnitude, d = 1 / (-127 / max) (llama.cpp's q8_K), and
 *       the sums of q over each 16 and each 32 values.
 * </ul>
 *
 * <p>Implementation notes: used by the engine thread only. {@link #set} points at new floats and
 * marks both layouts stale; a layout is rebuilt (over the pool's workers when T is large) the first
 * time a matmul asks for it. Buffers grow to the largest batch and are reused.
 */
public final class Q8Activations {
    /** Which block layout a weight type multiplies with. */
    public enum Format { B32, K256 }

    static final int B32_BYTES = 40;
    static final int K_BYTES = 308;
    private static final int PARALLEL_ROWS = 8; // below this, one thread rounds faster than a pool job starts

    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private float[] x = new float[0];
    private int tokens, cols;
    private byte[] b32 = new byte[0], k256 = new byte[0];
    private boolean b32Ready, k256Ready;
    private Q8Activations source;             // gathered rows: their 8-bit rows are copied from source's
    private int[] sourceIndex;                // row i is source row sourceIndex[sourceFrom + i]
    private int sourceFrom;

    /** Points at rows [0, T) of x (row t at x[t cols .. t cols + cols)); the 8-bit layouts are rebuilt on demand. */
    public void set(float[] x, int tokens, int cols) {
        if (tokens < 0 || cols < 0 || (long) tokens * cols > x.length) {
            throw new IllegalArgumentException("activations " + tokens + " x " + cols + " exceed " + x.length + " floats");
        }
        this.x = x;
        this.tokens = tokens;
        this.cols = cols;
        b32Ready = false;
        k256Ready = false;
        source = null;
        sourceIndex = null;
    }

    /**
     * As {@link #set}, for rows that are copies of rows of {@code src}: row i of x equals src's row
     * index[from + i]. A layout is then built by copying those rows of src's layout (built once for
     * all the gathers of a step) instead of rounding them again; as each row is rounded on its own,
     * the bytes are the same. src must not change until this input has been used.
     */
    void setGathered(float[] x, int tokens, int cols, Q8Activations src, int[] index, int from) {
        if (src.cols != cols) throw new IllegalArgumentException("gathered rows have " + cols + " columns, their source " + src.cols);
        set(x, tokens, cols);
        source = src;
        sourceIndex = index;
        sourceFrom = from;
    }

    public float[] floats() { return x; }
    public int tokens() { return tokens; }
    public int cols() { return cols; }

    /** The rows in {@code format}, built now if stale; requires cols to be a multiple of the block size. */
    byte[] blocks(Format format, WorkerPool pool) {
        if (format == Format.B32) {
            if (!b32Ready) {
                b32 = build(format, b32, pool);
                b32Ready = true;
            }
            return b32;
        }
        if (!k256Ready) {
            k256 = build(format, k256, pool);
            k256Ready = true;
        }
        return k256;
    }

    /** Bytes of one row in {@code format}. */
    static long rowBytes(Format format, int cols) {
        return format == Format.B32 ? (long) cols / 32 * B32_BYTES : (long) cols / 256 * K_BYTES;
    }

    private byte[] build(Format format, byte[] buf, WorkerPool pool) {
        int block = format == Format.B32 ? 32 : 256;
        if (cols % block != 0) throw new IllegalArgumentException(cols + " columns are not a multiple of " + block);
        long need = rowBytes(format, cols) * tokens;
        if (need > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("activation batch too large: " + need + " bytes");
        if (buf.length < need) buf = new byte[(int) Math.max(need, Math.min(Integer.MAX_VALUE - 8, buf.length * 2L))];
        byte[] dst = buf;
        float[] src = x;
        int n = cols;
        int rb = (int) rowBytes(format, cols);
        if (source != null) {
            byte[] all = source.blocks(format, pool);
            for (int i = 0; i < tokens; i++) System.arraycopy(all, sourceIndex[sourceFrom + i] * rb, dst, i * rb, rb);
            return buf;
        }
        if (tokens >= PARALLEL_ROWS && pool != null && pool.threads() > 1) {
            pool.run(tokens, (w, from, to) -> quantizeRows(format, src, n, dst, rb, from, to));
        } else {
            quantizeRows(format, src, n, dst, rb, 0, tokens);
        }
        return buf;
    }

    private static void quantizeRows(Format format, float[] x, int cols, byte[] dst, int rb, int from, int to) {
        for (int t = from; t < to; t++) {
            if (format == Format.B32) quantizeRow32(x, t * cols, cols, dst, t * rb);
            else quantizeRowK(x, t * cols, cols, dst, t * rb);
        }
    }

    /** One row to {@link Format#B32} blocks at dst[off ..). */
    static void quantizeRow32(float[] x, int xOff, int cols, byte[] dst, int off) {
        for (int c = 0; c < cols; c += 32, off += B32_BYTES) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[xOff + c + j]));
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int q = (int) Math.rint(x[xOff + c + j] * id);
                dst[off + 8 + j] = (byte) q;
                sum += q;
            }
            FLOAT.set(dst, off, fp16(d));
            FLOAT.set(dst, off + 4, fp16(d * sum));
        }
    }

    /** One row to {@link Format#K256} blocks at dst[off ..). */
    static void quantizeRowK(float[] x, int xOff, int cols, byte[] dst, int off) {
        for (int c = 0; c < cols; c += 256, off += K_BYTES) {
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++) {
                float v = x[xOff + c + j], a = Math.abs(v);
                if (a > amax) {
                    amax = a;
                    max = v;
                }
            }
            if (amax == 0) {
                java.util.Arrays.fill(dst, off, off + K_BYTES, (byte) 0);
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) {
                dst[off + 4 + j] = (byte) Math.min(127, (int) Math.rint(iscale * x[xOff + c + j]));
            }
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int j = 0; j < 16; j++) s += dst[off + 4 + 16 * g + j];
                SHORT.set(dst, off + 260 + 2 * g, (short) s);
            }
            for (int g = 0; g < 8; g++) {
                int s = (short) SHORT.get(dst, off + 260 + 4 * g) + (short) SHORT.get(dst, off + 262 + 4 * g);
                SHORT.set(dst, off + 292 + 2 * g, (short) s);
            }
            FLOAT.set(dst, off, 1f / iscale);
        }
    }

    private static float fp16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    static float getFloat(byte[] b, int off) { return (float) FLOAT.get(b, off); }
    static short getShort(byte[] b, int off) { return (short) SHORT.get(b, off); }
}
