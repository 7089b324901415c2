package io.chorus.tensor;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The native kernels of the Hugging Face quantized formats (core/src/main/c/chorus_hfq.c, in the
 * same library as {@link NativeKernels}): FP8 e4m3, AWQ and GPTQ with float activations (and AWQ and
 * GPTQ with 8-bit or 16-bit integer ones, {@link Q8Activations.Format#B32} and {@link Q8Activations.Format#I16}), called
 * through FFM by {@link Fp8Matrix}, {@link AwqMatrix} and {@link GptqMatrix}. Where the library is
 * absent, off, or an older build without these symbols, the matrices run their Java kernels.
 *
 * <p>Each call is bounded like {@link NativeKernels#matmul} (a critical call holds off safepoints),
 * in row ranges that start on the kernels' tiles, so the split changes no result.
 */
final class NativeHfqKernels {
    private NativeHfqKernels() {}

    private static final ValueLayout A = ValueLayout.ADDRESS, I = ValueLayout.JAVA_INT;
    private static final MethodHandle FP8 = find("chorus_matmul_fp8", A, I, A, A, I, A, I, I, I);
    private static final MethodHandle AWQ = find("chorus_matmul_awq", A, A, A, I, I, I, A, I, A, I, I, I);
    private static final MethodHandle GPTQ = find("chorus_matmul_gptq", A, A, A, I, I, I, I, A, I, A, I, I, I);
    private static final MethodHandle AWQ8 = find("chorus_matmul8_awq", A, A, A, I, I, I, A, I, A, I, I, I);
    private static final MethodHandle GPTQ8 = find("chorus_matmul8_gptq", A, A, A, I, I, I, I, A, I, A, I, I, I);
    private static final MethodHandle AWQ16 = find("chorus_matmul16_awq", A, A, A, I, I, I, A, I, A, I, I, I);
    private static final MethodHandle GPTQ16 = find("chorus_matmul16_gptq", A, A, A, I, I, I, I, A, I, A, I, I, I);

    private static MethodHandle find(String name, MemoryLayout... args) {
        SymbolLookup lib = NativeKernels.available() ? NativeKernels.library() : null;
        if (lib == null) return null;
        // critical: heap arrays are passed in place; each call's work is bounded below
        return lib.find(name)
                .map(s -> Linker.nativeLinker().downcallHandle(s, FunctionDescriptor.ofVoid(args), Linker.Option.critical(true)))
                .orElse(null);
    }

    static boolean fp8() { return FP8 != null; }
    static boolean awq() { return AWQ != null; }
    static boolean gptq() { return GPTQ != null; }
    static boolean awq8() { return AWQ8 != null; }
    static boolean gptq8() { return GPTQ8 != null; }
    static boolean awq16() { return AWQ16 != null; }
    static boolean gptq16() { return GPTQ16 != null; }

    /**
     * Group sizes the 4-bit kernels take: multiples of 8 (whole GPTQ words) that are at most 64 or a
     * multiple of 64 (their decode chunk, which must not straddle a group).
     */
    static boolean groupSizeSupported(int gs) {
        return gs > 0 && gs % 8 == 0 && (gs <= 64 || gs % 64 == 0);
    }

    /**
     * Group sizes the 8-bit kernels take: whole activation blocks (multiples of 32) that are at most
     * 128 or a multiple of 256 (their decode chunks, which must not straddle a group).
     */
    static boolean int8GroupSizeSupported(int gs) {
        return gs > 0 && gs % 32 == 0 && (gs <= 128 || gs % 256 == 0);
    }

    /**
     * Whether the 16-bit kernels take a matrix of {@code cols} inputs in groups of {@code gs}: whole
     * activation blocks of 128 inputs, and groups of 32 or 64 (several spans per block) or whole blocks.
     */
    static boolean int16Supported(int cols, int gs) {
        return cols % 128 == 0 && (gs == 32 || gs == 64 || (gs > 0 && gs % 128 == 0));
    }

    /** Rows per call: about {@link NativeKernels#MACS_PER_CALL} multiply-adds, in whole tiles of {@code tile} rows. */
    static int rowsPerCall(int cols, int T, int tile) {
        return Math.max(tile, NativeKernels.rowsPerCall(cols, T) / tile * tile);
    }

    private static void checkRange(WeightMatrix w, float[] x, int T, float[] out, int outStride, int r0, int r1) {
        if (r0 < 0 || r1 > w.rows || r0 > r1 || T < 0 || (long) T * w.cols > x.length
                || (T > 0 && r1 > r0 && (long) (T - 1) * outStride + r1 > out.length)) {
            throw new IndexOutOfBoundsException("matmul " + w.name + ": rows [" + r0 + "," + r1 + ") T=" + T);
        }
    }

    /** FP8 rows [r0, r1): {@code scales} holds each row's scale times 2^120 ({@link Fp8Matrix}). */
    static void fp8(WeightMatrix w, MemorySegment scales, float[] x, int T, float[] out, int outStride, int r0, int r1) {
        checkRange(w, x, T, out, outStride, r0, r1);
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = HeapSegments.of(x), os = HeapSegments.of(out);
        int step = rowsPerCall(w.cols, T, 4);
        try {
            for (int a = r0; a < r1; a += step) {
                FP8.invokeExact(w.kernelData, w.cols, scales, xs, T, os, outStride, a, Math.min(r1, a + step));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** AWQ rows [r0, r1), both multiples of 8 (or r1 = rows). */
    static void awq(WeightMatrix w, MemorySegment qzeros, MemorySegment scales, int groupSize,
                    float[] x, int T, float[] out, int outStride, int r0, int r1) {
        checkRange(w, x, T, out, outStride, r0, r1);
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = HeapSegments.of(x), os = HeapSegments.of(out);
        int step = rowsPerCall(w.cols, T, 64);
        try {
            for (int a = r0; a < r1; a += step) {
                AWQ.invokeExact(w.kernelData, qzeros, scales, w.rows, w.cols, groupSize, xs, T, os, outStride, a, Math.min(r1, a + step));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** GPTQ rows [r0, r1), both multiples of 8, with the trivial g_idx (input i in group i / groupSize). */
    static void gptq(WeightMatrix w, MemorySegment qzeros, MemorySegment scales, int groupSize, int zeroOffset,
                     float[] x, int T, float[] out, int outStride, int r0, int r1) {
        checkRange(w, x, T, out, outStride, r0, r1);
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = HeapSegments.of(x), os = HeapSegments.of(out);
        int step = rowsPerCall(w.cols, T, 32);
        try {
            for (int a = r0; a < r1; a += step) {
                GPTQ.invokeExact(w.kernelData, qzeros, scales, w.rows, w.cols, groupSize, zeroOffset, xs, T, os, outStride, a, Math.min(r1, a + step));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static void checkRange8(WeightMatrix w, Q8Activations.Format format, byte[] xq, int T, float[] out, int outStride,
                                    int r0, int r1) {
        long xRow = Q8Activations.rowBytes(format, w.cols);
        if (r0 < 0 || r1 > w.rows || r0 > r1 || T < 0 || xRow * T > xq.length
                || (T > 0 && r1 > r0 && (long) (T - 1) * outStride + r1 > out.length)) {
            throw new IndexOutOfBoundsException("matmul8 " + w.name + ": rows [" + r0 + "," + r1 + ") T=" + T);
        }
    }

    /**
     * AWQ rows [r0, r1) (multiples of 8) times integer activations in {@code format}:
     * {@link Q8Activations.Format#B32} (8-bit) or {@link Q8Activations.Format#I16} (16-bit).
     */
    static void awqQ(Q8Activations.Format format, WeightMatrix w, MemorySegment qzeros, MemorySegment scales, int groupSize,
                     byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        MethodHandle h = format == Q8Activations.Format.I16 ? AWQ16 : AWQ8;
        checkRange8(w, format, xq, T, out, outStride, r0, r1);
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = MemorySegment.ofArray(xq), os = HeapSegments.of(out);
        int step = rowsPerCall(w.cols, T, 64);
        try {
            for (int a = r0; a < r1; a += step) {
                h.invokeExact(w.kernelData, qzeros, scales, w.rows, w.cols, groupSize, xs, T, os, outStride, a, Math.min(r1, a + step));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** GPTQ rows [r0, r1) (multiples of 8, trivial g_idx) times integer activations in {@code format}, as {@link #awqQ}. */
    static void gptqQ(Q8Activations.Format format, WeightMatrix w, MemorySegment qzeros, MemorySegment scales, int groupSize,
                      int zeroOffset, byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        MethodHandle h = format == Q8Activations.Format.I16 ? GPTQ16 : GPTQ8;
        checkRange8(w, format, xq, T, out, outStride, r0, r1);
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = MemorySegment.ofArray(xq), os = HeapSegments.of(out);
        int step = rowsPerCall(w.cols, T, 32);
        try {
            for (int a = r0; a < r1; a += step) {
                h.invokeExact(w.kernelData, qzeros, scales, w.rows, w.cols, groupSize, zeroOffset, xs, T, os, outStride, a, Math.min(r1, a + step));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same bytes as {@code s}, outside its arena when native (see {@link WeightMatrix#kernelData}). */
    static MemorySegment unscoped(MemorySegment s) {
        return s.isNative() ? MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize()) : s;
    }
}
