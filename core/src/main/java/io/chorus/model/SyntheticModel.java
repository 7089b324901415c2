package io.chorus.model;

import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.Quantizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes seeded random-weight GGUF models of real shapes (Qwen2.5-0.5B, Llama-3.2-1B...) and of
 * small test shapes, for tests, benchmarks and the built-in demo. Speed does not depend on weight
 * values, so a synthetic model of a real shape measures what the real one would.
 *
 * <p>Weights are uniform with the given standard deviation (cheaper to draw than normal, same
 * scale); norms are 1 + small noise. The vocabulary is SentencePiece-style: special tokens, 256
 * byte tokens (so any text encodes), common English pieces, then unused filler up to the shape's
 * vocabulary size. The chat template is ChatML.
 */
public final class SyntheticModel {

    /**
     * A model shape: the hyper-parameters of a real or test model. A mixture-of-experts shape has
     * {@code experts} > 0: each layer's FFN is {@code expertsUsed} of {@code experts} experts of
     * {@code expertFfn} (for llama, Mixtral-style, the same as {@code ffn}), plus a shared expert of
     * {@code sharedFfn} for qwen2moe.
     *
     * @param slidingWindow the window of the architecture's windowed layers (Gemma 2's even layers, every
     *                      phi3 layer), 0 for none (phi3 then has no {@code attention.sliding_window} key)
     * @param longRopeOriginal  with longrope (Phi-3.5's long-context rope: seeded long and short factors, attention
     *                      factor derived from context / this), the original context; 0 for none
     * @param ropeScaling   linear or yarn rope scaling written as {@code rope.scaling.*} keys, or null
     */
    public record Shape(String name, Architecture arch, int dim, int layers, int heads, int kvHeads, int headDim,
                        int ffn, int vocab, int context, float ropeTheta, float eps, boolean tied, boolean llama3Rope,
                        int slidingWindow, int experts, int expertsUsed, int expertFfn, int sharedFfn, int longRopeOriginal,
                        RopeScaling ropeScaling) {
        /** A dense shape without a sliding window. */
        public Shape(String name, Architecture arch, int dim, int layers, int heads, int kvHeads, int headDim,
                     int ffn, int vocab, int context, float ropeTheta, float eps, boolean tied, boolean llama3Rope) {
            this(name, arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, ropeTheta, eps, tied, llama3Rope, 0, 0, 0, 0, 0, 0, null);
        }

        /** A dense shape with a sliding window. */
        public Shape(String name, Architecture arch, int dim, int layers, int heads, int kvHeads, int headDim,
                     int ffn, int vocab, int context, float ropeTheta, float eps, boolean tied, boolean llama3Rope,
                     int slidingWindow) {
            this(name, arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, ropeTheta, eps, tied, llama3Rope, slidingWindow, 0, 0, 0, 0, 0, null);
        }

        /** A mixture-of-experts shape without a sliding window. */
        public Shape(String name, Architecture arch, int dim, int layers, int heads, int kvHeads, int headDim,
                     int ffn, int vocab, int context, float ropeTheta, float eps, boolean tied, boolean llama3Rope,
                     int experts, int expertsUsed, int expertFfn, int sharedFfn) {
            this(name, arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, ropeTheta, eps, tied, llama3Rope, 0, experts, expertsUsed, expertFfn, sharedFfn, 0, null);
        }

        /** A dense phi3 shape with longrope: a sliding window of the whole context (as Phi-3.5's 262144 covers its 131072), original context as given. */
        public static Shape longRope(String name, int dim, int layers, int heads, int kvHeads, int headDim, int ffn, int vocab,
                                     int context, float ropeTheta, int longRopeOriginal) {
            return new Shape(name, Architecture.PHI3, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, ropeTheta, 1e-5f, false, false,
                    context, 0, 0, 0, 0, longRopeOriginal, null);
        }

        /** This shape with linear or yarn rope scaling. */
        public Shape withRopeScaling(String name, RopeScaling scaling) {
            return new Shape(name, arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, ropeTheta, eps, tied, llama3Rope,
                    slidingWindow, experts, expertsUsed, expertFfn, sharedFfn, longRopeOriginal, scaling);
        }

        public boolean moe() { return experts > 0; }
    }

    public static final Map<String, Shape> SHAPES = new LinkedHashMap<>();

