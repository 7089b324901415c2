package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.model.gguf.GgufException;
import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model file Chorus cannot run says which file and why. */
class ModelLoadErrorsTest {
    @TempDir Path dir;

    @Test
    void unknownArchitectureListsTheSupportedOnes() throws IOException {
        Path p = dir.resolve("neox.gguf");
        new GgufWriter().putString("general.architecture", "gptneox")
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {32, 8}, seg -> {}).write(p);
        try (WorkerPool pool = new WorkerPool(1)) {
            assertThatThrownBy(() -> Model.load(p, pool))
                    .isInstanceOf(UnsupportedModelException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining("'gptneox' is not supported")
                    .hasMessageContaining("llama, qwen2, qwen3, phi3");
        }
    }

    @Test
    void unsupportedTensorTypeNamesTheTensor() throws IOException {
        Path good = dir.resolve("good.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-llama"), SyntheticModel.Mix.F32, 1, good);
        // Rewrite the type id of blk.0.attn_q.weight in the header to IQ2_XS (rows of 256 fit its blocks; unsupported).
        byte[] bytes = Files.readAllBytes(good);
        byte[] name = "blk.0.attn_q.weight".getBytes();
        int at = indexOf(bytes, name) + name.length;
        int typeAt = at + 4 + 2 * 8; // n_dims, two dims, then the type id
        bytes[typeAt] = (byte) GgmlType.IQ2_XS.id;
        // IQ2_XS takes 74 bytes per 256 values instead of 1024: the data is smaller, so the file stays valid.
        Path bad = dir.resolve("iq2.gguf");
        Files.write(bad, bytes);
        try (WorkerPool pool = new WorkerPool(1)) {
            assertThatThrownBy(() -> Model.load(bad, pool))
                    .isInstanceOf(UnsupportedModelException.class)
                    .hasMessageContaining(bad.toString())
                    .hasMessageContaining("blk.0.attn_q.weight")
                    .hasMessageContaining("IQ2_XS")
                    .hasMessageContaining("supported: " + GgmlType.supportedNames());
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path p = dir.resolve("partial.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .putUInt32("llama.embedding_length", 32).putUInt32("llama.block_count", 1)
                .putUInt32("llama.attention.head_count", 2).putUInt32("llama.feed_forward_length", 64)
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {32, 8}, seg -> {}).write(p);
        try (WorkerPool pool = new WorkerPool(1)) {
            assertThatThrownBy(() -> Model.load(p, pool)).isInstanceOf(GgufException.class)
                    .hasMessageContaining("output_norm.weight is missing");
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found: " + Arrays.toString(needle));
    }
}
