package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which native build a CPU gets, from sample /proc/cpuinfo flag lines. */
class NativeVariantTest {

    /** AMD EPYC (Zen 3) as a cloud VM shows it: AVX2, no AVX-512. */
    static final String EPYC = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr arat umip vaes vpclmulqdq rdpid fsrm\nbugs\t\t: sysret_ss_attrs\n";
    /** Intel Ice Lake server: AVX-512 with VNNI and friends. */
    static final String ICELAKE = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves wbnoinvd arat avx512vbmi pku ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid md_clear flush_l1d arch_capabilities\n";
    /** Sandy Bridge: AVX but no AVX2, FMA or BMI. */
    static final String SANDY = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic popcnt tsc_deadline_timer aes xsave avx lahf_lm\n";
    /** Skylake-SP: AVX-512 F/BW/CD/DQ/VL but no VNNI. */
    static final String SKYLAKE_SP = ICELAKE.replace(" avx512_vnni ", " ");
    /** An ARM server (Graviton 2, Neoverse N1, Armv8.2-A): /proc/cpuinfo says "Features", not "flags". */
    static final String GRAVITON = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: 0x41\n";

    @Test
    void anAvx2CpuGetsTheAvx2Build() {
        Set<String> cpu = NativeVariant.parseFlags(EPYC);
        assertThat(NativeVariant.best(cpu)).isEqualTo(NativeVariant.AVX2);
        assertThat(NativeVariant.AVX512.missing(cpu)).containsExactly("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx512_vnni");
        assertThat(NativeVariant.runnable(cpu)).containsExactly(NativeVariant.AVX2);
    }

    @Test
    void anAvx512CpuCanRunBothBuildsAndGetsTheWidest() {
        Set<String> cpu = NativeVariant.parseFlags(ICELAKE);
        assertThat(NativeVariant.best(cpu)).isEqualTo(NativeVariant.AVX512);
        assertThat(NativeVariant.runnable(cpu)).containsExactly(NativeVariant.AVX512, NativeVariant.AVX2);
    }

    /** The AVX-512 build uses vpdpbusd: an AVX-512 CPU without VNNI gets the AVX2 build. */
    @Test
    void anAvx512CpuWithoutVnniGetsTheAvx2Build() {
        Set<String> cpu = NativeVariant.parseFlags(SKYLAKE_SP);
        assertThat(NativeVariant.AVX512.missing(cpu)).containsExactly("avx512_vnni");
        assertThat(NativeVariant.best(cpu)).isEqualTo(NativeVariant.AVX2);
        StringBuilder why = new StringBuilder();
        assertThat(NativeKernels.choose("avx512", "x86_64", cpu, why)).isNull();
        assertThat(why).hasToString("CHORUS_NATIVE=avx512 asks for the x86-64-v4 build, but this CPU lacks avx512_vnni");
    }

    /** An Armv8.2-A CPU with the dot product instructions gets the Arm build; without them, the Java kernels. */
    @Test
    void anArmCpuWithDotProductGetsTheNeonBuild() {
        Set<String> cpu = NativeVariant.parseFlags(GRAVITON);
        assertThat(cpu).contains("asimd", "asimddp");
        assertThat(NativeVariant.best(cpu)).isEqualTo(NativeVariant.NEON);
        assertThat(NativeVariant.runnable(cpu)).containsExactly(NativeVariant.NEON);
        StringBuilder why = new StringBuilder();
        assertThat(NativeKernels.choose(null, "aarch64", cpu, why)).isEqualTo(NativeVariant.NEON);
        // Cortex-A72 (Graviton 1, Raspberry Pi 4): Armv8.0, no dot product
        Set<String> a72 = NativeVariant.parseFlags("Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n");
        assertThat(NativeKernels.choose(null, "aarch64", a72, why)).isNull();
        assertThat(why).hasToString("this CPU lacks atomics asimdrdm asimddp of armv8.2-a+dotprod, the least the native build needs");
        why.setLength(0);
        assertThat(NativeKernels.choose("neon", "x86_64", NativeVariant.parseFlags(EPYC), why)).isNull();
        assertThat(why).hasToString("CHORUS_NATIVE=neon is a build for aarch64, this is x86_64");
        assertThat(NativeVariant.NEON.floatKernels).isFalse();
        assertThat(NativeVariant.AVX2.floatKernels).isTrue();
    }

    /** Each flag of a build is needed: without any one of them the CPU does not get that build. */
    @Test
    void everyFlagOfABuildIsRequired() {
        for (String f : NativeVariant.AVX2.flags) {
            Set<String> cpu = NativeVariant.parseFlags(EPYC.replace(" " + f + " ", " "));
            assertThat(cpu).as(f).doesNotContain(f);
            assertThat(NativeVariant.best(cpu)).as("without " + f).isNull();
            assertThat(NativeVariant.AVX2.missing(cpu)).containsExactly(f);
        }
        for (String f : NativeVariant.AVX512.flags) {
            Set<String> cpu = NativeVariant.parseFlags(ICELAKE.replace(" " + f + " ", " "));
            assertThat(cpu).as(f).doesNotContain(f);
            assertThat(NativeVariant.best(cpu)).as("without " + f).isEqualTo(NativeVariant.AVX2.flags.contains(f) ? null : NativeVariant.AVX2);
        }
        for (String f : NativeVariant.NEON.flags) {
            Set<String> cpu = NativeVariant.parseFlags(GRAVITON.replace(" " + f + " ", " "));
            assertThat(cpu).as(f).doesNotContain(f);
            assertThat(NativeVariant.best(cpu)).as("without " + f).isNull();
        }
    }

