package io.chorus.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Address space reserved up front and backed by physical memory only where it is written: a private
 * anonymous {@code mmap} called through FFM. The kernel hands out zero pages on first touch, so the
 * whole range reads as zeros and costs no resident memory until written; nothing is zeroed here.
 * {@code Arena.allocate} would zero (touch) every byte at once.
 *
 * <p>Linux and macOS only (the flag values differ per system and are set here for each); elsewhere
 * {@link #reserve} returns null and the caller allocates as it goes.
 */
public final class ReservedMemory {
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2;
    private static final long MAP_FAILED = -1L;

    private static final MethodHandle MMAP; // void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    private static final MethodHandle MUNMAP; // int munmap(void *addr, size_t len)
    private static final int FLAGS;

    static {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        int flags = -1;
        if (os.contains("linux")) {
            // MAP_ANONYMOUS is 0x20 on every architecture a JDK 25 runs on; MAP_NORESERVE is 0x4000 except
            // on powerpc (0x40). Without NORESERVE the mapping still commits nothing until touched.
            flags = MAP_PRIVATE | 0x20 | (arch.startsWith("ppc") ? 0x40 : 0x4000);
        } else if (os.contains("mac")) {
            flags = MAP_PRIVATE | 0x1000; // MAP_ANON
        }
        MethodHandle mmap = null, munmap = null;
        if (flags != -1) {
            try {
                Linker linker = Linker.nativeLinker();
                Optional<MemorySegment> m = linker.defaultLookup().find("mmap");
                Optional<MemorySegment> u = linker.defaultLookup().find("munmap");
                if (m.isPresent() && u.isPresent()) {
                    mmap = linker.downcallHandle(m.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                    munmap = linker.downcallHandle(u.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG));
                }
            } catch (RuntimeException e) {
                mmap = null; // no native access here (e.g. a restricted runtime): the caller falls back
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
        FLAGS = flags;
    }

    private ReservedMemory() {}

    /** Whether {@link #reserve} can work on this system. */
    public static boolean available() { return MMAP != null; }

    /**
     * Reserves {@code bytes} of zero-reading memory, unmapped when {@code arena} closes; null when this
     * system has no anonymous mmap or the kernel refuses the range (then the caller allocates as it goes).
     */
    public static MemorySegment reserve(long bytes, Arena arena) {
        if (MMAP == null || bytes <= 0) return null;
        MemorySegment addr;
        try {
            addr = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ | PROT_WRITE, FLAGS, -1, 0L);
        } catch (Throwable e) {
            return null;
        }
        if (addr.address() == MAP_FAILED || addr.address() == 0) return null;
        return addr.reinterpret(bytes, arena, segment -> unmap(segment, bytes));
    }

    private static void unmap(MemorySegment segment, long bytes) {
        try {
            int rc = (int) MUNMAP.invokeExact(segment, bytes);
            if (rc != 0) throw new IllegalStateException("munmap failed for " + bytes + " bytes");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** This process's resident memory (VmRSS of /proc/self/status), or empty where that file is absent. */
    public static OptionalLong residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024); // always in kB
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            // not Linux, or /proc is hidden: no figure
        }
        return OptionalLong.empty();
    }
}
