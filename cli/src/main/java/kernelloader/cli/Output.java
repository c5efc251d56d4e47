package kernelloader.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import kernelloader.image.KernelFormatException;

/**
 * Where a command writes a file: OUT, or standard output for "-". A file is written beside OUT
 * and renamed onto it when complete, so a failure or an interrupt never leaves half a file.
 */
final class Output {
    /** Writes the bytes to the stream it is given. */
    interface Body {
        void writeTo(OutputStream out) throws IOException, KernelFormatException;
    }

    private Output() {}

    static void write(Path out, Body body) throws IOException, KernelFormatException {
        if (out.toString().equals("-")) {
            body.writeTo(System.out);
            System.out.flush();
            return;
        }
        Path abs = out.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".part");
        try {
            try (OutputStream os = Files.newOutputStream(tmp)) {
                body.writeTo(os);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static boolean isStdout(Path out) {
        return out.toString().equals("-");
    }
}
