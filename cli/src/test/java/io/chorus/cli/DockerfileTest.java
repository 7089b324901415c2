package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.cli.DeployFiles.Instruction;
import io.chorus.model.SyntheticModel;
import io.chorus.server.ChorusServer;
import io.chorus.server.LoadedModel;
import io.chorus.server.ServeOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/Dockerfile cannot be built here (no container daemon), so every path, module, port, flag
 * and command in it is checked against the code and the build instead.
 */
class DockerfileTest {
    private static final Pattern JLINK_MODULES = Pattern.compile("jlink --add-modules (\\S+)");

    @TempDir Path dir;

    private static List<Instruction> all(String keyword) {
        return DeployFiles.dockerfile().stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    private static Instruction one(String keyword) {
        List<Instruction> l = all(keyword);
        assertThat(l).as(keyword).hasSize(1);
        return l.getFirst();
    }

    private static Instruction last(String keyword) {
        List<Instruction> l = all(keyword);
        assertThat(l).as(keyword).isNotEmpty();
        return l.getLast();
    }

    @Test
    void buildStageCopiesWhatTheRepositoryHasAndBuildsTheNativeKernelsWithTheCompilerThePomUses() throws Exception {
        Path root = DeployFiles.root();
        // Sources copied into the build stage (COPY without --from) exist in the repository.
        for (Instruction c : all("COPY")) {
            if (c.args().startsWith("--from=")) continue;
            List<String> parts = List.of(c.args().split("\\s+"));
            for (String src : parts.subList(0, parts.size() - 1)) {
                assertThat(root.resolve(src)).as("COPY " + src).exists();
            }
        }
        String pom = Files.readString(root.resolve("core/pom.xml"));
        Matcher cc = Pattern.compile("<native.cc>(\\S+)</native.cc>").matcher(pom);
        assertThat(cc.find()).isTrue();
        assertThat(all("RUN").stream().map(Instruction::args).filter(r -> r.startsWith("apt-get update")).findFirst().orElseThrow())
                .contains("install -y --no-install-recommends " + cc.group(1) + " ");
        // The jar check names the resources NativeKernels loads.
        String source = Files.readString(root.resolve("core/src/main/java/io/chorus/tensor/NativeKernels.java"));
        assertThat(source).contains("\"/native/linux-\" + chosen.arch + \"/libchorus_kernels_\" + variant + \".so\"");
        String variants = Files.readString(root.resolve("core/src/main/java/io/chorus/tensor/NativeVariant.java"));
        assertThat(variants).contains("AVX512(\"avx512\", \"x86_64\"").contains("AVX2(\"avx2\", \"x86_64\"");
        String check = all("RUN").stream().map(Instruction::args).filter(r -> r.startsWith("jar tf")).findFirst().orElseThrow();
        assertThat(check).contains("grep -qx native/linux-x86_64/libchorus_kernels_avx2.so")
                .contains("grep -qx native/linux-x86_64/libchorus_kernels_avx512.so")
                .contains("jar tf " + jarInBuildStage());
        assertThat(pom).contains("libchorus_kernels_avx2.so").contains("libchorus_kernels_avx512.so");
    }

    /** The jar path the runtime stage copies, relative to the build stage's WORKDIR. */
    private static String jarInBuildStage() {
        String workdir = all("WORKDIR").getFirst().args();
        Instruction copy = all("COPY").stream().filter(c -> c.args().startsWith("--from=build ") && c.args().contains(".jar"))
                .findFirst().orElseThrow();
        String src = copy.args().split("\\s+")[1];
        assertThat(src).startsWith(workdir + "/");
        return src.substring(workdir.length() + 1);
    }

    @Test
    void theCopiedJarIsTheShadedJarTheBuildWritesAndTheLauncherRuns() throws Exception {
        Path root = DeployFiles.root();
        String jar = jarInBuildStage();
        assertThat(jar).isEqualTo("cli/target/chorus.jar");
        String cliPom = Files.readString(root.resolve("cli/pom.xml"));
        assertThat(cliPom).contains("<finalName>chorus</finalName>").contains("<goal>shade</goal>")
                .doesNotContain("<shadedClassifierName>").doesNotContain("<shadedArtifactAttached>true");
        assertThat(Files.readString(root.resolve("chorus"))).contains("jar=\"$root/" + jar + "\"");
        assertThat(all("RUN").stream().map(Instruction::args))
                .anyMatch(r -> r.contains("./mvnw -B -ntp -DskipTests -pl cli -am package"));
        // The runtime stage runs the jar it copied.
        String copiedTo = all("COPY").stream().filter(c -> c.args().contains(".jar")).findFirst().orElseThrow().args().split("\\s+")[2];
        List<String> entry = one("ENTRYPOINT").execForm();
        assertThat(entry.subList(entry.size() - 2, entry.size())).containsExactly("-jar", copiedTo);
    }

    @Test
    void theJvmFlagsAreTheLaunchersAndJlinkKeepsExactlyTheModulesJdepsFinds() throws Exception {
        List<String> entry = one("ENTRYPOINT").execForm();
        assertThat(entry.getFirst()).isEqualTo("java");
        String launcher = Files.readString(DeployFiles.root().resolve("chorus"));
        Matcher exec = Pattern.compile("exec \"\\$JAVA_HOME/bin/java\" (.*?) \\$\\{CHORUS_JAVA_OPTS").matcher(launcher.replace("\\\n", " "));
        assertThat(exec.find()).isTrue();
        List<String> launcherFlags = Arrays.stream(exec.group(1).trim().split("\\s+")).toList();
        assertThat(entry.subList(1, entry.size() - 2)).containsExactlyElementsOf(launcherFlags);

        Matcher m = JLINK_MODULES.matcher(String.join("\n", all("RUN").stream().map(Instruction::args).toList()));
        assertThat(m.find()).isTrue();
        Set<String> jlinked = new TreeSet<>(List.of(m.group(1).split(",")));
        assertThat(jlinked).as("the ENTRYPOINT's --add-modules").contains(entry.get(entry.indexOf("--add-modules") + 1));
        assertThat(jlinked).isEqualTo(jdepsModules());
    }

    /** What jdeps says the shaded jar's contents need: this module's classes and its runtime classpath. */
    private static Set<String> jdepsModules() throws Exception {
        Path cp = Path.of("target/runtime-classpath.txt");
        assertThat(cp).as("written by maven-dependency-plugin in generate-test-resources").exists();
        // Recursive from this module's classes over the classpath (jars with a module-info cannot be roots).
        List<String> args = List.of("--print-module-deps", "--ignore-missing-deps", "--multi-release",
                Integer.toString(Runtime.version().feature()), "--class-path", Files.readString(cp).strip(), "-R", "target/classes");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = ToolProvider.findFirst("jdeps").orElseThrow().run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args.toArray(String[]::new));
        assertThat(rc).as(out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8)).isZero();
        return new TreeSet<>(List.of(out.toString(StandardCharsets.UTF_8).strip().split(",")));
    }

    @Test
    void runsAsANonRootUserThatOwnsTheModelsVolumeAndTheCache() {
        String user = last("USER").args();
        assertThat(user).isNotIn("root", "0").doesNotStartWith("0:");
        String useradd = all("RUN").stream().map(Instruction::args).filter(r -> r.startsWith("useradd")).findFirst().orElseThrow();
        assertThat(useradd).contains("--uid " + user + " ").contains("--home-dir /home/chorus").contains("chown chorus:chorus /models");
        assertThat(one("VOLUME").args()).isEqualTo("/models");
        assertThat(one("ENV").args()).contains("CHORUS_CACHE=/home/chorus/.cache/chorus");
        // NativeKernels reads CHORUS_CACHE for the folder it unpacks the kernels to.
        assertThat(DeployFiles.root().resolve("core/src/main/java/io/chorus/tensor/NativeKernels.java")).content().contains("CHORUS_CACHE");
    }

    @Test
    void portModelAndDrainFlagsAgreeWithServe() {
        int port = DeployFiles.defaultInt("--port");
        assertThat(one("EXPOSE").args()).isEqualTo(Integer.toString(port));
        List<String> cmd = one("CMD").execForm();
        assertThat(cmd.getFirst()).isEqualTo("serve");
        ServeCommand serve = DeployFiles.parseServe(cmd.subList(1, cmd.size()));
        assertThat(serve.port).isEqualTo(port);
        assertThat(serve.host).isEqualTo("0.0.0.0");
        assertThat(serve.model.toString()).startsWith(one("VOLUME").args() + "/");
        assertThat(serve.shutdownDelay).isEqualTo(DeployFiles.defaultInt("--shutdown-delay"));
        assertThat(serve.shutdownGrace).isEqualTo(DeployFiles.defaultInt("--shutdown-grace"));
        assertThat(one("STOPSIGNAL").args()).isEqualTo("SIGTERM");
        // The stop timeout the comments ask for covers the drain.
        assertThat(DeployFiles.root().resolve("deploy/Dockerfile")).content()
                .contains("--stop-timeout " + (serve.shutdownDelay + serve.shutdownGrace + 10));
    }

    @Test
    void theHealthCheckCommandPassesAgainstAReadyServer() throws Exception {
        Instruction hc = one("HEALTHCHECK");
        int cmdAt = hc.args().indexOf("CMD ");
        List<String> cmd = new DeployFiles.Instruction("CMD", hc.args().substring(cmdAt + 4)).execForm();
        String port = Integer.toString(DeployFiles.defaultInt("--port"));
        assertThat(cmd.get(2)).contains("/dev/tcp/127.0.0.1/" + port + " ").contains("GET /health HTTP/1.0");

        Path model = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 3, model);
        ServeOptions o = ServeOptions.defaults().withModel(model).withPort(0).withServedModelName("tiny")
                .withKvCacheMemory(16L << 20).withThreads(1);
        try (ChorusServer server = new ChorusServer(o).start()) {
            List<String> onServer = List.of(cmd.get(0), cmd.get(1), cmd.get(2).replace("/127.0.0.1/" + port + " ", "/127.0.0.1/" + server.port() + " "));
            assertThat(run(onServer)).as("503 while loading").isEqualTo(1);
            server.load(() -> LoadedModel.load(o));
            assertThat(run(onServer)).as("200 when ready").isZero();
        }
    }

    private static int run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
