package io.chorus.model.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.tensor.GgmlType;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir Path dir;

    private Path writeSample() throws IOException {
        Path p = dir.resolve("sample.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("llama.block_count", 2)
                .putFloat32("llama.rope.freq_base", 10000f)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putUInt64("big", 1L << 40)
                .putStrings("tokenizer.ggml.tokens", new String[] {"<unk>", "▁héllo", "日本"})
                .putFloats("tokenizer.ggml.scores", new float[] {0f, -1.5f, -2f})
                .putInts("tokenizer.ggml.token_type", new int[] {2, 1, 1})
                .addTensor("a", GgmlType.F32, new long[] {4, 3}, seg -> {
                    for (int i = 0; i < 12; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i * 0.5f);
                })
                .addTensor("b", GgmlType.Q8_0, new long[] {64}, seg -> seg.fill((byte) 7))
                .write(p);
        return p;
    }

    @Test
    void writtenFileReadsBack() throws IOException {
        Path p = writeSample();
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.getString("general.architecture")).isEqualTo("llama");
            assertThat(f.getInt("llama.block_count")).isEqualTo(2);
            assertThat(f.getFloat("llama.rope.freq_base")).isEqualTo(10000f);
            assertThat(f.getBool("tokenizer.ggml.add_bos_token", false)).isTrue();
            assertThat(f.getLong("big")).isEqualTo(1L << 40);
            assertThat(f.getStringArray("tokenizer.ggml.tokens")).containsExactly("<unk>", "▁héllo", "日本");
            assertThat(f.getFloatArray("tokenizer.ggml.scores")).containsExactly(0f, -1.5f, -2f);
            assertThat(f.getIntArray("tokenizer.ggml.token_type")).containsExactly(2, 1, 1);
            GgufTensorInfo a = f.tensor("a");
            assertThat(a.type()).isEqualTo(GgmlType.F32);
            assertThat(a.dims()).containsExactly(4, 3);
            assertThat(a.byteSize()).isEqualTo(48);
            assertThat(a.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 11)).isEqualTo(5.5f);
            GgufTensorInfo b = f.tensor("b");
            assertThat(b.byteSize()).isEqualTo(68);
            assertThat(b.offset() % f.alignment()).isZero();
            assertThat(b.data().get(ValueLayout.JAVA_BYTE, 67)).isEqualTo((byte) 7);
        }
    }

    @Test
    void everyTruncationGivesACleanErrorNamingTheFile() throws IOException {
        byte[] whole = Files.readAllBytes(writeSample());
        for (int len = 0; len < whole.length; len++) {
            Path cut = dir.resolve("cut.gguf");
            Files.write(cut, Arrays.copyOf(whole, len));
            assertThatThrownBy(() -> GgufFile.open(cut).close())
                    .as("truncated at %d", len)
                    .isInstanceOf(GgufException.class)
                    .hasMessageContaining(cut.toString());
        }
    }

    @Test
    void randomCorruptionNeverEscapesAsAnotherException() throws IOException {
        byte[] whole = Files.readAllBytes(writeSample());
        Random rnd = new Random(42);
        Path bad = dir.resolve("bad.gguf");
        for (int trial = 0; trial < 2000; trial++) {
            byte[] copy = whole.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int i = 0; i < flips; i++) copy[rnd.nextInt(Math.min(copy.length, 400))] = (byte) rnd.nextInt(256);
            Files.write(bad, copy);
            try {
                GgufFile.open(bad).close();
            } catch (GgufException expected) {
                assertThat(expected.getMessage()).startsWith(bad.toString());
            }
        }
    }

    @Test
    void hugeCountsAreRejectedBeforeAllocation() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
        b.putLong(3).put("key".getBytes()).putInt(GgufValueType.ARRAY.id).putInt(GgufValueType.STRING.id).putLong(Long.MAX_VALUE / 2);
        Path p = dir.resolve("huge.gguf");
        Files.write(p, Arrays.copyOf(b.array(), b.position()));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(GgufException.class).hasMessageContaining("claims");
    }

    @Test
    void wrongMagicAndVersionAreNamed() throws IOException {
        Path p = dir.resolve("x.gguf");
        Files.write(p, "this is not a model file at all.".getBytes());
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(GgufException.class).hasMessageContaining("not a GGUF file");
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putInt(GgufFile.MAGIC).putInt(1).putLong(0).putLong(0);
        Files.write(p, b.array());
        assertThatThrownBy(() -> GgufFile.open(p)).hasMessageContaining("version 1");
        assertThatThrownBy(() -> GgufFile.open(dir.resolve("missing.gguf"))).isInstanceOf(GgufException.class).hasMessageContaining("missing.gguf");
    }

    @Test
    void filesOver2GiBAreMappedWithoutCopying() throws IOException {
        // A sparse file: the 2.5 GiB tensor is never written, so this costs no disk space or time.
        Path p = dir.resolve("big.gguf");
        long rows = 655_360, cols = 1024; // 2.5 GiB of F32
        new GgufWriter().putString("general.architecture", "llama")
                .addTensor("big", GgmlType.F32, new long[] {cols, rows}, seg -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, seg.byteSize() - 4, 42f))
                .addTensor("after", GgmlType.F32, new long[] {4}, seg -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 7f))
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.fileSize()).isGreaterThan(1L << 31);
            GgufTensorInfo big = f.tensor("big");
            assertThat(big.byteSize()).isEqualTo(rows * cols * 4);
            assertThat(big.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, big.byteSize() - 4)).isEqualTo(42f);
            assertThat(f.tensor("after").offset()).isGreaterThan(1L << 31);
            assertThat(f.tensor("after").data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)).isEqualTo(7f);
        }
    }

    @Test
    void readsReferenceModel() {
        Path p = Fixtures.require("models/qwen2-q8_0.gguf");
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.getString("general.architecture")).isEqualTo("qwen2");
            assertThat(f.getInt("qwen2.block_count")).isEqualTo(2);
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(f.tensor("blk.0.attn_q.weight").dims()).containsExactly(256, 256);
            assertThat(f.getStringArray("tokenizer.ggml.tokens")).hasSize(512);
        }
    }
}
