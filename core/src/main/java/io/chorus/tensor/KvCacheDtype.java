package io.chorus.tensor;

/** Element type of the paged KV cache ({@code --kv-cache-dtype}). */
public enum KvCacheDtype {
    F32(4), F16(2);

    public final int bytes;

    KvCacheDtype(int bytes) {
        this.bytes = bytes;
    }

    public static KvCacheDtype parse(String s) {
        return switch (s.toLowerCase()) {
            case "f32", "float32", "fp32" -> F32;
            case "f16", "float16", "fp16", "half", "auto" -> F16;
            default -> throw new IllegalArgumentException("unknown KV cache dtype '" + s + "' (use f32 or f16)");
        };
    }
}
