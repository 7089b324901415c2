package io.chorus.model.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.Architecture;
import io.chorus.model.LongRope;
import io.chorus.model.ModelConfig;
import io.chorus.model.RopeScaling;
import io.chorus.model.UnsupportedModelException;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF model as a Hugging Face folder (config.json and safetensors shards with an index) in
 * BF16, or with its linear layers quantized the way the usual tools write them for vLLM: FP8 per
 * tensor (AutoFP8), AWQ GEMM (AutoAWQ's round-to-nearest with zero points, group 64 or as given) or
 * GPTQ (symmetric round-to-nearest, no error feedback). For benchmarks and tests: the same network in
 * each format. Llama's q/k rows are put back into Hugging Face's layout (the inverse of the
 * converter's permutation), and longrope's factors go back into config.json's {@code rope_scaling}. Embeddings, norms and biases are written BF16 (F16 for AWQ/GPTQ, as those tools do),
 * or F32 where the source holds them in F32.
 */
public final class HfFolderWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String[] LINEAR = {"attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

    public enum Format { BF16, FP8, AWQ, GPTQ }

    private HfFolderWriter() {}

    private record Out(String name, String dtype, long[] shape, SafetensorsWriter.Data data, long bytes) {}

    /** Writes {@code gguf} into {@code dir} in the given format, in shards of at most {@code shardBytes} (one file when it all fits). */
    public static void write(Path gguf, Path dir, Format format, int groupSize, long shardBytes) throws IOException {
        Files.createDirectories(dir);
        try (GgufCheckpoint src = GgufCheckpoint.open(gguf)) {
            ModelConfig c = src.config();
            Architecture arch = c.arch();
            if (src.tensor("rope_freqs.weight") != null) {
                throw new UnsupportedModelException(gguf + ": rope_freqs.weight (rope frequency factors) has no rope_scaling entry this writer can derive");
            }
            List<Out> outs = new ArrayList<>();
            String small = format == Format.AWQ || format == Format.GPTQ ? "F16" : "BF16";
            for (String role : roles(src, c)) {
                TensorData t = src.tensor(role);
                if (t == null) continue;
                String hf = HfNames.of(role, arch);
                int rows = t.dims().length == 1 ? 1 : (int) t.dims()[1], cols = (int) t.dims()[0];
                boolean linear = isLinear(role);
                int heads = arch == Architecture.LLAMA && role.endsWith("attn_q.weight") ? c.heads()
                        : arch == Architecture.LLAMA && role.endsWith("attn_k.weight") ? c.kvHeads() : 0;
                float[] w = floats(t, rows, cols, heads);
                long[] shape = t.dims().length == 1 ? new long[] {cols} : new long[] {rows, cols};
                if (!linear && t.type() == GgmlType.F32) { // norms and biases keep float32 where the source has it
                    outs.add(new Out(hf, "F32", shape, dst -> MemorySegment.copy(w, 0, dst, F32, 0, w.length), 4L * w.length));
                    continue;
                }
                if (!linear || format == Format.BF16) {
                    outs.add(halves(hf, linear ? "BF16" : small, shape, w));
                    continue;
                }
                String module = hf.substring(0, hf.length() - ".weight".length());
                switch (format) {
                    case FP8 -> fp8(outs, module, w, rows, cols);
                    case AWQ -> awq(outs, module, w, rows, cols, groupSize);
                    case GPTQ -> gptq(outs, module, w, rows, cols, groupSize);
                    default -> throw new IllegalStateException();
                }
            }
            writeShards(dir, outs, shardBytes);
            JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config(c, format, groupSize));
        }
    }

    private static List<String> roles(GgufCheckpoint src, ModelConfig c) {
        List<String> r = new ArrayList<>(List.of("token_embd.weight", "output_norm.weight", "output.weight"));
        for (int l = 0; l < c.layers(); l++) {
            for (String base : new String[] {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "attn_q_norm", "attn_k_norm",
                    "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"}) {
                r.add("blk." + l + "." + base + ".weight");
                if (base.equals("attn_q") || base.equals("attn_k") || base.equals("attn_v")) r.add("blk." + l + "." + base + ".bias");
            }
        }
        return r;
    }

    private static boolean isLinear(String role) {
        if (!role.startsWith("blk.") || !role.endsWith(".weight")) return false;
        for (String l : LINEAR) if (role.endsWith("." + l + ".weight")) return true;
        return false;
    }

    /** The tensor as floats, row-major; llama q/k rows put back in Hugging Face's order. */
    private static float[] floats(TensorData t, int rows, int cols, int heads) {
        WeightMatrix m = WeightMatrix.of(t.name(), t.type(), t.data(), rows, cols);
        float[] w = new float[rows * cols];
        int headDim = heads > 0 ? rows / heads : 0, half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            // GGUF row h*hd + 2j + s came from Hugging Face row h*hd + s*half + j
            int dst = r;
            if (heads > 0) {
                int h = r / headDim, i = r % headDim;
                dst = h * headDim + (i % 2) * half + i / 2;
            }
            m.dequantizeRow(r, w, dst * cols);
        }
        return w;
    }

    private static Out halves(String name, String dtype, long[] shape, float[] w) {
        return new Out(name, dtype, shape, dst -> {
            for (int i = 0; i < w.length; i++) dst.setAtIndex(I16, i, dtype.equals("F16") ? Float.floatToFloat16(w[i]) : bf16(w[i]));
        }, 2L * w.length);
    }

    /** Round to nearest even bfloat16. */
    static short bf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
    }

    // ---- FP8: AutoFP8 per-tensor ----

    private static final float[] E4M3 = new float[127]; // positive finite codes 0..126 in value order
    static {
        for (int b = 0; b < 127; b++) E4M3[b] = io.chorus.tensor.Fp8Matrix.e4m3((byte) b);
    }

    /** The e4m3fn code nearest to v (ties to the even code), v within ±448. */
    static byte e4m3(float v) {
        float a = Math.min(Math.abs(v), 448f);
        int lo = 0, hi = 126;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (E4M3[mid] <= a) lo = mid; else hi = mid;
        }
        int code = a - E4M3[lo] < E4M3[hi] - a ? lo : a - E4M3[lo] > E4M3[hi] - a ? hi : (lo % 2 == 0 ? lo : hi);
        return (byte) (v < 0 ? code | 0x80 : code);
    }

    private static void fp8(List<Out> outs, String module, float[] w, int rows, int cols) {
        float max = 0;
        for (float x : w) max = Math.max(max, Math.abs(x));
        float s = max == 0 ? 1 : 448f / max;
        outs.add(new Out(module + ".weight", "F8_E4M3", new long[] {rows, cols}, dst -> {
            for (int i = 0; i < w.length; i++) dst.set(ValueLayout.JAVA_BYTE, i, e4m3(w[i] * s));
        }, (long) rows * cols));
        float scale = 1 / s;
        outs.add(new Out(module + ".weight_scale", "F32", new long[0], dst -> dst.set(F32, 0, scale), 4));
    }

    // ---- AWQ: AutoAWQ pseudo_quantize_tensor + WQLinear_GEMM packing ----

    private static final int[] AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

    private static void awq(List<Out> outs, String module, float[] w, int rows, int cols, int g) {
        int groups = cols / g;
        int[] q = new int[rows * cols], z = new int[rows * groups];
        short[] s = new short[rows * groups];
        for (int o = 0; o < rows; o++) {
            for (int gi = 0; gi < groups; gi++) {
                float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
                for (int i = gi * g; i < (gi + 1) * g; i++) { min = Math.min(min, w[o * cols + i]); max = Math.max(max, w[o * cols + i]); }
                float sc = Float.float16ToFloat(Float.floatToFloat16(Math.max((max - min) / 15, 1e-5f)));
                int zero = Math.clamp(-Math.round(min / sc), 0, 15);
                z[o * groups + gi] = zero;
                s[o * groups + gi] = Float.floatToFloat16(sc);
                for (int i = gi * g; i < (gi + 1) * g; i++) q[o * cols + i] = Math.clamp(Math.round(w[o * cols + i] / sc) + zero, 0, 15);
            }
        }
        int words = rows / 8;
        outs.add(new Out(module + ".qweight", "I32", new long[] {cols, words}, dst -> {
            for (int i = 0; i < cols; i++)
                for (int c = 0; c < words; c++) {
                    int word = 0;
                    for (int n = 0; n < 8; n++) word |= q[(8 * c + AWQ_ORDER[n]) * cols + i] << (4 * n);
                    dst.setAtIndex(I32, (long) i * words + c, word);
                }
        }, 4L * cols * words));
        outs.add(new Out(module + ".qzeros", "I32", new long[] {groups, words}, dst -> {
            for (int gi = 0; gi < groups; gi++)
                for (int c = 0; c < words; c++) {
                    int word = 0;
                    for (int n = 0; n < 8; n++) word |= z[(8 * c + AWQ_ORDER[n]) * groups + gi] << (4 * n);
                    dst.setAtIndex(I32, (long) gi * words + c, word);
                }
        }, 4L * groups * words));
        outs.add(new Out(module + ".scales", "F16", new long[] {groups, rows}, dst -> {
            for (int gi = 0; gi < groups; gi++) for (int o = 0; o < rows; o++) dst.setAtIndex(I16, (long) gi * rows + o, s[o * groups + gi]);
        }, 2L * groups * rows));
    }

    // ---- GPTQ: symmetric round-to-nearest, AutoGPTQ packing, v1 zeros (stored zero - 1) ----

    private static void gptq(List<Out> outs, String module, float[] w, int rows, int cols, int g) {
        int groups = cols / g;
        short[] s = new short[rows * groups];
        for (int o = 0; o < rows; o++) {
            for (int gi = 0; gi < groups; gi++) {
                float xmax = 0;
                for (int i = gi * g; i < (gi + 1) * g; i++) xmax = Math.max(xmax, Math.abs(w[o * cols + i]));
                s[o * groups + gi] = Float.floatToFloat16(Math.max(2 * xmax / 15, 1e-5f));
            }
        }
        outs.add(new Out(module + ".qweight", "I32", new long[] {cols / 8, rows}, dst -> {
            for (int r = 0; r < cols / 8; r++)
                for (int o = 0; o < rows; o++) {
                    int word = 0;
                    for (int j = 0; j < 8; j++) {
                        int i = 8 * r + j;
                        float sc = Float.float16ToFloat(s[o * groups + i / g]);
                        word |= Math.clamp(Math.round(w[o * cols + i] / sc) + 8, 0, 15) << (4 * j);
                    }
                    dst.setAtIndex(I32, (long) r * rows + o, word);
                }
        }, 4L * cols / 8 * rows));
        outs.add(new Out(module + ".qzeros", "I32", new long[] {groups, rows / 8}, dst -> {
            for (long i = 0; i < (long) groups * rows / 8; i++) dst.setAtIndex(I32, i, 0x77777777);
        }, 4L * groups * rows / 8));
        outs.add(new Out(module + ".scales", "F16", new long[] {groups, rows}, dst -> {
            for (int gi = 0; gi < groups; gi++) for (int o = 0; o < rows; o++) dst.setAtIndex(I16, (long) gi * rows + o, s[o * groups + gi]);
        }, 2L * groups * rows));
        outs.add(new Out(module + ".g_idx", "I32", new long[] {cols}, dst -> {
            for (int i = 0; i < cols; i++) dst.setAtIndex(I32, i, i / g);
        }, 4L * cols));
    }

    private static void writeShards(Path dir, List<Out> outs, long shardBytes) throws IOException {
        List<List<Out>> shards = new ArrayList<>();
        long size = Long.MAX_VALUE;
        for (Out o : outs) {
            if (size + o.bytes > shardBytes || shards.isEmpty()) { shards.add(new ArrayList<>()); size = 0; }
            shards.getLast().add(o);
            size += o.bytes;
        }
        if (shards.size() == 1) {
            write(shards.getFirst(), dir.resolve("model.safetensors"));
            return;
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(shards.get(i), dir.resolve(file));
            for (Out o : shards.get(i)) map.put(o.name, file);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", outs.stream().mapToLong(Out::bytes).sum());
        ObjectNode wm = index.putObject("weight_map");
        map.forEach(wm::put);
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
    }

    private static void write(List<Out> outs, Path file) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        for (Out o : outs) w.add(o.name, o.dtype, o.shape, o.data);
        w.write(file);
    }

    private static ObjectNode config(ModelConfig c, Format format, int groupSize) {
        ObjectNode n = JSON.createObjectNode();
        String arch = switch (c.arch()) {
            case LLAMA -> "LlamaForCausalLM";
            case QWEN2 -> "Qwen2ForCausalLM";
            case QWEN3 -> "Qwen3ForCausalLM";
            case PHI3 -> "Phi3ForCausalLM";
            default -> throw new CheckpointException(c.name() + ": writing a " + c.arch().ggufName + " model as a Hugging Face folder is not supported");
        };
        n.putArray("architectures").add(arch);
        n.put("model_type", c.arch().ggufName).put("hidden_size", c.dim()).put("intermediate_size", c.ffnDim())
                .put("num_hidden_layers", c.layers()).put("num_attention_heads", c.heads()).put("num_key_value_heads", c.kvHeads())
                .put("head_dim", c.headDim()).put("hidden_act", "silu").put("rms_norm_eps", c.rmsEps()).put("rope_theta", c.ropeTheta())
                .put("max_position_embeddings", c.contextLength()).put("vocab_size", c.vocabSize())
                .put("tie_word_embeddings", c.tiedOutput()).put("torch_dtype", format == Format.AWQ || format == Format.GPTQ ? "float16" : "bfloat16");
        if (c.rotDim() != c.headDim()) n.put("partial_rotary_factor", (double) c.rotDim() / c.headDim());
        if (c.arch() == Architecture.PHI3 && c.slidingWindow() > 0) n.put("sliding_window", c.slidingWindow());
        LongRope lr = c.longRope();
        if (lr != null) { // as Phi-3.5's config.json: the original context at the top level, the attention factor derived unless it differs
            n.put("original_max_position_embeddings", lr.originalContext());
            ObjectNode rs = n.putObject("rope_scaling").put("type", "longrope");
            var longF = rs.putArray("long_factor");
            for (float f : lr.longFactors()) longF.add((double) f); // the float's exact value, so it reads back bit for bit
            var shortF = rs.putArray("short_factor");
            for (float f : lr.shortFactors()) shortF.add((double) f);
            if (lr.attnFactor() != LongRope.derivedAttnFactor(c.contextLength(), lr.originalContext())) rs.put("attention_factor", (double) lr.attnFactor());
        }
        RopeScaling scaling = c.ropeScaling();
        if (scaling != null) { // as the converter reads it back: yarn or linear with its factor
            if (lr != null) throw new UnsupportedModelException(c.name() + ": longrope with " + scaling.describe() + " has no single rope_scaling entry");
            if (!scaling.yarn() && scaling.mscale() != 1f) {
                throw new UnsupportedModelException(c.name() + ": a rope attention factor without yarn or longrope has no rope_scaling entry");
            }
            ObjectNode rs = n.putObject("rope_scaling").put("type", scaling.yarn() ? "yarn" : "linear").put("factor", (double) scaling.factor());
            if (scaling.yarn()) {
                rs.put("original_max_position_embeddings", scaling.originalContext());
                if (scaling.mscale() != RopeScaling.yarnMscale(scaling.factor())) rs.put("attention_factor", (double) scaling.mscale());
            }
        }
        switch (format) {
            case FP8 -> n.putObject("quantization_config").put("quant_method", "fp8").put("activation_scheme", "dynamic");
            case AWQ -> n.putObject("quantization_config").put("quant_method", "awq").put("bits", 4).put("group_size", groupSize)
                    .put("zero_point", true).put("version", "gemm");
            case GPTQ -> n.putObject("quantization_config").put("quant_method", "gptq").put("bits", 4).put("group_size", groupSize)
                    .put("desc_act", false).put("sym", true).put("checkpoint_format", "gptq");
            default -> {}
        }
        return n;
    }
}
