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
}
