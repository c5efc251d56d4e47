package kernelloader.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;
import kernelloader.image.KernelFormatException;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Files larger than one array (whole eMMC dumps): made sparse here, so they cost no disk, and
 * read through the windows.
 */
class FileWindowsTest {

    /** A sparse file of {@code size} bytes holding {@code payload} at {@code at}. */
    private static Path sparse(String name, long size, byte[] payload, long at) throws Exception {
        Path f = TestFiles.tempDir("windows").resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(size);
            if (payload != null) {
                raf.seek(at);
                raf.write(payload);
            }
        }
        return f;
    }

    @Test
    @Tag("corpus")
    void kernelAtTheEndOfADumpLargerThan2GiB() throws Exception {
        Path image = Corpus.kernel("trixie-amd64-amd64").image();
        byte[] kernel = Files.readAllBytes(image);
        long size = (2L << 30) + (64L << 20);
        long at = size - kernel.length - 4096;
        Path dump = sparse("emmc.bin", size, kernel, at);
        try {
            KallsymsTable alone = Kernel.read(image, KernelOptions.DEFAULT).kallsyms().get();
            Kernel k = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Kernel.read(dump, KernelOptions.DEFAULT));
            KallsymsTable t = k.kallsyms().get();
            assertEquals(alone.size(), t.size());
            for (int i = 0; i < t.size(); i += 997) {
                assertEquals(alone.name(i), t.name(i));
                assertEquals(alone.address(i), t.address(i));
            }
            assertEquals(size, k.fileSize());
            // the window is the outermost layer, and holds the kernel where it was put
            Layer window = k.image().layers().get(0);
            assertEquals("window", window.kind());
            assertTrue(window.offset() <= at && at + kernel.length <= window.offset() + window.length(), window.toString());
            assertFalse(k.verification().get().refused());
        } finally {
            Files.deleteIfExists(dump);
        }
    }

    @Test
    void nothingInAnyWindowIsOneLine() throws Exception {
        long size = (2L << 30) + (200L << 20);
        Path dump = sparse("zeros.bin", size, null, 0);
        try {
            Kernel k = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Kernel.read(dump, KernelOptions.DEFAULT));
            KernelFormatException e = assertThrows(KernelFormatException.class, () -> k.kallsyms().get());
            String msg = e.getMessage();
            assertFalse(msg.contains("\n"), msg);
            assertTrue(msg.startsWith(dump + ": no kallsyms table in any of the 2 windows of 1252 MiB a " + size + "-byte file"), msg);
            assertTrue(msg.contains("(0x0-0x4e400000, 0x3e400000-0x8c800000)"), msg);
        } finally {
            Files.deleteIfExists(dump);
        }
    }
}
