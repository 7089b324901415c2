package io.chorus.tensor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The input of one or more matmuls: T rows of {@code cols} floats, plus the same rows rounded to 8
 * (or 16) bits in blocks with scales, built on first demand and then shared by every matmul that reads this
 * input (q/k/v, gate/up). Each row is rounded on its own, so a row's blocks never depend on the
 * other rows of the batch.
 *
 * <p>Three block layouts (little-endian, rows one after the other); the first two round as llama.cpp does:
 * <ul>
 *   <li>{@link Format#B32} for weights in 32-value blocks, {@value #B32_BYTES} bytes a block:
 *       {@code float d; float s; int8 q[32]}. d = fp16(amax / 127), q = rint(x 127 / amax)
 *       (llama.cpp's q8_0), s = fp16(d' sum q) with the unrounded d' (its q8_1 sum).
 *   <li>{@link Format#K256} for 256-value super-blocks, {@value #K_BYTES} bytes a block:
 *       {@code float d; int8 q[256]; int16 bsum16[16]; int16 bsum32[8]}: q = min(127, rint(x (-127 / max)))
 *       where max is the value of largest magnitude, d = 1 / (-127 / max) (llama.cpp's q8_K), and
 *       the sums of q over each 16 and each 32 values.
 *   <li>{@link Format#I16} for AWQ and GPTQ, 128-value blocks of {@value #I16_BYTES} bytes:
 *       {@code int16 q[128]; float d; int32 sum[4]; 12 zero bytes}. q is in pair order: within each 8
 *       inputs stored as x0, x4, x1, x5, x2, x6, x3, x7, so int32 p = 4k + j of a block holds the pair
 *       (x[8k + j], x[8k + j + 4]). amax = max |x| over the block; amax == 0: d = 0 and q = 0; else
 *       d = amax / 32767f and q = clamp(rint(x (32767f / amax)), -32767, 32767) (an error of ~1.5e-5 of
 *       the block's largest value: float-like results). sum[b] = the sum of q over inputs 32b .. 32b + 31.
 * </ul>
 *
 * <p>Implementation notes: used by the engine thread only. {@link #set} points at new floats and
 * marks both layouts stale; a layout is rebuilt (over the pool's workers when T is large) the first
 * time a matmul asks for it. Buffers grow to the largest batch and are reused.
 */
public final class Q8Activations {
    /** Which block layout a weight type multiplies with. */
    public enum Format {
        B32(32), K256(256), I16(128);

        /** Values per block: cols must be a multiple of it. */
        final int block;

        Format(int block) { this.block = block; }
    }

    static final int B32_BYTES = 40;
    static final int K_BYTES = 308;
    static final int I16_BYTES = 288;
    private static final int PARALLEL_ROWS = 8; // below this, one thread rounds faster than a pool job starts

    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private float[] x = new float[0];
    private int tokens, cols;
    private final byte[][] blocks = {new byte[0], new byte[0], new byte[0]}; // [format.ordinal()]
    private final boolean[] ready = new boolean[3];
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
        java.util.Arrays.fill(ready, false);
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
        int f = format.ordinal();
        if (!ready[f]) {
            blocks[f] = build(format, blocks[f], pool);
            ready[f] = true;
        }
        return blocks[f];
    }

    /** Bytes of one row in {@code format}. */
    static long rowBytes(Format format, int cols) {
        return switch (format) {
            case B32 -> (long) cols / 32 * B32_BYTES;
            case K256 -> (long) cols / 256 * K_BYTES;
            case I16 -> (long) cols / 128 * I16_BYTES;
        };
    }

    private byte[] build(Format format, byte[] buf, WorkerPool pool) {
        int block = format.block;
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
            switch (format) {
                case B32 -> quantizeRow32(x, t * cols, cols, dst, t * rb);
                case K256 -> quantizeRowK(x, t * cols, cols, dst, t * rb);
                case I16 -> quantizeRow16(x, t * cols, cols, dst, t * rb);
            }
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

    /** One row to {@link Format#I16} blocks at dst[off ..). */
    static void quantizeRow16(float[] x, int xOff, int cols, byte[] dst, int off) {
        for (int c = 0; c < cols; c += 128, off += I16_BYTES) {
            float amax = 0;
            for (int j = 0; j < 128; j++) amax = Math.max(amax, Math.abs(x[xOff + c + j]));
            float id = amax != 0 ? 32767f / amax : 0f;
            for (int b = 0; b < 4; b++) {
                int sum = 0;
                for (int j = 32 * b; j < 32 * b + 32; j++) {
                    int q = (int) Math.max(-32767, Math.min(32767, Math.rint(x[xOff + c + j] * id)));
                    SHORT.set(dst, off + 2 * pairSlot(j), (short) q);
                    sum += q;
                }
                INT.set(dst, off + 260 + 4 * b, sum);
            }
            FLOAT.set(dst, off + 256, amax / 32767f);
            java.util.Arrays.fill(dst, off + 276, off + I16_BYTES, (byte) 0);
        }
    }

    /** Where input j of an {@link Format#I16} block is stored: inputs 8k + i and 8k + i + 4 side by side. */
    static int pairSlot(int j) {
        int i = j & 7;
        return (j & ~7) + (i < 4 ? 2 * i : 2 * (i - 4) + 1);
    }

    private static float fp16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    static float getFloat(byte[] b, int off) { return (float) FLOAT.get(b, off); }
    static short getShort(byte[] b, int off) { return (short) SHORT.get(b, off); }
    static int getInt(byte[] b, int off) { return (int) INT.get(b, off); }
}