    @Test
    void theLevelsAreThoseOfTheX8664Psabi() {
        assertThat(NativeVariant.AVX2.march).isEqualTo("x86-64-v3");
        assertThat(NativeVariant.AVX512.march).isEqualTo("x86-64-v4");
        assertThat(NativeVariant.AVX2.flags).containsExactlyInAnyOrder("pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm",
                "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave");
        assertThat(NativeVariant.AVX512.flags).containsAll(NativeVariant.AVX2.flags)
                .hasSize(NativeVariant.AVX2.flags.size() + 6)
                .contains("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx512_vnni");
        assertThat(NativeVariant.AVX512.options).containsExactly("-mavx512vnni");
        assertThat(NativeVariant.NEON.march).isEqualTo("armv8.2-a+dotprod");
        assertThat(NativeVariant.NEON.flags).containsExactlyInAnyOrder("fp", "asimd", "crc32", "atomics", "asimdrdm", "asimddp");
    }

    /** An AVX2 machine without MOVBE (some virtual CPUs hide it) gets the Java path, not SIGILL. */
    @Test
    void anAvx2CpuWithoutMovbeGetsTheJavaKernels() {
        Set<String> cpu = NativeVariant.parseFlags(EPYC.replace(" movbe ", " "));
        StringBuilder why = new StringBuilder();
        assertThat(NativeKernels.choose(null, "x86_64", cpu, why)).isNull();
        assertThat(why).hasToString("this CPU lacks movbe of x86-64-v3, the least the native build needs");
    }

    @Test
    void oldAndNonX86CpusGetTheJavaKernels() {
        StringBuilder why = new StringBuilder();
        assertThat(NativeKernels.choose(null, "x86_64", NativeVariant.parseFlags(SANDY), why)).isNull();
        assertThat(why).hasToString("this CPU lacks avx2 bmi1 bmi2 f16c fma abm movbe of x86-64-v3, the least the native build needs");
    }

    /** CHORUS_NATIVE=avx2 tests the AVX2 build on an AVX-512 machine; a build the CPU cannot run is refused. */
    @Test
    void aForcedBuildMustBeRunnable() {
        StringBuilder why = new StringBuilder();
        assertThat(NativeKernels.choose("avx2", "x86_64", NativeVariant.parseFlags(ICELAKE), why)).isEqualTo(NativeVariant.AVX2);
        assertThat(NativeKernels.choose("avx512", "x86_64", NativeVariant.parseFlags(ICELAKE), why)).isEqualTo(NativeVariant.AVX512);
        assertThat(NativeKernels.choose("auto", "x86_64", NativeVariant.parseFlags(ICELAKE), why)).isEqualTo(NativeVariant.AVX512);
        assertThat(why).isEmpty();
        assertThat(NativeKernels.choose("avx512", "x86_64", NativeVariant.parseFlags(EPYC), why)).isNull();
        assertThat(why).hasToString("CHORUS_NATIVE=avx512 asks for the x86-64-v4 build, but this CPU lacks avx512f avx512bw avx512cd avx512dq avx512vl avx512_vnni");
    }

    /** The builds are Linux x86-64 and aarch64: an ARM Mac, or Windows, gets the Java kernels. */
    @Test
    void otherPlatformsAreNamed() {
        assertThat(NativeKernels.unsupportedPlatform("Linux", "amd64")).isNull();
        assertThat(NativeKernels.unsupportedPlatform("Linux", "x86_64")).isNull();
        assertThat(NativeKernels.unsupportedPlatform("Linux", "aarch64")).isNull();
        assertThat(NativeKernels.unsupportedPlatform("Linux", "riscv64")).isEqualTo("no native build for linux/riscv64");
        assertThat(NativeKernels.unsupportedPlatform("Mac OS X", "aarch64")).isEqualTo("no native build for mac os x/aarch64");
        assertThat(NativeKernels.unsupportedPlatform("Windows 11", "amd64")).isEqualTo("no native build for windows 11/amd64");
    }

    /** core/pom.xml builds each library with the march and options this class checks for, and no others. */
    @Test
    void theBuildUsesTheseMarches() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        for (NativeVariant v : NativeVariant.values()) {
            String out = v.arch.equals("x86_64") ? "${native.out}" : "${native.out.arm}";
            int lib = pom.indexOf("<arg value=\"-o\"/><arg value=\"" + out + "/libchorus_kernels_" + v.id + ".so\"/>");
            assertThat(lib).as(v.id).isPositive();
            int march = pom.lastIndexOf("-march=", lib);
            String line = pom.substring(march, pom.indexOf('"', march));
            assertThat(line).as(v.id).startsWith("-march=" + v.march + " ");
            List<String> options = new ArrayList<>();
            for (String o : line.split(" ")) if (o.startsWith("-m") && !o.startsWith("-march=")) options.add(o);
            assertThat(options).as(v.id).containsExactlyElementsOf(v.options);
        }
    }
}
