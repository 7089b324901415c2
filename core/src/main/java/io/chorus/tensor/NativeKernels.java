package io.chorus.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Optional native matmul kernels (core/src/main/c/chorus_kernels.c, built by Maven with gcc into
 * {@code native/linux-x86_64/} on the class path in an AVX-512 (with VNNI) and an AVX2 variant; on
 * aarch64 a NEON + dot product build of the 8-bit kernels only, from {@code native/linux-aarch64/}),
 * called through FFM. The Java kernels remain the always-available fallback: when the library is missing, the
 * CPU lacks the instructions, loading fails (one line on stderr), or {@code CHORUS_NATIVE=0} /
 * {@code -Dchorus.native=false}, every call takes the Java path. {@code CHORUS_NATIVE=avx2},
 * {@code avx512} or {@code neon} forces a variant (for testing; still only where the CPU has every instruction set
 * that build is compiled for, see {@link NativeVariant});
 * {@code CHORUS_NATIVE_LIB=/path/lib.so} loads that file instead of the bundled one.
 *
 * <p>The native kernels compute in float32 from float activations (no activation quantisation),
 * and each output is computed by the same operations whatever the batch size, so results do not
 * depend on batching. Threading stays in Java: each worker calls the kernel on its row range.
 *
 * <p>The library is copied out of the class path into a per-user cache file named by its content
 * hash ({@code $CHORUS_CACHE/native}, else {@code ~/.cache/chorus/native}, else a new private
 * temporary folder), so concurrent processes and upgrades never overwrite a loaded file. A cache
 * folder is used only if it is owned by this user and no one else can write it, and a file found there
 * is linked only if its SHA-256 matches the bundled library's (see {@link #extract}).
 */
public final class NativeKernels {
    private NativeKernels() {}

    private static final String DESCRIPTION;
    private static final MethodHandle Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, F16, BF16, F32;
    private static final MethodHandle Q4_1, Q5_0, Q5_1, IQ4_NL;
    private static final MethodHandle Q2_K, Q3_K, IQ4_XS;
    /** The loaded library, or null: other kernel families ({@link NativeInt8Kernels}) find their symbols in it. */
    private static volatile SymbolLookup library;

    /** Exported kernels, chorus_matmul_<name>, in the order of the handles above. */
    private static final String[] NAMES = {
        "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "f16", "bf16", "f32",
        "q4_1", "q5_0", "q5_1", "iq4_nl",
        "q2_k", "q3_k", "iq4_xs",
    };

    static {
        String desc;
        MethodHandle[] h = new MethodHandle[NAMES.length];
        try {
            desc = load(h);
        } catch (Throwable e) {
            System.err.println("chorus: native kernels unavailable (" + e + "); using Java kernels");
            desc = "Java kernels (native failed to load: " + e.getMessage() + ")";
            h = new MethodHandle[NAMES.length];
        }
        DESCRIPTION = desc;
        Q8_0 = h[0]; Q4_0 = h[1]; Q4_K = h[2]; Q5_K = h[3]; Q6_K = h[4]; F16 = h[5]; BF16 = h[6]; F32 = h[7];
        Q4_1 = h[8]; Q5_0 = h[9]; Q5_1 = h[10]; IQ4_NL = h[11];
        Q2_K = h[12]; Q3_K = h[13]; IQ4_XS = h[14];
    }

    /** True when native kernels are loaded and enabled. */
    public static boolean available() {
        return Q8_0 != null;
    }

    /** The loaded native library (with float kernels, or only the 8-bit ones on Arm), or null. */
    static SymbolLookup library() {
        return library;
    }

    /** One line for start-up logs: which kernels run and why. */
    public static String description() {
        return DESCRIPTION;
    }

    /** True when {@code type} has a native kernel that will be used. */
    public static boolean supports(GgmlType type) {
        return handle(type) != null;
    }

