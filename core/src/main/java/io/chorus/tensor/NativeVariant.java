package io.chorus.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The builds of the native kernels and the CPU features each one is compiled for, in one place:
 * core/pom.xml builds {@code libchorus_kernels_<id>.so} with {@code gcc -march=<march> <options>}, and a
 * build is loaded only on a CPU that has every instruction set that march and those options let gcc
 * use (the x86-64 psABI levels; Armv8.2-A), so a CPU that lacks one gets the Java kernels instead of SIGILL.
 *
 * <p>Flags are spelled as Linux prints them in /proc/cpuinfo ("flags" on x86, "Features" on Arm):
 * SSE3 is {@code pni}, LAHF/SAHF {@code lahf_lm}, LZCNT {@code abm}, Arm's SDOT/UDOT {@code asimddp}.
 * The x86-64 baseline (SSE2, CMOV, CX8, FXSR, MMX) is present on every 64-bit x86 CPU and not listed.
 *
 * <p>The Arm build holds only the 8-bit activation kernels (chorus_int8_neon.c); float weights and
 * the exact float path take the Java kernels there.
 */
enum NativeVariant {
    AVX512("avx512", "x86_64", "x86-64-v4", List.of("-mavx512vnni"), V.V4_VNNI, true),
    AVX2("avx2", "x86_64", "x86-64-v3", List.of(), V.V3, true),
    NEON("neon", "aarch64", "armv8.2-a+dotprod", List.of(), V.ARMV82_DOTPROD, false);

    /** Holder for the level lists (enum constants cannot refer to static fields of their own class). */
    private static final class V {
        /** x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B, LAHF/SAHF. */
        static final List<String> V2 = List.of("pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm");
        /** x86-64-v3: v2 + AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE, XSAVE. */
        static final List<String> V3 = concat(V2, List.of("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"));
        /** x86-64-v4: v3 + AVX-512 F, BW, CD, DQ, VL; plus AVX-512 VNNI (-mavx512vnni, vpdpbusd). */
        static final List<String> V4_VNNI = concat(V3, List.of("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx512_vnni"));
        /**
         * Armv8.2-A: FP and Advanced SIMD, with v8.1's mandatory CRC32, LSE atomics and RDM; plus the
         * dot product extension (+dotprod: SDOT/UDOT).
         */
        static final List<String> ARMV82_DOTPROD = List.of("fp", "asimd", "crc32", "atomics", "asimdrdm", "asimddp");

        private static List<String> concat(List<String> a, List<String> b) {
            List<String> all = new ArrayList<>(a);
            all.addAll(b);
            return List.copyOf(all);
        }
    }

    /** Name in the library file and in {@code CHORUS_NATIVE}. */
    final String id;
    /** The machine it runs on, as in the resource folder {@code native/linux-<arch>/}. */
    final String arch;
    /** gcc {@code -march} value the library is built with. */
    final String march;
    /** Further gcc options that enable instructions (each one's flag is in {@link #flags}). */
    final List<String> options;
    /** /proc/cpuinfo flags that march and options let gcc use. */
    final List<String> flags;
    /** Whether the build has the float kernels (chorus_kernels.c) besides the 8-bit ones. */
    final boolean floatKernels;

    NativeVariant(String id, String arch, String march, List<String> options, List<String> flags, boolean floatKernels) {
        this.id = id;
        this.arch = arch;
        this.march = march;
        this.options = options;
        this.flags = flags;
        this.floatKernels = floatKernels;
    }

    /** The build with the fewest requirements for a machine ("x86_64", "aarch64"), or null when there is none. */
    static NativeVariant least(String arch) {
        NativeVariant least = null;
        for (NativeVariant v : values()) if (v.arch.equals(arch)) least = v;
        return least;
    }

    /** The flags of this build that the CPU lacks (empty when it can run the build). */
    List<String> missing(Set<String> cpu) {
        List<String> m = new ArrayList<>();
        for (String f : flags) if (!cpu.contains(f)) m.add(f);
        return m;
    }

    /** The fastest build the CPU can run, or null when it can run none. */
    static NativeVariant best(Set<String> cpu) {
        for (NativeVariant v : values()) if (v.missing(cpu).isEmpty()) return v;
        return null;
    }

    /** Every build the CPU can run, fastest first. */
    static List<NativeVariant> runnable(Set<String> cpu) {
        List<NativeVariant> r = new ArrayList<>();
        for (NativeVariant v : values()) if (v.missing(cpu).isEmpty()) r.add(v);
        return r;
    }

    /** The build called {@code id} ("avx2", "avx512", "neon"), or null. */
    static NativeVariant byId(String id) {
        for (NativeVariant v : values()) if (v.id.equals(id)) return v;
        return null;
    }

    /** The flags of the first "flags" (x86) or "Features" (Arm) line of /proc/cpuinfo text (empty if there is none). */
    static Set<String> parseFlags(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags") || line.startsWith("Features")) {
                int colon = line.indexOf(':');
                Set<String> s = new HashSet<>();
                for (String f : line.substring(colon + 1).trim().split("\\s+")) if (!f.isEmpty()) s.add(f.toLowerCase(Locale.ROOT));
                return s;
            }
        }
        return Set.of();
    }

    /** This CPU's flags from /proc/cpuinfo (empty where it cannot be read). */
    static Set<String> cpuFlags() {
        try {
            return parseFlags(Files.readString(Path.of("/proc/cpuinfo")));
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }
}