    static {
        add(new Shape("qwen2.5-0.5b", Architecture.QWEN2, 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e6f, 1e-6f, true, false));
        add(new Shape("llama-3.2-1b", Architecture.LLAMA, 2048, 16, 32, 8, 64, 8192, 128256, 131072, 5e5f, 1e-5f, true, true));
        add(new Shape("smollm2-135m", Architecture.LLAMA, 576, 30, 9, 3, 64, 1536, 49152, 8192, 1e5f, 1e-5f, true, false));
        add(new Shape("qwen3-0.6b", Architecture.QWEN3, 1024, 28, 16, 8, 128, 3072, 151936, 40960, 1e6f, 1e-6f, true, false));
        add(Shape.longRope("phi-3.5-mini", 3072, 32, 32, 32, 96, 8192, 32064, 131072, 1e4f, 4096));
        add(new Shape("gemma-2-2b", Architecture.GEMMA2, 2304, 26, 8, 4, 256, 9216, 256000, 8192, 1e4f, 1e-6f, true, false, 4096));
        add(new Shape("demo", Architecture.QWEN2, 256, 4, 8, 2, 32, 768, 2048, 4096, 1e6f, 1e-6f, true, false));
        // Test shapes: rows of 256 so every quant type (K-quants included) applies to every matrix.
        add(new Shape("tiny-llama", Architecture.LLAMA, 256, 2, 4, 2, 64, 512, 512, 1024, 1e4f, 1e-5f, false, true));
        add(new Shape("tiny-qwen2", Architecture.QWEN2, 256, 2, 4, 2, 64, 512, 512, 1024, 1e6f, 1e-6f, true, false));
        // Rope scaling as Qwen2.5's YaRN GGUFs carry it (factor 4 over the 256-token original context, so 1024 in
        // all) and as linear-scaled Llama 2 derivatives do (factor 4)
        add(new Shape("tiny-qwen2", Architecture.QWEN2, 256, 2, 4, 2, 64, 512, 512, 256, 1e6f, 1e-6f, true, false)
                .withRopeScaling("tiny-qwen2-yarn", new RopeScaling(true, 4f, 256, RopeScaling.BETA_FAST, RopeScaling.BETA_SLOW, RopeScaling.yarnMscale(4f))));
        add(new Shape("tiny-llama", Architecture.LLAMA, 256, 2, 4, 2, 64, 512, 512, 1024, 1e4f, 1e-5f, false, false)
                .withRopeScaling("tiny-llama-linear", new RopeScaling(false, 4f, 1024, RopeScaling.BETA_FAST, RopeScaling.BETA_SLOW, 1f)));
        add(new Shape("tiny-qwen3", Architecture.QWEN3, 256, 2, 4, 2, 128, 512, 512, 1024, 1e6f, 1e-6f, false, false));
        add(new Shape("tiny-phi3", Architecture.PHI3, 256, 2, 4, 4, 64, 512, 512, 1024, 1e4f, 1e-5f, false, false));
        // Phi-3-mini-4k's sliding window (2047 of 4096) at a small scale: every layer sees the last 11 positions,
        // across 4-token blocks and inside one 16-token block
        add(new Shape("tiny-phi3-window", Architecture.PHI3, 256, 2, 4, 4, 64, 512, 512, 1024, 1e4f, 1e-5f, false, false, 11));
        // Phi-3.5's long-context rope at a small scale: the long factors apply when a sequence may exceed 512 tokens
        add(Shape.longRope("tiny-phi3-longrope", 256, 2, 4, 4, 64, 512, 512, 2048, 1e4f, 512));
        // three layers, so two are windowed; a window of 6 spans block boundaries of 4-token blocks
        add(new Shape("tiny-gemma2", Architecture.GEMMA2, 256, 3, 4, 2, 64, 512, 512, 1024, 1e4f, 1e-6f, true, false, 6));
        // Mixture of experts. OLMoE-1B-7B's shape (64 experts, 8 used, expert FFN 1024, no GQA) as a Mixtral-style
        // llama, so llama.cpp b4748 runs the same file.
        add(new Shape("olmoe-1b-7b", Architecture.LLAMA, 2048, 16, 16, 16, 128, 1024, 50304, 4096, 1e4f, 1e-5f, false, false, 64, 8, 1024, 0));
        add(new Shape("tiny-mixtral", Architecture.LLAMA, 256, 2, 4, 2, 64, 256, 512, 1024, 1e4f, 1e-5f, false, false, 8, 2, 256, 0));
        add(new Shape("tiny-qwen2moe", Architecture.QWEN2MOE, 256, 2, 4, 2, 64, 512, 512, 1024, 1e6f, 1e-6f, false, false, 8, 2, 256, 512));
        add(new Shape("tiny-qwen3moe", Architecture.QWEN3MOE, 256, 2, 4, 2, 64, 512, 512, 1024, 1e6f, 1e-6f, false, false, 8, 2, 256, 0));
    }

