package io.chorus.tensor;

/**
 * Tensor element types of GGUF/GGML with their exact block geometry: {@code blockSize} elements are
 * stored in {@code typeSize} bytes. Only the types marked supported can be computed with; the rest
 * are known by name so an error can say what a file holds.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),     // half d; u8 qs[16]
    Q4_1(3, 32, 20, true),     // half d, m; u8 qs[16]
    Q5_0(6, 32, 22, true),     // half d; u8 qh[4]; u8 qs[16]
    Q5_1(7, 32, 24, true),     // half d, m; u8 qh[4]; u8 qs[16]
    Q8_0(8, 32, 34, true),     // half d; i8 qs[32]
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, true),   // u8 scales[16] (4-bit scale | 4-bit min << 4); u8 qs[64]; half d, dmin
    Q3_K(11, 256, 110, true),  // u8 hmask[32]; u8 qs[64]; u8 scales[12] (16 x 6-bit); half d
    Q4_K(12, 256, 144, true),  // half d, dmin; u8 scales[12]; u8 qs[128]
    Q5_K(13, 256, 176, true),  // half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
    Q6_K(14, 256, 210, true),  // u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, true),  // half d; u8 qs[16] (indices into a fixed table)
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, true), // half d; u16 scales_h; u8 scales_l[4]; u8 qs[128] (non-linear table)
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    // Hugging Face weight formats, read from safetensors with their scales in separate tensors. They are
    // not GGUF types: negative ids keep them out of GGUF files, and WeightMatrix.of does not build them.
    F8_E4M3(-1, 1, 1, false),  // float8 e4m3fn, [out][in], times a per-tensor or per-channel scale
    AWQ_4(-2, 8, 4, false),    // AutoAWQ GEMM: i32 qweight [in][out / 8], interleaved nibbles
    GPTQ_4(-3, 8, 4, false);   // AutoGPTQ: i32 qweight [in / 8][out]

    public final int id;
    public final int blockSize;
    public final int typeSize;
    public final boolean supported;

    GgmlType(int id, int blockSize, int typeSize, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.supported = supported;
    }

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) if (t.id >= 0) BY_ID[t.id] = t;
    }

    /** The type with this GGUF id, or null when the id is not a known GGML type. */
    public static GgmlType fromId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** The names of the types Chorus computes with, comma-separated, for error messages and help. */
    public static String supportedNames() {
        StringBuilder ok = new StringBuilder();
        for (GgmlType t : values()) {
            if (t.supported) ok.append(ok.isEmpty() ? "" : ", ").append(t.name());
        }
        return ok.toString();
    }

    /** Bytes taken by {@code elements} values; elements must be a multiple of the block size. */
    public long bytesFor(long elements) {
        return elements / blockSize * typeSize;
    }
}
