package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The native library is linked only from a private folder, and only with the bundled bytes. */
class NativeLibraryExtractTest {
    private static final byte[] LIB = "pretend this is an ELF shared object".getBytes();
    @TempDir Path tmp;

    @Test
    void createsAnOwnerOnlyFolderAndWritesTheLibrary() throws Exception {
        Path dir = tmp.resolve("cache").resolve("native");
        Path file = NativeKernels.extract(LIB, "avx2", List.of(dir));
        assertThat(file.getParent()).isEqualTo(dir);
        assertThat(Files.readAllBytes(file)).isEqualTo(LIB);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(NativeKernels.extract(LIB, "avx2", List.of(dir))).isEqualTo(file); // found again by its hash
    }

    @Test
    void aPlantedFileOfTheRightNameAndSizeIsReplaced() throws Exception {
        Path dir = tmp.resolve("native");
        Path file = NativeKernels.extract(LIB, "avx2", List.of(dir));
        byte[] planted = LIB.clone();
        planted[3] ^= 1; // same name, same size, other bytes
        Files.write(file, planted);
        Path again = NativeKernels.extract(LIB, "avx2", List.of(dir));
        assertThat(again).isEqualTo(file);
        assertThat(Files.readAllBytes(again)).isEqualTo(LIB);
    }

    @Test
    void aFolderOthersCanWriteIsNotUsed() throws Exception {
        Path shared = tmp.resolve("shared");
        Files.createDirectory(shared);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path symlinked = tmp.resolve("link");
        Files.createSymbolicLink(symlinked, Files.createDirectory(tmp.resolve("target")));
        Path file = NativeKernels.extract(LIB, "avx512", List.of(shared, symlinked));
        assertThat(file.startsWith(shared)).isFalse();
        assertThat(file.startsWith(symlinked)).isFalse();
        assertThat(Files.readAllBytes(file)).isEqualTo(LIB);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
        assertThat(NativeKernels.privateDirectory(shared)).isFalse();
    }
}
