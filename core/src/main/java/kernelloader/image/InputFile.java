package kernelloader.image;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Whether a path names a file of bytes we can read, and if not, what it is instead: a
 * directory, a named pipe, a device such as /dev/zero (endless, or a disk: copy what you need
 * with dd first) are each said as what they are, not as "no such file".
 */
public final class InputFile {
    private InputFile() {}

    /** Throws one sentence naming what {@code file} is when it is not a readable regular file. */
    public static void check(Path file) throws KernelFormatException {
        String why = whyNot(file);
        if (why != null) throw new KernelFormatException(file + ": " + why);
    }

    /** Null for a readable regular file (through symbolic links), else what it is. */
    public static String whyNot(Path file) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            if (Files.isSymbolicLink(file)) return "a symbolic link to nothing (" + target(file) + ")";
            return Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? "cannot be looked at (" + e.getMessage() + ")" : "no such file";
        }
        if (a.isDirectory()) return "a directory, not a file (sweep reads every file under a directory)";
        if (a.isOther()) {
            String kind = kind(file);
            return kind.equals("fifo") ? "a named pipe (FIFO), not a file: give - and redirect it to read it as standard input"
                    : kind.equals("block") || kind.equals("char")
                            ? "a device, not a file (copy what you need from it with dd first)"
                            : "not a regular file (" + kind + ")";
        }
        if (!Files.isReadable(file)) return "not readable (permissions)";
        return null;
    }

    /** Bytes read at once: what the channel's temporary direct buffer holds (see {@link #read}). */
    private static final int CHUNK = 8 << 20;

    /**
     * The bytes of {@code file} from {@code from} to {@code end}, in one array of exactly that size
     * and nothing else: Files.readAllBytes asks the channel for the whole file in one read,
     * which the JDK serves through a temporary direct buffer of the same size (a 2 GB file
     * cost 4 GB), so the file is read in chunks instead.
     */
    public static byte[] read(Path file, long from, long end) throws IOException {
        byte[] data = new byte[Math.toIntExact(end - from)];
        read(file, from, end, data);
        return data;
    }

    /** The bytes of {@code file} from {@code from} to {@code end} into the start of {@code data}. */
    public static void read(Path file, long from, long end, byte[] data) throws IOException {
        int length = Math.toIntExact(end - from);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long pos = from;
            int off = 0;
            while (off < length) {
                int n = ch.read(ByteBuffer.wrap(data, off, Math.min(CHUNK, length - off)), pos);
                if (n < 0) throw new EOFException(file + ": shorter than its size said (it ended at " + (from + off) + " bytes, before " + end + ")");
                off += n;
                pos += n;
            }
        }
    }

    private static String kind(Path file) {
        try {
            // the file type bits of st_mode, where the file system has the "unix" view (Linux)
            if (!file.getFileSystem().supportedFileAttributeViews().contains("unix")) return "special file";
            Object mode = Files.getAttribute(file, "unix:mode");
            int m = ((Integer) mode) & 0170000;
            return switch (m) {
                case 0010000 -> "fifo";
                case 0020000 -> "char";
                case 0060000 -> "block";
                case 0140000 -> "socket";
                default -> "special file";
            };
        } catch (IOException e) {
            return "special file";
        }
    }

    private static String target(Path link) {
        try {
            return "-> " + Files.readSymbolicLink(link);
        } catch (IOException e) {
            return "unreadable";
        }
    }
}
