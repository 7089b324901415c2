package io.chorus.tensor;

import java.util.Locale;

/**
 * How the inputs of quantized matmuls are computed with. {@link #INT8} rounds each activation row to
 * 8 bits in blocks with scales and uses integer dot products for every quantized type (as llama.cpp);
 * {@link #F32} keeps the exact float path (weights decoded to float, float32 math). Float weights
 * (F32, F16, BF16) always take the float path.
 *
 * <p>{@link #AUTO}, the default, takes the integer path per weight type where it is the faster one
 * ({@link WeightMatrix#prefersInt8}): every quantized type but IQ4_XS (the 32-value block types and the
 * K-quants) when the native integer kernels are loaded, as they were measured faster than the float
 * kernels on AVX2 (Llama-3.2-1B Q4_K_M: pp512 1.38x, tg128 2.0x the float path). Without them the float path runs: the Java twin of the
 * integer kernels is exact but scalar, and the Vector API has no byte dot product to beat the Java
 * float kernels with. AWQ and GPTQ take 16-bit integer activations ({@link Q8Activations.Format#I16}:
 * float-like logits, where their 8-bit path moves them by ~0.4) when the native 16-bit kernel is
 * loaded and the shape allows; INT8 gives them the 8-bit kernels. The choice is per type, never per
 * batch, so results stay batch-invariant.
 */
public enum ActivationPrecision {
    F32, INT8, AUTO;

    /** The default. */
    public static ActivationPrecision auto() {
        return AUTO;
    }

    /** "f32", "int8" or "auto" (any case). */
    public static ActivationPrecision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> F32;
            case "int8", "i8", "q8" -> INT8;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("activation precision must be auto, int8 or f32, got '" + s + "'");
        };
    }

    /** The integer activation layout a matmul with weights {@code w} takes under this setting, or null for floats. */
    public Q8Activations.Format formatFor(WeightMatrix w) {
        return switch (this) {
            case F32 -> null;
            case INT8 -> w.int8Format();
            case AUTO -> w.autoFormat();
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
