package io.chorus.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.chorus.model.Architecture;
import io.chorus.model.LongRope;
import io.chorus.model.ModelConfig;
import io.chorus.model.RopeScaling;
import io.chorus.model.UnsupportedModelException;
import java.util.Map;

/**
 * A Hugging Face config.json read into Chorus's {@link ModelConfig}, plus what the GGUF converter
 * would have turned into tensors or metadata: the rope frequency divisors of a {@code rope_scaling}
 * entry (llama3, linear, dynamic; longrope's two sets and yarn go into the config) and the {@code quantization_config}.
 *
 * @param ropeFactors per rotated pair, the divisor of its frequency (GGUF's rope_freqs), or null
 */
record HfConfig(ModelConfig model, float[] ropeFactors, HfQuantization quantization) {

    private static final Map<String, Architecture> ARCHITECTURES = Map.of(
            "LlamaForCausalLM", Architecture.LLAMA,
            "MistralForCausalLM", Architecture.LLAMA,
            "Qwen2ForCausalLM", Architecture.QWEN2,
            "Qwen3ForCausalLM", Architecture.QWEN3,
            "Phi3ForCausalLM", Architecture.PHI3);

    /**
     * @param vocab   rows of the embedding tensor (the vocabulary the weights cover)
     * @param tied    whether the checkpoint has no lm_head tensor, so the embeddings serve as output
     */
    static HfConfig parse(JsonNode c, String file, String name, int vocab, boolean tied) {
        JsonNode archs = c.path("architectures");
        String archName = archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : c.path("model_type").asText("(none)");
        Architecture arch = ARCHITECTURES.get(archName);
        if (arch == null) {
            throw new UnsupportedModelException(file + ": architecture '" + archName + "' is not supported; supported: "
                    + String.join(", ", new java.util.TreeSet<>(ARCHITECTURES.keySet())));
        }
        String act = c.path("hidden_act").asText(c.path("hidden_activation").asText("silu"));
        if (!act.equals("silu")) throw new UnsupportedModelException(file + ": hidden_act '" + act + "' is not supported (supported: silu)");
        if (c.path("attention_bias").asBoolean(false) && arch == Architecture.LLAMA) {
            throw new UnsupportedModelException(file + ": attention_bias true (biases on q/k/v/o) is not supported for " + archName);
        }
        if (c.path("mlp_bias").asBoolean(false)) throw new UnsupportedModelException(file + ": mlp_bias true is not supported");

        int dim = required(c, "hidden_size", file);
        int heads = required(c, "num_attention_heads", file);
        int kvHeads = c.path("num_key_value_heads").asInt(heads);
        int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : dim / heads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new UnsupportedModelException(file + ": " + heads + " attention heads cannot share " + kvHeads + " KV heads");
        }
        int rotDim = (int) Math.round(headDim * c.path("partial_rotary_factor").asDouble(1.0));
        float theta = (float) c.path("rope_theta").asDouble(10000.0);
        int context = c.path("max_position_embeddings").asInt(2048);

