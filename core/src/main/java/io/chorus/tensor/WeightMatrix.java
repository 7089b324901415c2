package io.chorus.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows x cols} stored row-major in its GGUF block layout, read in place
 * from the (memory-mapped) segment. Row r holds the weights of output feature r; in GGUF terms
 * ne[0] = cols, ne[1] = rows.
 *
 * <p>The batched product is the heart of batching: {@link #matmul} multiplies the matrix by T
 * activation rows at once, decoding each weight block once for all T rows.
 */
public abstract class WeightMatrix {
    protected final String name;
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;
    /**
     * {@code data} as the native kernels receive it: for native memory, the same bytes outside the
     * mapping's shared arena, so a downcall does not acquire and release that arena (an atomic update
     * on one cache line that every kernel thread would share, twice per call). The checkpoint keeps
     * the mapping open for as long as the model, and so its matrices, are in use.
     */
    final MemorySegment kernelData;

    protected WeightMatrix(String name, MemorySegment data, int rows, int cols) {
        this.name = name;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.kernelData = data.isNative() ? MemorySegment.ofAddress(data.address()).reinterpret(data.byteSize()) : data;
    }

    /**
     * The matrix of the given type over {@code data} (read in place, not copied).
     *
     * @throws IllegalArgumentException when the type is not supported, cols is not a multiple of
     *     the type's block size, or data does not hold exactly rows x cols values of the type
     */
    public static WeightMatrix of(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        if (!type.supported) {
            throw new IllegalArgumentException("tensor " + name + " has type " + type
                    + ", which Chorus does not support; supported: " + GgmlType.supportedNames());
        }
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("tensor " + name + " (" + type + ") has a negative shape " + rows + " x " + cols);
        }
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + " (" + type + ") has " + cols
                    + " columns, not a multiple of the block size " + type.blockSize);
        }
        long expected = type.bytesFor((long) rows * cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + " (" + type + ", " + rows + " x " + cols
                    + ") needs " + expected + " bytes, got " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Matrix(name, data, rows, cols);
            case F16 -> new F16Matrix(name, data, rows, cols);
            case BF16 -> new BF16Matrix(name, data, rows, cols);
            case Q8_0 -> new Q8_0Matrix(name, data, rows, cols);
            case Q4_0 -> new Q4_0Matrix(name, data, rows, cols);
            case Q4_1 -> new Q4_1Matrix(name, data, rows, cols);
            case Q5_0 -> new Q5_0Matrix(name, data, rows, cols);
            case Q5_1 -> new Q5_1Matrix(name, data, rows, cols);
            case IQ4_NL -> new IQ4_NLMatrix(name, data, rows, cols);
            case Q4_K -> new Q4_KMatrix(name, data, rows, cols);
            case Q5_K -> new Q5_KMatrix(name, data, rows, cols);
            case Q6_K -> new Q6_KMatrix(name, data, rows, cols);
            case Q2_K -> new Q2_KMatrix(name, data, rows, cols);
            case Q3_K -> new Q3_KMatrix(name, data, rows, cols);
            case IQ4_XS -> new IQ4_XSMatrix(name, data, rows, cols);
            default -> throw new IllegalStateException("supported type without a kernel: " + type);
        };
    }

    public final String name() { return name; }
    public final int rows() { return rows; }
    public final int cols() { return cols; }
    public final MemorySegment data() { return data; }
    public abstract GgmlType type();

    /** Bytes of one stored row. */
    public final long rowBytes() {
        return type().bytesFor(cols);
    }

    /**
     * For output rows r in [r0, r1) and tokens t in [0, T):
     * {@code out[t * outStride + r] = sum_c W[r][c] * x[t * cols + c]}.
     * Called concurrently by kernel workers on disjoint row ranges; must not allocate.
     */
    public abstract void matmul(float[] x, int T, float[] out, int outStride, int r0, int r1);

    /** Writes the float values of row r into dst[off .. off + cols). */
    public abstract void dequantizeRow(int r, float[] dst, int off);

    /**
     * out[t][rows] = W x[t] for t in [0, T), rows split over the pool's workers; uses the native
     * kernel for this type when {@link NativeKernels#supports} says so, else the Java kernel.
     */
    public final void matmul(WorkerPool pool, float[] x, int T, float[] out) {
        // Split in chunks of 16 rows so K-quant and tile kernels always see whole row tiles.
        int chunks = (rows + 15) / 16;
        if (NativeKernels.supports(type())) {
            pool.run(chunks, (w, from, to) -> NativeKernels.matmul(this, x, T, out, rows, from * 16, Math.min(rows, to * 16)));
            return;
        }
        pool.run(chunks, (w, from, to) -> matmul(x, T, out, rows, from * 16, Math.min(rows, to * 16)));
    }

    /** True when this type multiplies 8-bit activations ({@link #matmul(WorkerPool, Q8Activations, float[])}) with integer dot products. */
    public final boolean hasInt8Kernel() {
        return int8Format() != null;
    }

    /** The 8-bit activation layout this matrix multiplies with, or null when it has no integer kernel. */
    Q8Activations.Format int8Format() {
        return Int8Kernels.format(type());
    }

    /**
     * Rows [r0, r1) times integer activations {@code xq} in {@code format} ({@link #int8Format}, or
     * {@link #autoFormat} where that differs): the native kernel when loaded, else its Java twin (same bits).
     */
    void matmulQ(Q8Activations.Format format, byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        if (NativeInt8Kernels.supports(type())) NativeInt8Kernels.matmul(this, xq, T, out, outStride, r0, r1);
        else Int8Kernels.matmul(this, xq, T, out, outStride, r0, r1);
    }

    /**
     * True when the 8-bit path is the faster one for this type here (see {@link ActivationPrecision#AUTO}):
     * a quantized type with a loaded native integer kernel, except IQ4_XS, whose integer kernel was not
     * measured faster for a single token.
     */
    public boolean prefersInt8() {
        return type() != GgmlType.IQ4_XS && NativeInt8Kernels.supports(type());
    }

    /**
     * The integer activation layout {@link ActivationPrecision#AUTO} multiplies this matrix with, or null
     * for floats: {@link #int8Format} where {@link #prefersInt8}. AWQ and GPTQ answer their 16-bit layout.
     */
    Q8Activations.Format autoFormat() {
        return prefersInt8() ? int8Format() : null;
    }

    /**
     * Rows per unit of work when a single token's product is split over threads (a multiple of 16):
     * matrices whose rows share cache lines give each thread whole lines, so a line is not streamed
     * in parts by two threads.
     */
    int streamRows() {
        return 16;
    }

    /**
     * out[t][rows] = W a[t] for the rows of {@code a}: with 8-bit activations (built once in
     * {@code a} and shared with the other matmuls reading it) where this type has an integer
     * kernel, native when loaded, else its Java twin (same bits); other types take the float path.
     */
    public final void matmul(WorkerPool pool, Q8Activations a, float[] out) {
        matmul(pool, a, int8Format(), out);
    }

    /**
     * out[t][rows] = W a[t] for the rows of {@code a}, with its rows in {@code format} (a layout this
     * matrix has a kernel for, as {@link ActivationPrecision#formatFor} answers), or its floats when null.
     */
    public final void matmul(WorkerPool pool, Q8Activations a, Q8Activations.Format format, float[] out) {
        if (format == null) {
            matmul(pool, a.floats(), a.tokens(), out);
            return;
        }
        if (a.cols() != cols) throw new IllegalArgumentException(name + ": activations have " + a.cols() + " columns, expected " + cols);
        byte[] xq = a.blocks(format, pool);
        int T = a.tokens();
        int unit = T == 1 ? streamRows() : 16, chunks = (rows + unit - 1) / unit;
        pool.run(chunks, (w, from, to) -> matmulQ(format, xq, T, out, rows, from * unit, Math.min(rows, to * unit)));
    }
}
