package io.chorus.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The {@code quantization_config} of a Hugging Face config.json, for the methods vLLM reads that
 * Chorus runs: FP8 (AutoFP8 / llm-compressor style {@code quant_method: fp8}), AWQ (GEMM packing) and
 * GPTQ (4-bit). Anything else is an error that names the setting.
 */
public sealed interface HfQuantization {

    /** FP8 e4m3 weights with a per-tensor or per-channel {@code weight_scale}; activations stay float. */
    record Fp8() implements HfQuantization {}

    /** AutoAWQ GEMM: 4-bit, zero points, scales per {@code groupSize} inputs. */
    record Awq(int groupSize) implements HfQuantization {}

    /**
     * AutoGPTQ 4-bit. {@code zeroOffset} is added to each stored zero: 1 for the original ("gptq")
     * checkpoint format, which stores zero - 1, and 0 for "gptq_v2".
     */
    record Gptq(int groupSize, boolean sym, boolean descAct, int zeroOffset) implements HfQuantization {}

    /** Reads config.json's quantization_config; null when there is none. */
    static HfQuantization parse(JsonNode q, String file) {
        if (q == null || q.isNull()) return null;
        String method = q.path("quant_method").asText("");
        switch (method) {
            case "fp8" -> {
                if (q.has("weight_block_size") && !q.get("weight_block_size").isNull()) {
                    throw unsupported(file, "fp8 with weight_block_size " + q.get("weight_block_size") + " (block-wise scales)");
                }
                String act = q.path("activation_scheme").asText("dynamic");
                if (!act.equals("dynamic") && !act.equals("static")) throw unsupported(file, "fp8 activation_scheme '" + act + "'");
                return new Fp8();
            }
            case "awq" -> {
                bits(q, file, "awq");
                String version = q.path("version").asText("gemm").toLowerCase(java.util.Locale.ROOT);
                if (!version.equals("gemm")) throw unsupported(file, "awq version '" + version + "' (supported: gemm)");
                if (!q.path("zero_point").asBoolean(true)) throw unsupported(file, "awq without zero_point");
                return new Awq(groupSize(q, file, "awq"));
            }
            case "gptq" -> {
                bits(q, file, "gptq");
                String format = q.path("checkpoint_format").asText("gptq");
                int offset = switch (format) {
                    case "gptq" -> 1;
                    case "gptq_v2" -> 0;
                    default -> throw unsupported(file, "gptq checkpoint_format '" + format + "' (supported: gptq, gptq_v2)");
                };
                if (q.path("lm_head").asBoolean(false)) throw unsupported(file, "gptq with a quantized lm_head");
                return new Gptq(groupSize(q, file, "gptq"), q.path("sym").asBoolean(true), q.path("desc_act").asBoolean(false), offset);
            }
            default -> throw unsupported(file, "quant_method '" + method + "' (supported: fp8, awq, gptq)");
        }
    }

    private static void bits(JsonNode q, String file, String method) {
        int bits = q.path("bits").asInt(q.path("w_bit").asInt(-1));
        if (bits != 4) throw unsupported(file, method + " with bits " + bits + " (supported: 4)");
    }

    private static int groupSize(JsonNode q, String file, String method) {
        int g = q.path("group_size").asInt(q.path("q_group_size").asInt(0));
        if (g == -1 && method.equals("gptq")) return Integer.MAX_VALUE; // one group per output row
        if (g <= 0 || g % 8 != 0) throw unsupported(file, method + " group_size " + g + " (supported: a positive multiple of 8; -1 is not)");
        return g;
    }

    private static CheckpointException unsupported(String file, String what) {
        return new CheckpointException(file + ": quantization_config " + what + " is not supported");
    }
}
