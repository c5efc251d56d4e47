package kernelloader.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import kernelloader.TestFiles;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/** What a path is when it is no file of bytes, said as what it is (a FIFO, a device, a directory), and read without hanging. */
class InputFileTest {
    @Test
    void eachKindOfNotAFileIsNamed() throws Exception {
        Path dir = TestFiles.tempDir("inputs");
        Path fifo = dir.resolve("pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo");
        Path file = Files.write(dir.resolve("file"), new byte[] {1});
        Path dangling = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("gone"));

        assertNull(InputFile.whyNot(file));
        assertEquals("no such file", InputFile.whyNot(dir.resolve("absent")));
        assertTrue(InputFile.whyNot(dir).startsWith("a directory"), InputFile.whyNot(dir));
        assertTrue(InputFile.whyNot(fifo).startsWith("a named pipe (FIFO)"), InputFile.whyNot(fifo));
        assertTrue(InputFile.whyNot(Path.of("/dev/zero")).startsWith("a device"), InputFile.whyNot(Path.of("/dev/zero")));
        assertTrue(InputFile.whyNot(dangling).startsWith("a symbolic link to nothing"), InputFile.whyNot(dangling));

        // reading one is the one line, at once: a FIFO nobody writes to would block a read forever
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> Kernel.read(fifo, KernelOptions.DEFAULT));
        assertEquals(fifo + ": " + InputFile.whyNot(fifo), e.getMessage());
        e = assertThrows(KernelFormatException.class, () -> Kernel.read(Path.of("/dev/zero"), KernelOptions.DEFAULT));
        assertTrue(e.getMessage().startsWith("/dev/zero: a device"), e.getMessage());
    }
}
