package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The model commands as a user runs them: synth writes a model, info describes it, logits runs it. */
class ModelCommandsTest {
    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    private Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    @Test
    void infoNamesTheChatTemplatesWhenTheModelShipsMoreThanTheDefault() throws Exception {
        Path model = dir.resolve("named.gguf");
        io.chorus.model.SyntheticModel.write(io.chorus.model.SyntheticModel.shape("tiny-qwen2"), io.chorus.model.SyntheticModel.Mix.F32, 1, model,
                w -> w.putString("tokenizer.chat_template.tool_use", "{{ tools }}"));
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).contains("chat template  present (default, tool_use)\n");
    }

    @Test
    void synthInfoAndLogits() throws Exception {
        Path model = dir.resolve("m.gguf");
        assertThat(run("synth", "--shape", "tiny-llama", "--type", "Q4_K_M", "--out", model.toString(), "--seed", "5").exit()).isZero();
        assertThat(model).exists();

        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).contains("architecture   llama")
                .contains("dim 256, 2 layers, 4 heads / 2 KV heads")
                .contains("Q4_K").contains("Q6_K")
                .contains("chat template  present")
                .contains("with frequency factors")
                .contains("separate output.weight");

        Path logits = dir.resolve("l.f32");
        Run l = run("logits", "--model", model.toString(), "--tokens", "1,300,301,302", "--out", logits.toString(), "--threads", "1");
        assertThat(l.exit()).isZero();
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(logits)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.remaining()).isEqualTo(4 * 512 * 4);
        float first = b.getFloat(0);
        assertThat(Float.isFinite(first)).isTrue();
        // Same tokens, same logits: the command is deterministic.
        Path again = dir.resolve("l2.f32");
        run("logits", "--model", model.toString(), "--tokens", "1,300,301,302", "--out", again.toString(), "--threads", "2");
        float[] a = floats(logits), c = floats(again);
        for (int i = 0; i < a.length; i++) assertThat(c[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(1e-4f));
    }

    /**
     * Phi-3's long-context rope: info shows which factors serving at the whole context uses, and logits
     * takes the short ones unless --max-model-len goes past the original context (512 here).
     */
    @Test
    void longRopeSynthInfoAndLogits() throws Exception {
        Path model = dir.resolve("p.gguf");
        assertThat(run("synth", "--shape", "tiny-phi3-longrope", "--type", "F16", "--out", model.toString()).exit()).isZero();
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).contains("rope scaling   longrope: long factors (context 2048 > original 512), attention factor 1.11 at the default"
                + " max-model-len; short factors with --max-model-len <= 512");
        String tokens = "1,300,301,302,303";
        float[][] l = new float[3][];
        String[][] extra = {{}, {"--max-model-len", "512"}, {"--max-model-len", "513"}};
        for (int i = 0; i < 3; i++) {
            Path out = dir.resolve("p" + i + ".f32");
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("logits", "--model", model.toString(), "--tokens", tokens,
                    "--out", out.toString(), "--threads", "1"));
            args.addAll(java.util.List.of(extra[i]));
            assertThat(run(args.toArray(String[]::new)).exit()).isZero();
            l[i] = floats(out);
        }
        assertThat(l[1]).containsExactly(l[0]); // 5 tokens in one 16-token block: the short factors
        double diff = 0;
        for (int i = 0; i < l[0].length; i++) diff = Math.max(diff, Math.abs(l[2][i] - l[0][i]));
        assertThat(diff).as("long factors move the logits").isGreaterThan(1e-3);
    }

    /** Phi-3's sliding window: info shows it on every layer. */
    @Test
    void phi3WindowInfo() throws Exception {
        Path model = dir.resolve("w.gguf");
        assertThat(run("synth", "--shape", "tiny-phi3-window", "--type", "F16", "--out", model.toString()).exit()).isZero();
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).contains("attention      sliding window 11 on 2 of 2 layers, query scale 1/8");
    }

    /** Rope scaling from GGUF keys: info shows yarn's factor, original context and attention factor, and the context it grows to. */
    @Test
    void yarnInfo() throws Exception {
        Path model = dir.resolve("y.gguf");
        assertThat(run("synth", "--shape", "tiny-qwen2-yarn", "--type", "F16", "--out", model.toString()).exit()).isZero();
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).contains("context        1024 tokens, rope theta 1000000, rms eps")
                .contains("rope scaling   yarn factor 4 from original context 256, attention factor 1.14");
    }

    /** A Gemma 2 shape: info shows its windowed layers and caps, and logits runs it (softcapped below 30). */
    @Test
    void gemma2SynthInfoAndLogits() throws Exception {
        Path model = dir.resolve("g.gguf");
        assertThat(run("synth", "--shape", "tiny-gemma2", "--type", "Q8_0", "--out", model.toString()).exit()).isZero();
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).contains("architecture   gemma2")
                .contains("dim 256, 3 layers, 4 heads / 2 KV heads, head dim 64")
                .contains("attention      sliding window 6 on 2 of 3 layers, scores soft-capped at 50, logits soft-capped at 30, query scale 1/8")
                .contains("tied to token embeddings");
        Path logits = dir.resolve("g.f32");
        Run l = run("logits", "--model", model.toString(), "--tokens", "1,300,301,302,303,304,305,306,307", "--out", logits.toString(), "--threads", "1");
        assertThat(l.exit()).isZero();
        float[] a = floats(logits);
        assertThat(a).hasSize(9 * 512);
        for (float f : a) assertThat(Math.abs(f)).isLessThan(30f);
    }

    /**
     * A mixture-of-experts shape: info names the experts and counts what one token reads (2 of 8 routed
     * experts, the shared expert, attention, embeddings); logits runs it.
     */
    @Test
    void mixtureOfExpertsSynthInfoAndLogits() throws Exception {
        Path model = dir.resolve("moe.gguf");
        assertThat(run("synth", "--shape", "tiny-qwen2moe", "--type", "Q8_0", "--out", model.toString()).exit()).isZero();
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        // per layer: norms 512, q/k/v/o 196608, biases 512, router 2048, shared expert 3 x 512 x 256 + gate 256,
        // routed 3 x 256 x 256 x 8 (2 of 8 active); embeddings and output 2 x 131072, output norm 256
        assertThat(info.out()).contains("architecture   qwen2moe")
                .contains("experts        8 experts, 2 used per token, expert FFN 256, shared expert FFN 512")
                .contains("parameters     4.6 M in ")
                .contains("active         2.2 M parameters per token");
        Path logits = dir.resolve("moe.f32");
        Run l = run("logits", "--model", model.toString(), "--tokens", "1,300,301,302,303", "--out", logits.toString(), "--threads", "2");
        assertThat(l.exit()).isZero();
        for (float f : floats(logits)) assertThat(Float.isFinite(f)).isTrue();
        assertThat(floats(logits)).hasSize(5 * 512);
    }

    /** info counts the tensors of every type: Q3_K_M mixes four K-quant types (tiny-llama: untied, 2 layers). */
    @Test
    void infoListsEveryTensorType() throws Exception {
        Path model = dir.resolve("q3km.gguf");
        assertThat(run("synth", "--shape", "tiny-llama", "--type", "Q3_K_M", "--out", model.toString()).exit()).isZero();
        Run info = run("info", model.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).containsPattern("  F32 +6 tensors ")
                .containsPattern("  Q3_K +9 tensors ")    // token_embd, attn_q/k, ffn_gate/up
                .containsPattern("  Q4_K +4 tensors ")    // attn_output, ffn_down
                .containsPattern("  Q5_K +2 tensors ")    // attn_v of the first two layers
                .containsPattern("  Q6_K +1 tensors ")    // output
                .doesNotContain("not supported").doesNotContain("warning");
    }

    /** A type Chorus cannot compute with is named by info, with the list of those it can. */
    @Test
    void infoNamesUnsupportedTypes() throws Exception {
        Path good = dir.resolve("f32.gguf");
        assertThat(run("synth", "--shape", "tiny-llama", "--type", "F32", "--out", good.toString()).exit()).isZero();
        byte[] bytes = Files.readAllBytes(good);
        byte[] name = "blk.1.ffn_up.weight".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(bytes, name) + name.length + 4 + 2 * 8; // n_dims, two dims, then the type id
        bytes[at] = (byte) io.chorus.tensor.GgmlType.IQ2_XS.id;  // 74 bytes per 256 values: less data, still valid
        Path bad = dir.resolve("iq2.gguf");
        Files.write(bad, bytes);
        Run info = run("info", bad.toString());
        assertThat(info.exit()).isZero();
        assertThat(info.out()).containsPattern("  IQ2_XS +1 tensors .*\\(not supported\\)")
                .contains("warning        tensor types IQ2_XS are not supported by Chorus (supported: "
                        + io.chorus.tensor.GgmlType.supportedNames() + ")");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void badInputGivesOneLineErrors() throws Exception {
        Run missing = run("info", dir.resolve("nope.gguf").toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("nope.gguf").contains("no such file").doesNotContain("Exception");

        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "definitely not a model, just some text padding");
        Run bad = run("info", junk.toString());
        assertThat(bad.err()).contains("junk.gguf").contains("not a GGUF file");

        Run shape = run("synth", "--shape", "gpt-9", "--out", dir.resolve("x.gguf").toString());
        assertThat(shape.exit()).isNotZero();
        assertThat(shape.err()).contains("unknown shape 'gpt-9'").contains("qwen2.5-0.5b");
    }

    private static float[] floats(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    /** info, tokenize and logits take a Hugging Face folder as they take a GGUF file. */
    @Test
    void commandsReadHuggingFaceFolders() throws Exception {
        Path folder = null;
        for (Path d = Path.of("").toAbsolutePath(); d != null && folder == null; d = d.getParent()) {
            for (Path c : new Path[] {d.resolve("shared/fixtures/hf/llama-gptq"), d.resolveSibling("shared").resolve("fixtures/hf/llama-gptq")}) {
                if (Files.isDirectory(c)) folder = c;
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(folder != null, "shared/fixtures/hf not found; skipping");
        Run info = run("info", folder.toString());
        assertThat(info.exit()).as(info.err()).isZero();
        assertThat(info.out()).contains("(Hugging Face, 1 safetensors file)").contains("architecture   llama")
                .contains("dim 256, 2 layers, 4 heads / 2 KV heads, head dim 64, FFN 768, vocab 512")
                .contains("Gptq[groupSize=64, sym=true, descAct=false, zeroOffset=1]")
                .containsPattern("  I32 +42 tensors ").contains("tied to token embeddings").contains("chat template  present");

        Run tok = run("tokenize", "--model", folder.toString(), "--text", "Once upon a time");
        assertThat(tok.exit()).as(tok.err()).isZero();
        assertThat(tok.out().strip()).isEqualTo("[508, 380, 456, 258, 361]");

        // The reference prompt's last-row logits against the float64 reference (README tolerance 0.05).
        String ids = "508,380,456,258,361,44,259,265,294,115,258,354,347,492,338,46,32,72,101,488,266,357,309,259";
        Path out = dir.resolve("hf.f32");
        Run l = run("logits", "--model", folder.toString(), "--tokens", ids, "--out", out.toString(), "--threads", "2");
        assertThat(l.exit()).as(l.err()).isZero();
        float[] got = floats(out), want = floats(folder.resolve("ref64.f32"));
        assertThat(got).hasSameSizeAs(want);
        for (int i = 0; i < got.length; i++) assertThat(got[i]).isCloseTo(want[i], org.assertj.core.data.Offset.offset(0.05f));
    }
}
