package io.chorus.tensor;

import java.util.Locale;

/**
 * How the inputs of quantized matmuls are computed with. {@link #INT8} (the default, as in
 * llama.cpp) rounds each activation row to 8 bits in blocks with scales and uses integer dot
 * products; {@link #F32} keeps the exact float path (weights decoded to float, float32 math).
 * Float weights (F32, F16, BF16) always take the float path.
 */
public enum ActivationPrecision {
    F32, INT8;

    public static final ActivationPrecision DEFAULT = INT8;

    /** "f32" or "int8" (any case). */
    public static ActivationPrecision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> F32;
            case "int8", "i8", "q8" -> INT8;
            default -> throw new IllegalArgumentException("activation precision must be f32 or int8, got '" + s + "'");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