    private static void add(Shape s) {
        SHAPES.put(s.name(), s);
    }

    /**
     * Weight type mixes, named as llama-quantize names them, with its per-tensor rules (llama.cpp
     * b4748 {@code llama_tensor_get_type}, without an importance matrix) and its fallback for
     * rows that the chosen type's blocks cannot tile. {@link #fileType} is llama.cpp's
     * {@code general.file_type} for the mix.
     */
    public enum Mix {
        F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16), Q8_0(7, GgmlType.Q8_0),
        Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1), Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1),
        IQ4_NL(25, GgmlType.IQ4_NL), Q2_K(10, GgmlType.Q2_K), Q3_K_S(11, GgmlType.Q3_K), Q3_K_M(12, GgmlType.Q3_K),
        Q3_K_L(13, GgmlType.Q3_K), Q4_K_S(14, GgmlType.Q4_K), Q4_K_M(15, GgmlType.Q4_K), Q5_K_M(17, GgmlType.Q5_K),
        Q6_K(18, GgmlType.Q6_K), IQ4_XS(30, GgmlType.IQ4_XS);

        public final int fileType;
        /** The type of every 2-D weight that no rule gives another one. */
        public final GgmlType base;

        Mix(int fileType, GgmlType base) {
            this.fileType = fileType;
            this.base = base;
        }

        public static Mix parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown type '" + s + "'; use one of " + java.util.Arrays.toString(values()));
            }
        }

        /**
         * Type of the 2-D weight {@code name} with {@code cols} inputs in layer {@code layer} (-1
         * outside the layers) of shape s. Float mixes store every weight in their type.
         */
        public GgmlType typeOf(String name, int layer, Shape s, int cols) {
            if (base.blockSize == 1) return base;
            GgmlType t = base;
            int n = s.layers();
            boolean output = name.equals("output.weight") || (s.tied() && name.equals("token_embd.weight"));
            if (output) {
                // the output matrix (or the embedding that doubles as it) gets 6 bits, or Q8_0 when
                // the mix's own blocks do not tile its rows
                t = cols % base.blockSize != 0 || base == GgmlType.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
            } else if (name.contains("attn_v.weight")) {
                t = switch (this) {
                    case Q2_K -> s.heads() / s.kvHeads() >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                    case Q3_K_M -> layer < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                    case Q3_K_L -> GgmlType.Q5_K;
                    case IQ4_NL, IQ4_XS -> s.heads() / s.kvHeads() >= 4 ? GgmlType.Q5_K : t;
                    case Q4_K_M, Q5_K_M -> moreBits(layer, n) ? GgmlType.Q6_K : t;
                    case Q4_K_S -> layer < 4 ? GgmlType.Q5_K : t;
                    default -> t;
                };
            } else if (name.contains("ffn_down")) {
                t = switch (this) {
                    case Q2_K -> GgmlType.Q3_K;
                    case Q3_K_M -> layer < n / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
                    case Q3_K_L -> GgmlType.Q5_K;
                    case Q4_K_M, Q5_K_M -> moreBits(layer, n) ? GgmlType.Q6_K : t;
                    case IQ4_NL, IQ4_XS, Q4_K_S -> layer < n / 8 ? GgmlType.Q5_K : t;
                    default -> t;
                };
            } else if (name.contains("attn_output.weight")) {
                t = switch (this) {
                    case Q2_K -> GgmlType.Q3_K;
                    case Q3_K_M -> GgmlType.Q4_K;
                    case Q3_K_L -> GgmlType.Q5_K;
                    default -> t;
                };
            } else if (name.contains("attn_qkv.weight")) {
                t = switch (this) {
                    case Q3_K_M, Q3_K_L -> GgmlType.Q4_K;
                    case Q4_K_M -> GgmlType.Q5_K;
                    case Q5_K_M -> GgmlType.Q6_K;
                    default -> t;
                };
            }
            return fallback(t, cols);
        }

        /** llama-quantize's "use more bits" layers: the first and last eighth and every third between. */
        static boolean moreBits(int layer, int layers) {
            return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
        }

        /**
         * The type llama-quantize stores a tensor in when t's blocks cannot tile rows of cols values:
         * a 32-value type of about as many bits, else F16.
         */
        static GgmlType fallback(GgmlType t, int cols) {
            if (cols % t.blockSize == 0) return t;
            GgmlType f = switch (t) {
                case Q2_K, Q3_K, IQ4_XS -> GgmlType.IQ4_NL;
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> GgmlType.F16;
            };
            return cols % f.blockSize == 0 ? f : GgmlType.F16;
        }
    }

    private SyntheticModel() {}

    public static Shape shape(String name) {
        Shape s = SHAPES.get(name);
        if (s == null) throw new IllegalArgumentException("unknown shape '" + name + "'; known: " + String.join(", ", SHAPES.keySet()));
        return s;
    }

    public static void write(Shape s, Mix mix, long seed, Path out) throws IOException {
        write(s, mix, seed, out, w -> {});
    }

    /** As {@link #write(Shape, Mix, long, Path)}, with {@code metadata} adding or replacing keys (a test's own chat templates). */
    public static void write(Shape s, Mix mix, long seed, Path out, java.util.function.Consumer<GgufWriter> metadata) throws IOException {
        GgufWriter w = build(s, mix, seed, new LinkedHashMap<>());
        metadata.accept(w);
        w.write(out);
    }

    /** The type each 2-D weight of shape s gets in the mix, in file order (nothing is generated). */
    public static Map<String, GgmlType> tensorTypes(Shape s, Mix mix) {
        Map<String, GgmlType> types = new LinkedHashMap<>();
        build(s, mix, 1, types);
        return types;
    }

    /** The model as a writer whose tensor data is generated when written; records each matrix's type. */
    private static GgufWriter build(Shape s, Mix mix, long seed, Map<String, GgmlType> types) {
        GgufWriter w = new GgufWriter();
        String a = s.arch().ggufName;
        w.putString("general.architecture", a);
        // llama.cpp b4748 looks for an <|endoftext|> token in a model whose name holds "phi3" or "phi-3" (and fails
        // to load without one); the synthetic vocabulary has none, so the name leaves the digit out
        w.putString("general.name", "chorus-synthetic-" + s.name().replace("phi-3", "phi").replace("phi3", "phi"));
        w.putUInt32("general.file_type", mix.fileType);
        w.putUInt32(a + ".context_length", s.context());
        w.putUInt32(a + ".embedding_length", s.dim());
        w.putUInt32(a + ".block_count", s.layers());
        w.putUInt32(a + ".feed_forward_length", s.ffn());
        w.putUInt32(a + ".attention.head_count", s.heads());
        w.putUInt32(a + ".attention.head_count_kv", s.kvHeads());
        w.putUInt32(a + ".attention.key_length", s.headDim());
        w.putUInt32(a + ".attention.value_length", s.headDim());
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", s.eps());
        w.putFloat32(a + ".rope.freq_base", s.ropeTheta());
        w.putUInt32(a + ".rope.dimension_count", s.headDim());
        if (s.arch() == Architecture.PHI3 && s.slidingWindow() > 0) w.putUInt32(a + ".attention.sliding_window", s.slidingWindow());
        if (s.longRopeOriginal() > 0) {
            w.putUInt32(a + ".rope.scaling.original_context_length", s.longRopeOriginal());
            w.putFloat32(a + ".rope.scaling.attn_factor", LongRope.derivedAttnFactor(s.context(), s.longRopeOriginal()));
        }
        if (s.ropeScaling() != null) { // as llama.cpp's converter writes them
            RopeScaling r = s.ropeScaling();
            w.putString(a + ".rope.scaling.type", r.yarn() ? "yarn" : "linear");
            w.putFloat32(a + ".rope.scaling.factor", r.factor());
            if (r.yarn()) w.putUInt32(a + ".rope.scaling.original_context_length", r.originalContext());
            float plain = r.yarn() ? RopeScaling.yarnMscale(r.factor()) : 1f;
            if (r.mscale() != plain) w.putFloat32(a + ".rope.scaling.attn_factor", r.mscale() / plain);
        }
        if (s.arch() == Architecture.GEMMA2) {
            w.putUInt32(a + ".attention.sliding_window", s.slidingWindow());
            w.putFloat32(a + ".attn_logit_softcapping", 50f);
            w.putFloat32(a + ".final_logit_softcapping", 30f);
        }
        if (s.moe()) {
            w.putUInt32(a + ".expert_count", s.experts());
            w.putUInt32(a + ".expert_used_count", s.expertsUsed());
            if (s.arch() != Architecture.LLAMA) w.putUInt32(a + ".expert_feed_forward_length", s.expertFfn());
            if (s.sharedFfn() > 0) w.putUInt32(a + ".expert_shared_feed_forward_length", s.sharedFfn());
        }
        writeVocabulary(w, s.vocab());

        int qDim = s.heads() * s.headDim(), kvDim = s.kvHeads() * s.headDim();
        float std = 0.02f;
        long[] counter = {seed};
        matrix(w, types, mix, s, "token_embd.weight", -1, s.vocab(), s.dim(), 0.25f * (s.dim() >= 512 ? 0.1f : 1f), counter);
        if (!s.tied()) matrix(w, types, mix, s, "output.weight", -1, s.vocab(), s.dim(), 0.05f, counter);
        vector(w, "output_norm.weight", s.dim(), 1f, 0.1f, counter);
        if (s.llama3Rope()) w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {s.headDim() / 2}, fill(llama3Factors(s)));
        if (s.longRopeOriginal() > 0) {
            float[][] f = longRopeFactors(s.headDim() / 2, counter[0]++);
            w.addTensor(LongRope.LONG_TENSOR, GgmlType.F32, new long[] {f[0].length}, fill(f[0]));
            w.addTensor(LongRope.SHORT_TENSOR, GgmlType.F32, new long[] {f[1].length}, fill(f[1]));
        }
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            vector(w, p + "attn_norm.weight", s.dim(), 1f, 0.1f, counter);
            vector(w, p + "ffn_norm.weight", s.dim(), 1f, 0.1f, counter);
            if (s.arch().fusedProjections) {
                matrix(w, types, mix, s, p + "attn_qkv.weight", l, qDim + 2 * kvDim, s.dim(), std, counter);
                matrix(w, types, mix, s, p + "ffn_up.weight", l, 2 * s.ffn(), s.dim(), std, counter);
            } else {
                matrix(w, types, mix, s, p + "attn_q.weight", l, qDim, s.dim(), std, counter);
                matrix(w, types, mix, s, p + "attn_k.weight", l, kvDim, s.dim(), std, counter);
                matrix(w, types, mix, s, p + "attn_v.weight", l, kvDim, s.dim(), std, counter);
            }
            if (s.moe()) {
                experts(w, types, mix, s, p, l, std, counter);
            } else if (!s.arch().fusedProjections) {
                matrix(w, types, mix, s, p + "ffn_gate.weight", l, s.ffn(), s.dim(), std, counter);
                matrix(w, types, mix, s, p + "ffn_up.weight", l, s.ffn(), s.dim(), std, counter);
            }
            if (s.arch().qkvBias) {
                vector(w, p + "attn_q.bias", qDim, 0f, 0.1f, counter);
                vector(w, p + "attn_k.bias", kvDim, 0f, 0.1f, counter);
                vector(w, p + "attn_v.bias", kvDim, 0f, 0.1f, counter);
            }
            if (s.arch().qkNorm) {
                vector(w, p + "attn_q_norm.weight", s.headDim(), 1f, 0.1f, counter);
                vector(w, p + "attn_k_norm.weight", s.headDim(), 1f, 0.1f, counter);
            }
            matrix(w, types, mix, s, p + "attn_output.weight", l, s.dim(), qDim, std, counter);
            if (!s.moe()) matrix(w, types, mix, s, p + "ffn_down.weight", l, s.dim(), s.ffn(), std, counter);
            if (s.arch().postNorms()) {
                vector(w, p + "post_attention_norm.weight", s.dim(), 1f, 0.1f, counter);
                vector(w, p + "post_ffw_norm.weight", s.dim(), 1f, 0.1f, counter);
            }
        }
        return w;
    }

    /**
     * One layer's experts: the router {@code ffn_gate_inp} (F32, as llama-quantize leaves it), the 3-D
     * {@code ffn_{gate,up,down}_exps} in the mix's types, and qwen2moe's shared expert with its gate vector.
     */
    private static void experts(GgufWriter w, Map<String, GgmlType> types, Mix mix, Shape s, String p, int layer, float std, long[] seed) {
        int dim = s.dim(), ne = s.experts(), ff = s.expertFfn();
        tensor(w, types, GgmlType.F32, p + "ffn_gate_inp.weight", new long[] {dim, ne}, ne, dim, std, seed);
        tensor(w, types, mix.typeOf(p + "ffn_gate_exps.weight", layer, s, dim), p + "ffn_gate_exps.weight", new long[] {dim, ff, ne}, ne * ff, dim, std, seed);
        tensor(w, types, mix.typeOf(p + "ffn_up_exps.weight", layer, s, dim), p + "ffn_up_exps.weight", new long[] {dim, ff, ne}, ne * ff, dim, std, seed);
        tensor(w, types, mix.typeOf(p + "ffn_down_exps.weight", layer, s, ff), p + "ffn_down_exps.weight", new long[] {ff, dim, ne}, ne * dim, ff, std, seed);
        if (s.sharedFfn() > 0) {
            vector(w, p + "ffn_gate_inp_shexp.weight", dim, 0f, 0.1f, seed);
            matrix(w, types, mix, s, p + "ffn_gate_shexp.weight", layer, s.sharedFfn(), dim, std, seed);
            matrix(w, types, mix, s, p + "ffn_up_shexp.weight", layer, s.sharedFfn(), dim, std, seed);
            matrix(w, types, mix, s, p + "ffn_down_shexp.weight", layer, dim, s.sharedFfn(), std, seed);
        }
    }

    private static void matrix(GgufWriter w, Map<String, GgmlType> types, Mix mix, Shape s, String name, int layer,
                               int rows, int cols, float std, long[] seed) {
        tensor(w, types, mix.typeOf(name, layer, s, cols), name, new long[] {cols, rows}, rows, cols, std, seed);
    }

    /** A tensor of type t and GGUF dims whose data is {@code rows} rows of {@code cols} random values. */
    private static void tensor(GgufWriter w, Map<String, GgmlType> types, GgmlType t, String name, long[] dims,
                               int rows, int cols, float std, long[] seed) {
        types.put(name, t);
        long rowSeed = seed[0]++;
        float a = (float) (std * Math.sqrt(3)); // uniform on [-a, a] has this std
        w.addTensor(name, t, dims, dst -> {
            SplittableRandom rnd = new SplittableRandom(rowSeed);
            float[] row = new float[cols];
            long rowBytes = t.bytesFor(cols);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) row[c] = (float) ((rnd.nextDouble() * 2 - 1) * a);
                byte[] q = Quantizer.quantize(t, row);
                MemorySegment.copy(q, 0, dst, ValueLayout.JAVA_BYTE, r * rowBytes, q.length);
            }
        });
    }

    private static void vector(GgufWriter w, String name, int n, float mean, float spread, long[] seed) {
        SplittableRandom rnd = new SplittableRandom(seed[0]++);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = mean + (float) ((rnd.nextDouble() * 2 - 1) * spread);
        w.addTensor(name, GgmlType.F32, new long[] {n}, fill(v));
    }

    private static GgufWriter.TensorData fill(float[] v) {
        return dst -> MemorySegment.copy(v, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
    }

    /**
     * Seeded longrope factors shaped like Phi-3.5's: both grow from the fast pairs to the slow ones, the
     * short set from about 1.05 to 2, the long one from about 1.1 to 40, with 20% noise; none is 1, so
     * every pair's rotation shows which set is used. Returns {long, short}.
     */
    static float[][] longRopeFactors(int half, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] lf = new float[half], sf = new float[half];
        for (int i = 0; i < half; i++) {
            double x = (double) i / (half - 1);
            lf[i] = (float) ((1.1 + 39 * x * x) * (0.9 + 0.2 * rnd.nextDouble()));
            sf[i] = (float) ((1.05 + 0.95 * x) * (0.9 + 0.2 * rnd.nextDouble()));
        }
        return new float[][] {lf, sf};
    }

    /** Llama 3 rope frequency factors (factor 32, low 1, high 4, original context 8192). */
    static float[] llama3Factors(Shape s) {
        double factor = 32, low = 1, high = 4, old = 8192;
        double lowWavelen = old / low, highWavelen = old / high;
        float[] out = new float[s.headDim() / 2];
        for (int i = 0; i < out.length; i++) {
            double freq = Math.pow(s.ropeTheta(), -2.0 * i / s.headDim());
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) out[i] = 1f;
            else if (wavelen > lowWavelen) out[i] = (float) factor;
            else {
                double smooth = (old / wavelen - low) / (high - low);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    private static final String[] WORDS = ("the of and to in is was for that on with as by at from it his an "
            + "he are be this which or her had not but she they have one all were their there been has when who "
            + "will more no if out so said what up its about into than them can only other new some could time "
            + "these two may then do first any my now such like our over man me even most made after also did "
            + "many before must through back years where much your way well down should because each just those "
            + "people how too little state good very make world still own see men work long get here between both "
            + "life being under never day same another know while last might us great old year off come since "
            + "against go came right used take three hello cat dog story once upon named liked play sun friend").split(" ");

    static final String CHATML = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    /** 0 -> "a", 25 -> "z", 26 -> "aa", ...: the k-th word of letters. */
    private static String letters(int k) {
        StringBuilder sb = new StringBuilder();
        for (k++; k > 0; k = (k - 1) / 26) sb.append((char) ('a' + (k - 1) % 26));
        return sb.reverse().toString();
    }

    /** A SentencePiece-style vocabulary of exactly {@code size} tokens (see the class comment). */
    static void writeVocabulary(GgufWriter w, int size) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        tokens.add("<unk>"); types.add(2);
        tokens.add("<s>"); types.add(3);
        tokens.add("</s>"); types.add(3);
        tokens.add("<|im_start|>"); types.add(3);
        tokens.add("<|im_end|>"); types.add(3);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        for (char ch : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?;:'\"-()".toCharArray()) {
            tokens.add(String.valueOf(ch)); types.add(1);
        }
        tokens.add("▁"); types.add(1);
        for (String word : WORDS) {
            if (tokens.size() >= size) break;
            if (!tokens.contains("▁" + word)) { tokens.add("▁" + word); types.add(1); } // a few hundred: a scan is fine
        }
        if (tokens.size() > size) throw new IllegalArgumentException("vocabulary of " + size + " is too small");
        int fillerStart = tokens.size();
        java.util.Set<String> taken = new java.util.HashSet<>(tokens);
        // Fill up with word-like pieces (▁a, ▁b, ..., ▁aa, ...) rather than unused tokens, so that what
        // a random model generates decodes to visible text, as a real vocabulary's would.
        for (int i = tokens.size(), k = 0; i < size; i++, k++) {
            String piece;
            do {
                piece = "▁" + letters(k);
            } while (!taken.add(piece) && ++k > 0);
            tokens.add(piece);
            types.add(1);
        }
        float[] scores = new float[size];
        int[] typeArr = new int[size];
        for (int i = 0; i < size; i++) {
            typeArr[i] = types.get(i);
            // Longer pieces score higher so SentencePiece merging prefers whole words.
            scores[i] = types.get(i) == 1 ? -1000f + tokens.get(i).length() * 10f - i * 1e-3f : 0f;
            if (i >= fillerStart) scores[i] = -5000f - (i - fillerStart) * 1e-3f; // fillers only when nothing else fits
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putStrings("tokenizer.ggml.tokens", tokens.toArray(String[]::new));
        w.putFloats("tokenizer.ggml.scores", scores);
        w.putInts("tokenizer.ggml.token_type", typeArr);
        w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
        w.putUInt32("tokenizer.ggml.bos_token_id", 1);
        w.putUInt32("tokenizer.ggml.eos_token_id", 2);
        w.putUInt32("tokenizer.ggml.eot_token_id", 4);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putBool("tokenizer.ggml.add_space_prefix", true);
        w.putString("tokenizer.chat_template", CHATML);
    }
}
