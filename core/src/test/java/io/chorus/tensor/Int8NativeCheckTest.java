package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The native 8-bit kernels of every build against the scalar C reference of their lane contract
 * (src/test/c/int8_check.c), bit for bit on random blocks of each type: the x86 builds run here
 * natively where the CPU can run them (the AVX2 build is also checked bit for bit against the Java
 * twin by {@link Int8KernelsTest}, which ties the reference to it); the Arm build is cross-compiled
 * and run under qemu-aarch64 where aarch64-linux-gnu-gcc and qemu-user are installed (.ci/run
 * installs them), else the test is skipped with a message.
 */
class Int8NativeCheckTest {
    static final List<String> TYPES = List.of("q8_0", "q4_0", "q5_0", "iq4_nl", "q4_1", "q5_1", "q4_k", "q5_k", "q6_k", "iq4_xs", "q2_k", "q3_k");
    static final Path OUT = Path.of("target", "int8-check");

    @Test
    void avx2BuildMatchesTheReference() throws Exception {
        x86(NativeVariant.AVX2);
    }

    /**
     * The AVX2 build with token chunks and token-head tables of a few tokens, so that a batch of 33 or
     * 37 tokens crosses several chunks, each with its full tiles and the last with a tail: the same
     * bits as the reference, however a batch is cut.
     */
    @Test
    void avx2BuildInSmallTokenChunksMatchesTheReference() throws Exception {
        x86(NativeVariant.AVX2, "-DTILE32S_X_BYTES=2048", "-DTILE32_HEAD_BYTES=1024");
    }

    /** Compiled everywhere gcc exists; run only on a CPU with AVX-512 F/BW/CD/DQ/VL and VNNI (none here: AMD EPYC AVX2). */
    @Test
    void avx512VnniBuildMatchesTheReference() throws Exception {
        x86(NativeVariant.AVX512);
    }

    @Test
    void neonBuildMatchesTheReferenceUnderQemu() throws Exception {
        boolean armHost = "aarch64".equals(NativeKernels.machine(System.getProperty("os.arch", "")));
        String cc = armHost ? "gcc" : "aarch64-linux-gnu-gcc";
        assumeTrue(onPath(cc), "skipped: " + cc + " not installed (apt-get install gcc-aarch64-linux-gnu)");
        assumeTrue(armHost || onPath("qemu-aarch64"), "skipped: qemu-aarch64 not installed (apt-get install qemu-user)");
        Path exe = OUT.resolve("check-neon");
        compile(cc, NativeVariant.NEON, exe, "src/main/c/chorus_int8_neon.c", "-static");
        List<String> run = armHost ? List.of(exe.toString()) : List.of("qemu-aarch64", exe.toString());
        assertAllTypesPass(run);
    }

    private static void x86(NativeVariant v, String... defines) throws Exception {
        assumeTrue("x86_64".equals(NativeKernels.machine(System.getProperty("os.arch", ""))), "skipped: not an x86-64 machine");
        assumeTrue(onPath("gcc"), "skipped: gcc not installed");
        Path exe = OUT.resolve("check-" + v.id + (defines.length > 0 ? "-defines" : ""));
        compile("gcc", v, exe, "src/main/c/chorus_int8.c", defines);
        List<String> missing = v.missing(NativeVariant.cpuFlags());
        assumeTrue(missing.isEmpty(), "compiled, not run: this CPU lacks " + String.join(" ", missing) + " of the " + v.id + " build");
        assertAllTypesPass(List.of(exe.toString()));
    }

    private static void compile(String cc, NativeVariant v, Path exe, String kernels, String... extra) throws Exception {
        Files.createDirectories(OUT);
        List<String> cmd = new ArrayList<>(List.of(cc, "-std=gnu11", "-O2", "-march=" + v.march));
        cmd.addAll(v.options);
        cmd.addAll(List.of("-ffp-contract=off", "-Wno-psabi", "-o", exe.toString(), "src/test/c/int8_check.c", kernels));
        cmd.addAll(List.of(extra));
        cmd.add("-lm");
        Result r = run(cmd);
        assertThat(r.code).as("%s\n%s", String.join(" ", cmd), r.output).isZero();
    }

    private static void assertAllTypesPass(List<String> cmd) throws Exception {
        Result r = run(cmd);
        assertThat(r.code).as(r.output).isZero();
        List<String> ok = new ArrayList<>();
        for (String line : r.output.split("\n")) if (line.startsWith("ok ")) ok.add(line.split(" ")[1]);
        assertThat(ok).as(r.output).containsExactlyElementsOf(TYPES);
    }

    private record Result(int code, String output) {}

    private static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) return true;
        }
        return false;
    }
}
