package io.chorus.tensor;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The native 8-bit activation kernels (core/src/main/c/chorus_int8.c, in the same library as
 * {@link NativeKernels}), called through FFM. A type whose symbol the loaded library lacks (an
 * older build), or every type when the native kernels are off, takes {@link Int8Kernels}, which
 * computes the same bits.
 */
final class NativeInt8Kernels {
    private NativeInt8Kernels() {}

    private static final MethodHandle Q8_0, Q4_0, Q5_0, IQ4_NL, Q4_1, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_XS, Q2_K, Q3_K;

    static {
        SymbolLookup lib = NativeKernels.library();
        Q8_0 = find(lib, "q8_0");
        Q4_0 = find(lib, "q4_0");
        Q5_0 = find(lib, "q5_0");
        IQ4_NL = find(lib, "iq4_nl");
        Q4_1 = find(lib, "q4_1");
        Q5_1 = find(lib, "q5_1");
        Q4_K = find(lib, "q4_k");
        Q5_K = find(lib, "q5_k");
        Q6_K = find(lib, "q6_k");
        IQ4_XS = find(lib, "iq4_xs");
        Q2_K = find(lib, "q2_k");
        Q3_K = find(lib, "q3_k");
    }

    private static MethodHandle find(SymbolLookup lib, String name) {
        if (lib == null) return null;
        FunctionDescriptor fd = FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
        // critical: heap arrays are passed in place; NativeKernels.rowsPerCall bounds each call's work
        return lib.find("chorus_matmul8_" + name)
                .map(s -> Linker.nativeLinker().downcallHandle(s, fd, Linker.Option.critical(true)))
                .orElse(null);
    }

    private static MethodHandle handle(GgmlType type) {
        return switch (type) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q5_0 -> Q5_0;
            case IQ4_NL -> IQ4_NL;
            case Q4_1 -> Q4_1;
            case Q5_1 -> Q5_1;
            case Q4_K -> Q4_K;
            case Q5_K -> Q5_K;
            case Q6_K -> Q6_K;
            case IQ4_XS -> IQ4_XS;
            case Q2_K -> Q2_K;
            case Q3_K -> Q3_K;
            default -> null;
        };
    }

    /** True when the native 8-bit kernels are loaded. */
    static boolean available() {
        return Q8_0 != null;
    }

    /** True when {@code type} has a loaded native 8-bit kernel. */
    static boolean supports(GgmlType type) {
        return handle(type) != null;
    }

    /** Native {@link Int8Kernels#matmul}; requires {@link #supports}. */
    static void matmul(WeightMatrix w, byte[] xq, int T, float[] out, int outStride, int r0, int r1) {
        long xRow = Q8Activations.rowBytes(Int8Kernels.format(w.type()), w.cols);
        if (r0 < 0 || r1 > w.rows || r0 > r1 || T < 0 || xRow * T > xq.length
                || (T > 0 && r1 > r0 && (long) (T - 1) * outStride + r1 > out.length)) {
            throw new IndexOutOfBoundsException("matmul8 " + w.name + ": rows [" + r0 + "," + r1 + ") T=" + T);
        }
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = MemorySegment.ofArray(xq), os = MemorySegment.ofArray(out);
        int step = NativeKernels.rowsPerCall(w.cols, T);
        for (int a = r0; a < r1; a += step) call(w, xs, T, os, outStride, a, Math.min(r1, a + step));
    }

    private static void call(WeightMatrix w, MemorySegment xs, int T, MemorySegment os, int outStride, int r0, int r1) {
        MemorySegment ws = w.kernelData;
        long rb = w.rowBytes();
        int cols = w.cols;
        try {
            // One call site per handle so each invokeExact sees a constant handle.
            switch (w.type()) {
                case Q8_0 -> Q8_0.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q4_0 -> Q4_0.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q5_0 -> Q5_0.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case IQ4_NL -> IQ4_NL.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q4_1 -> Q4_1.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q5_1 -> Q5_1.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q4_K -> Q4_K.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q5_K -> Q5_K.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q6_K -> Q6_K.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case IQ4_XS -> IQ4_XS.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q2_K -> Q2_K.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                case Q3_K -> Q3_K.invokeExact(ws, rb, cols, xs, T, os, outStride, r0, r1);
                default -> throw new IllegalArgumentException("no native 8-bit kernel for " + w.type());
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
