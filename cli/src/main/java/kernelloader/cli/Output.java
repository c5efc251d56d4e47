package kernelloader.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.concurrent.ThreadLocalRandom;

import kernelloader.image.KernelFormatException;

/**
 * Where a command writes a file: OUT, or standard output for "-". A regular file is written
 * beside OUT (through a symbolic link: beside its target) and renamed onto it when complete, so
 * a failure or an interrupt never leaves half a file; it keeps an existing OUT's permissions, or
 * else gets the umask's. What is not a regular file (/dev/null, a pipe) is written to directly.
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
            if (System.out.checkError()) throw new IOException("-: writing standard output failed (closed pipe, full disk?)");
            return;
        }
        Path target = Files.exists(out) ? out.toRealPath() : out.toAbsolutePath();
        if (Files.exists(target) && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            try (OutputStream os = Files.newOutputStream(target)) {
                body.writeTo(os);
            }
            return;
        }
        Path tmp = temporaryBeside(target);
        try {
            try (OutputStream os = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
                body.writeTo(os);
            }
            PosixFileAttributeView was = Files.exists(target) ? Files.getFileAttributeView(target, PosixFileAttributeView.class) : null;
            if (was != null) Files.setPosixFilePermissions(tmp, was.readAttributes().permissions());
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A new empty file in {@code target}'s folder, made with the default permissions (the umask's). */
    private static Path temporaryBeside(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".part");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) throw e;
            }
        }
    }
}