        float[] factors = null;
        LongRope longRope = null;
        RopeScaling scaling = null;
        JsonNode rs = c.get("rope_scaling");
        if (rs != null && !rs.isNull()) {
            String type = rs.path("rope_type").asText(rs.path("type").asText("default"));
            double factor = rs.path("factor").asDouble(1.0);
            int half = rotDim / 2;
            switch (type) {
                case "default" -> {}
                case "llama3" -> factors = llama3Factors(rs, theta, rotDim, file);
                case "linear" -> {
                    // every frequency divided by the factor; the context it was trained for grows with it (as vLLM)
                    factors = new float[half];
                    java.util.Arrays.fill(factors, (float) factor);
                    context = (int) (context * factor);
                }
                case "dynamic" -> {
                    // vLLM's dynamic NTK: one base, chosen for the scaled context, for every position
                    double base = theta * Math.pow(factor * factor - (factor - 1), rotDim / (rotDim - 2.0));
                    factors = new float[half];
                    for (int i = 0; i < half; i++) factors[i] = (float) Math.pow(base / theta, 2.0 * i / rotDim);
                    context = (int) (context * factor);
                }
                case "longrope", "su" -> longRope = longRope(c, rs, rotDim, context, file);
                case "yarn" -> {
                    scaling = yarn(rs, context, file);
                    context = scaling.scaledContext(context);
                }
                default -> throw new UnsupportedModelException(file + ": rope_scaling type '" + type + "' is not supported (supported: llama3, linear, dynamic, longrope, yarn)");
            }
        }
        // Phi-3 and Mistral attend within sliding_window on every layer, as transformers and vLLM do (a query
        // sees that many positions, itself included; Phi-3's GGUF carries the same value). Qwen2's window
        // starts at max_window_layers, which is not modelled: there a window shorter than the context would
        // change attention beyond it, so serve only what is exact.
        int window = 0;
        boolean windowed = arch == Architecture.QWEN2 || arch == Architecture.QWEN3 ? c.path("use_sliding_window").asBoolean(false) : true;
        if (windowed && c.hasNonNull("sliding_window")) {
            JsonNode sw = c.get("sliding_window");
            if (!sw.canConvertToInt() || sw.asInt() < 0) throw new CheckpointException(file + ": sliding_window = " + sw + " must be a non-negative integer");
            if (arch == Architecture.PHI3 || arch == Architecture.LLAMA) window = sw.asInt();
            else if (sw.asInt() > 0) context = Math.min(context, sw.asInt());
        }
        if (c.has("tie_word_embeddings") && !c.get("tie_word_embeddings").asBoolean() && tied) {
            throw new CheckpointException(file + ": tie_word_embeddings is false but there is no lm_head.weight");
        }
        ModelConfig model = new ModelConfig(arch, name, dim, required(c, "num_hidden_layers", file), heads, kvHeads, headDim,
                required(c, "intermediate_size", file), vocab, context, (float) c.path("rms_norm_eps").asDouble(1e-6),
                theta, rotDim, tied, window, 0f, 0f,
                ModelConfig.queryScale(arch, dim, heads, headDim, required(c, "num_hidden_layers", file)), null, longRope, scaling);
        return new HfConfig(model, factors, HfQuantization.parse(c.get("quantization_config"), file));
    }

    /**
     * Phi-3's longrope ("su" in older configs): long_factor and short_factor, one positive divisor per
     * rotated pair; the original context from {@code original_max_position_embeddings} (top level, as
     * Phi-3 writes it, or inside rope_scaling); the attention factor from {@code attention_factor} when
     * given, else derived from max_position_embeddings / original as llama.cpp's converter does.
     */
    static LongRope longRope(JsonNode c, JsonNode rs, int rotDim, int context, String file) {
        float[] longF = factorList(rs, "long_factor", rotDim / 2, file), shortF = factorList(rs, "short_factor", rotDim / 2, file);
        JsonNode orig = c.hasNonNull("original_max_position_embeddings") ? c.get("original_max_position_embeddings")
                : rs.get("original_max_position_embeddings");
        if (orig == null || orig.isNull()) {
            throw new CheckpointException(file + ": original_max_position_embeddings is missing (rope_scaling longrope needs the original context)");
        }
        if (!orig.canConvertToInt() || orig.asInt() <= 0) {
            throw new CheckpointException(file + ": original_max_position_embeddings = " + orig + " must be a positive integer");
        }
        float attn;
        JsonNode af = rs.get("attention_factor");
        if (af != null && !af.isNull()) {
            if (!af.isNumber() || !(af.asDouble() > 0)) throw new CheckpointException(file + ": rope_scaling.attention_factor = " + af + " must be a positive number");
            attn = (float) af.asDouble();
        } else {
            attn = LongRope.derivedAttnFactor(context, orig.asInt());
        }
        return new LongRope(longF, shortF, orig.asInt(), attn);
    }

    /**
     * YaRN as llama.cpp's converter and rope_yarn take it: {@code factor} (at least 1), the original context
     * from {@code original_max_position_embeddings} (else max_position_embeddings), {@code beta_fast} and
     * {@code beta_slow} (32 and 1 unless given), cos and sin times {@code attention_factor} when given, else
     * 1 + 0.1 ln(factor). DeepSeek's {@code mscale} / {@code mscale_all_dim} variant is refused by name.
     */
    static RopeScaling yarn(JsonNode rs, int context, String file) {
        for (String k : new String[] {"mscale", "mscale_all_dim"}) {
            if (rs.hasNonNull(k)) throw new UnsupportedModelException(file + ": rope_scaling." + k + " (DeepSeek's yarn variant) is not supported");
        }
        double factor = positive(rs, "factor", Double.NaN, file);
        if (factor < 1) throw new CheckpointException(file + ": rope_scaling.factor = " + factor + " must be at least 1 for yarn");
        JsonNode o = rs.get("original_max_position_embeddings");
        if (o != null && !o.isNull() && (!o.canConvertToInt() || o.asInt() <= 0)) {
            throw new CheckpointException(file + ": rope_scaling.original_max_position_embeddings = " + o + " must be a positive integer");
        }
        int orig = o != null && !o.isNull() ? o.asInt() : context;
        float betaFast = (float) positive(rs, "beta_fast", RopeScaling.BETA_FAST, file), betaSlow = (float) positive(rs, "beta_slow", RopeScaling.BETA_SLOW, file);
        float mscale = rs.hasNonNull("attention_factor") ? (float) positive(rs, "attention_factor", 1, file) : RopeScaling.yarnMscale((float) factor);
        return new RopeScaling(true, (float) factor, orig, betaFast, betaSlow, mscale);
    }

    /** rope_scaling.key as a positive number, or {@code fallback} when absent (NaN: required). */
    private static double positive(JsonNode rs, String key, double fallback, String file) {
        JsonNode v = rs.get(key);
        if (v == null || v.isNull()) {
            if (Double.isNaN(fallback)) throw new CheckpointException(file + ": rope_scaling." + key + " is missing");
            return fallback;
        }
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
            throw new CheckpointException(file + ": rope_scaling." + key + " = " + v + " must be a positive number");
        }
        return v.asDouble();
    }

    private static float[] factorList(JsonNode rs, String key, int half, String file) {
        JsonNode a = rs.get(key);
        if (a == null || !a.isArray()) throw new CheckpointException(file + ": rope_scaling." + key + " is missing or not a list (longrope needs it)");
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            if (!a.get(i).isNumber()) throw new CheckpointException(file + ": rope_scaling." + key + " value " + i + " is not a number");
            f[i] = (float) a.get(i).asDouble();
        }
        String problem = LongRope.problem(f, half);
        if (problem != null) throw new CheckpointException(file + ": rope_scaling." + key + " " + problem);
        return f;
    }

    /** Llama 3.1's frequency-dependent scaling, as divisors: high frequencies kept, low ones divided by factor, a smooth ramp between. */
    static float[] llama3Factors(JsonNode rs, double theta, int rotDim, String file) {
        double factor = rs.path("factor").asDouble(8.0);
        double low = rs.path("low_freq_factor").asDouble(1.0);
        double high = rs.path("high_freq_factor").asDouble(4.0);
        double oldContext = rs.path("original_max_position_embeddings").asDouble(8192);
        if (!(high > low)) throw new UnsupportedModelException(file + ": rope_scaling llama3 needs high_freq_factor > low_freq_factor");
        double lowWavelen = oldContext / low, highWavelen = oldContext / high;
        float[] f = new float[rotDim / 2];
        for (int i = 0; i < f.length; i++) {
            double freq = Math.pow(theta, -2.0 * i / rotDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1f;
            else if (wavelen > lowWavelen) f[i] = (float) factor;
            else {
                double smooth = (oldContext / wavelen - low) / (high - low);
                f[i] = (float) (1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }

    private static int required(JsonNode c, String key, String file) {
        JsonNode v = c.get(key);
        if (v == null || !v.canConvertToInt() || v.asInt() <= 0) throw new CheckpointException(file + ": config.json has no positive " + key);
        return v.asInt();
    }
}
