package io.chorus.tensor;

import java.util.Locale;

/**
 * How the inputs of quantized matmuls are computed with. {@link #INT8} rounds each activation row to
 * 8 bits in blocks with scales and uses integer dot products (as llama.cpp); {@link #F32} keeps the
 * exact float path (weights decoded to float, float32 math). Float weights (F32, F16, BF16) always
 * take the float path.
 *
 * <p>The default ({@link #auto}) is INT8 where the native integer kernels are loaded and F32
 * otherwise: their Java twin computes the same bits but in scalar code, slower than the Vector API
 * float kernels, so a machine without the native library keeps its fastest path unless asked.
 */
public enum ActivationPrecision {
    F32, INT8;

    /** INT8 when the native 8-bit kernels are loaded, else F32. */
    public static ActivationPrecision auto() {
        return NativeInt8Kernels.available() ? INT8 : F32;
    }

    /** "f32", "int8" or "auto" (any case). */
    public static ActivationPrecision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> F32;
            case "int8", "i8", "q8" -> INT8;
            case "auto" -> auto();
            default -> throw new IllegalArgumentException("activation precision must be auto, int8 or f32, got '" + s + "'");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