    private static MethodHandle handle(GgmlType type) {
        return switch (type) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q4_1 -> Q4_1;
            case Q5_0 -> Q5_0;
            case Q5_1 -> Q5_1;
            case IQ4_NL -> IQ4_NL;
            case Q4_K -> Q4_K;
            case Q5_K -> Q5_K;
            case Q6_K -> Q6_K;
            case F16 -> F16;
            case BF16 -> BF16;
            case F32 -> F32;
            case Q2_K -> Q2_K;
            case Q3_K -> Q3_K;
            case IQ4_XS -> IQ4_XS;
            default -> null;
        };
    }

    /**
     * Native {@link WeightMatrix#matmul(float[], int, float[], int, int, int)}: for r in [r0, r1),
     * t in [0, T): {@code out[t * outStride + r] = W[r] . x[t]}. Requires {@link #supports}.
     */
    public static void matmul(WeightMatrix w, float[] x, int T, float[] out, int outStride, int r0, int r1) {
        matmul(w, x, T, out, outStride, r0, r1, rowsPerCall(w.cols, T));
    }

    /** {@link #matmul} in calls of at most {@code step} rows each. */
    static void matmul(WeightMatrix w, float[] x, int T, float[] out, int outStride, int r0, int r1, int step) {
        if (r0 < 0 || r1 > w.rows || r0 > r1 || T < 0
                || (long) T * w.cols > x.length || (T > 0 && r1 > r0 && (long) (T - 1) * outStride + r1 > out.length)) {
            throw new IndexOutOfBoundsException("matmul " + w.name + ": rows [" + r0 + "," + r1 + ") T=" + T);
        }
        if (T == 0 || r0 == r1) return;
        MemorySegment xs = HeapSegments.of(x), os = HeapSegments.of(out);
        // A critical call holds off safepoints (GC, deoptimisation) until it returns, so a long
        // prefill product runs as several calls over consecutive row ranges. Each output row is
        // computed whole by one call, so the split changes no result.
        for (int a = r0; a < r1; a += step) call(w, xs, T, os, outStride, a, Math.min(r1, a + step));
    }

    /** Rows per critical call: about {@link #MACS_PER_CALL} multiply-adds, in whole 16-row tiles. */
    static int rowsPerCall(int cols, int T) {
        long perRow = (long) cols * (T + 8); // + 8: a decode row also costs its memory traffic
        long rows = Math.max(16, MACS_PER_CALL / perRow / 16 * 16);
        return (int) Math.min(Integer.MAX_VALUE, rows);
    }

    /** Work per critical call: ~1 ms on one core at float32 FMA speed, a few hundred microseconds of decode. */
    static final long MACS_PER_CALL = 1L << 26;

    private static void call(WeightMatrix w, MemorySegment xs, int T, MemorySegment os, int outStride, int r0, int r1) {
        MemorySegment ws = w.kernelData;
        long rb = w.rowBytes();
        try {
            // One call site per handle so each invokeExact sees a constant handle.
            switch (w.type()) {
                case Q8_0 -> Q8_0.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q4_0 -> Q4_0.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q4_1 -> Q4_1.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q5_0 -> Q5_0.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q5_1 -> Q5_1.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case IQ4_NL -> IQ4_NL.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q4_K -> Q4_K.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q5_K -> Q5_K.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q6_K -> Q6_K.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case F16 -> F16.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case BF16 -> BF16.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case F32 -> F32.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q2_K -> Q2_K.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case Q3_K -> Q3_K.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                case IQ4_XS -> IQ4_XS.invokeExact(ws, rb, w.cols, xs, T, os, outStride, r0, r1);
                default -> throw new IllegalArgumentException("no native kernel for " + w.type());
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- loading ----

    private static String load(MethodHandle[] h) throws Throwable {
        String env = System.getenv("CHORUS_NATIVE");
        if ("0".equals(env) || "false".equalsIgnoreCase(env)
                || "false".equalsIgnoreCase(System.getProperty("chorus.native", "true"))) {
            return "Java kernels, " + FloatTiles.F.vectorBitSize() + "-bit vectors (native disabled by CHORUS_NATIVE=0 / chorus.native=false)";
        }
        String platform = unsupportedPlatform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        if (platform != null) return javaPath(platform);
        StringBuilder why = new StringBuilder();
        NativeVariant chosen = choose(env, machine(System.getProperty("os.arch", "")), NativeVariant.cpuFlags(), why);
        if (chosen == null) return javaPath(why.toString());
        String variant = chosen.id;
        String resource = "/native/linux-" + chosen.arch + "/libchorus_kernels_" + variant + ".so";
        Path file;
        String override = System.getenv("CHORUS_NATIVE_LIB"); // a locally built library, for kernel work
        if (override != null && !override.isBlank()) {
            file = Path.of(override).toAbsolutePath();
        } else {
            byte[] lib;
            try (InputStream in = NativeKernels.class.getResourceAsStream(resource)) {
                if (in == null) return javaPath("no native library built; gcc missing at build time?");
                lib = in.readAllBytes();
            }
            file = extract(lib, variant, cacheDirs());
        }
        SymbolLookup lookup = SymbolLookup.libraryLookup(file, Arena.global());
        Linker linker = Linker.nativeLinker();
        MemorySegment v = lookup.find("chorus_variant").orElseThrow(() -> new IllegalStateException(file + " lacks chorus_variant"));
        MemorySegment str = (MemorySegment) linker.downcallHandle(v, FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
        String built = str.reinterpret(32).getString(0);
        if (!built.equals(variant)) throw new IllegalStateException(file + " is the " + built + " build, expected " + variant);
        if (!chosen.floatKernels) {
            library = lookup;
            return "native 8-bit kernels (" + variant + "); Java float kernels, " + FloatTiles.F.vectorBitSize() + "-bit vectors";
        }
        FunctionDescriptor fd = FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
        // critical(true): no thread-state transition, and heap float[] may be passed in place; the
        // price is that safepoints wait for the call, which is why matmul bounds each call's work.
        Linker.Option critical = Linker.Option.critical(true);
        for (int i = 0; i < NAMES.length; i++) {
            MemorySegment sym = lookup.find("chorus_matmul_" + NAMES[i])
                    .orElseThrow(() -> new IllegalStateException(file + " lacks chorus_matmul_*"));
            h[i] = linker.downcallHandle(sym, fd, critical);
        }
        library = lookup;
        return "native kernels (" + variant + ") for " + String.join(" ", NAMES).toUpperCase(Locale.ROOT);
    }

    /** Why there is no native build for this OS and architecture (the builds are Linux x86-64 and aarch64), or null. */
    static String unsupportedPlatform(String osName, String arch) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.contains("linux") && machine(arch) != null) return null;
        return "no native build for " + os + "/" + arch;
    }

    /** The native build's name for a JVM os.arch ("x86_64", "aarch64"), or null. */
    static String machine(String arch) {
        return switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
    }

    /**
     * The build to load on a CPU with these /proc/cpuinfo flags: the one {@code env}
     * ({@code CHORUS_NATIVE}) names (avx2 or avx512), else the fastest the CPU can run; null, with the reason
     * appended to {@code why}, when the CPU cannot run it.
     */
    static NativeVariant choose(String env, String machine, java.util.Set<String> cpu, StringBuilder why) {
        NativeVariant forced = env == null ? null : NativeVariant.byId(env);
        if (forced != null && !forced.arch.equals(machine)) {
            why.append("CHORUS_NATIVE=").append(env).append(" is a build for ").append(forced.arch).append(", this is ").append(machine);
            return null;
        }
        if (forced != null) {
            NativeVariant v = forced;
            List<String> missing = v.missing(cpu);
            if (!missing.isEmpty()) {
                why.append("CHORUS_NATIVE=").append(env).append(" asks for the ").append(v.march)
                        .append(" build, but this CPU lacks ").append(String.join(" ", missing));
                return null;
            }
            return v;
        }
        NativeVariant v = NativeVariant.best(cpu);
        if (v != null && !v.arch.equals(machine)) v = null;
        if (v == null) {
            NativeVariant least = NativeVariant.least(machine);
            why.append("this CPU lacks ").append(String.join(" ", least.missing(cpu))).append(" of ")
                    .append(least.march).append(", the least the native build needs");
        }
        return v;
    }

    /**
     * The description of the Java path taken for a reason the user may not expect (platform or
     * CPU), also printed as one line on stderr so that start-up logs say why.
     */
    private static String javaPath(String why) {
        String d = "Java kernels, " + FloatTiles.F.vectorBitSize() + "-bit vectors (" + why + ")";
        System.err.println("chorus: " + d);
        return d;
    }

    /**
     * Writes {@code lib} where it can be linked safely: in the first cache folder that is (or can be
     * made) a real directory owned by this user that no one else can write, else in a new private
     * temporary folder. A file already there is linked only if its bytes hash to the library's
     * SHA-256; otherwise it is replaced. Nothing is trusted by its name or size: another local user
     * could have planted it, and whoever can write the folder decides what gets linked.
     */
    static Path extract(byte[] lib, String variant, List<Path> cacheDirs) throws IOException {
        byte[] digest = sha256(lib);
        String name = "libchorus_kernels_" + variant + "-" + HexFormat.of().formatHex(digest).substring(0, 16) + ".so";
        for (Path dir : cacheDirs) {
            try {
                if (!privateDirectory(dir)) continue;
                Path file = dir.resolve(name);
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && MessageDigest.isEqual(sha256(Files.readAllBytes(file)), digest)) {
                    return file;
                }
                return write(dir, name, lib);
            } catch (IOException e) {
                // an unusable folder: try the next one
            }
        }
        Path dir = Files.createTempDirectory("chorus-native-", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        dir.toFile().deleteOnExit();
        Path file = write(dir, name, lib);
        file.toFile().deleteOnExit();
        return file;
    }

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /** Creates {@code dir} owner-only if absent; true when it is a real directory of this user that no one else can write. */
    static boolean privateDirectory(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException raced) {
                // someone made it meanwhile: judged below like any existing folder
            }
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory() || a.isSymbolicLink()) return false;
        if (!a.owner().getName().equals(System.getProperty("user.name"))) return false;
        Set<PosixFilePermission> p = a.permissions(); // reading is harmless; writing would let others plant code
        return !p.contains(PosixFilePermission.GROUP_WRITE) && !p.contains(PosixFilePermission.OTHERS_WRITE);
    }

    private static Path write(Path dir, String name, byte[] lib) throws IOException {
        Path tmp = Files.createTempFile(dir, name, ".tmp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, lib);
        Path file = dir.resolve(name);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the library may be cached, most preferred first (a private temporary folder comes after). */
    private static List<Path> cacheDirs() {
        List<Path> dirs = new java.util.ArrayList<>();
        String env = System.getenv("CHORUS_CACHE");
        if (env != null && !env.isBlank()) dirs.add(Path.of(env, "native"));
        String home = System.getProperty("user.home");
        if (home != null && !home.isBlank()) dirs.add(Path.of(home, ".cache", "chorus", "native"));
        return dirs;
    }
}
