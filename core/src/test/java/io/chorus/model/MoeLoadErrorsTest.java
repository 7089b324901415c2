package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.model.checkpoint.CheckpointException;
import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed mixture-of-experts files fail at load with a message that names the key or tensor. */
class MoeLoadErrorsTest {
    @TempDir Path dir;

    private static GgufWriter header(String arch) {
        GgufWriter w = new GgufWriter().putString("general.architecture", arch);
        w.putUInt32(arch + ".embedding_length", 256);
        w.putUInt32(arch + ".block_count", 1);
        w.putUInt32(arch + ".feed_forward_length", 256);
        w.putUInt32(arch + ".attention.head_count", 4);
        w.addTensor("token_embd.weight", GgmlType.F32, new long[] {256, 8}, dst -> {});
        return w;
    }

    @Test
    void qwenMoeWithoutExpertsIsRejected() throws IOException {
        Path f = dir.resolve("q.gguf");
        header("qwen3moe").write(f);
        assertThatThrownBy(() -> ModelConfig.fromGguf(io.chorus.model.gguf.GgufFile.open(f)))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("qwen3moe.expert_count");
    }

    @Test
    void moreExpertsUsedThanExistIsRejected() throws IOException {
        Path f = dir.resolve("m.gguf");
        header("llama").putUInt32("llama.expert_count", 4).putUInt32("llama.expert_used_count", 5).write(f);
        assertThatThrownBy(() -> ModelConfig.fromGguf(io.chorus.model.gguf.GgufFile.open(f)))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("5 of 4 experts");
    }

    /** A one-layer Mixtral-style llama (dim 32, 4 experts of FFN 64) without the tensor {@code skip}; gate experts sized for {@code gateExperts}. */
    private static Path tinyMoe(Path dir, String skip, int gateExperts) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
                .putUInt32("llama.embedding_length", 32).putUInt32("llama.block_count", 1)
                .putUInt32("llama.attention.head_count", 2).putUInt32("llama.feed_forward_length", 64)
                .putUInt32("llama.expert_count", 4).putUInt32("llama.expert_used_count", 2);
        java.util.Map<String, long[]> tensors = new java.util.LinkedHashMap<>();
        tensors.put("token_embd.weight", new long[] {32, 8});
        tensors.put("output_norm.weight", new long[] {32});
        tensors.put("blk.0.attn_norm.weight", new long[] {32});
        for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_output"}) tensors.put("blk.0." + m + ".weight", new long[] {32, 32});
        tensors.put("blk.0.ffn_norm.weight", new long[] {32});
        tensors.put("blk.0.ffn_gate_inp.weight", new long[] {32, 4});
        tensors.put("blk.0.ffn_gate_exps.weight", new long[] {32, 64, gateExperts});
        tensors.put("blk.0.ffn_up_exps.weight", new long[] {32, 64, 4});
        tensors.put("blk.0.ffn_down_exps.weight", new long[] {64, 32, 4});
        tensors.remove(skip);
        tensors.forEach((name, dims) -> w.addTensor(name, GgmlType.F32, dims, dst -> {}));
        Path p = dir.resolve("moe-" + gateExperts + "-" + skip + ".gguf");
        w.write(p);
        return p;
    }

    @Test
    void missingOrMisshapenExpertTensorIsNamed() throws IOException {
        try (WorkerPool pool = new WorkerPool(1)) {
            Path ok = tinyMoe(dir, "none", 4);
            Model.load(ok, pool).close();
            assertThatThrownBy(() -> Model.load(tinyMoe(dir, "blk.0.ffn_up_exps.weight", 4), pool)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("blk.0.ffn_up_exps.weight is missing");
            assertThatThrownBy(() -> Model.load(tinyMoe(dir, "none", 3), pool)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("blk.0.ffn_gate_exps.weight has shape [32, 64, 3], expected [32, 64, 4]");
        }
    }
}
