package kernelloader.image;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One .xz stream decoded by the system's {@code xz} (XZ Utils, liblzma), where there is one:
 * about twice as fast as xz-java on a kernel's 20 MB (0.35 s against 0.7 s for armhf), which is
 * most of what reading an XZ-compressed kernel costs. Only a clean decode of a whole stream is
 * returned; for anything else (no xz, a stream without its footer, an error, a bomb, a cap)
 * the caller decodes with xz-java, so damaged input gets the one account xz-java gives. Set
 * the system property {@code kernelloader.xz=java} to use xz-java always.
 */
final class SystemXz {
    private SystemXz() {}

    static final String PROPERTY = "kernelloader.xz";
    /** Cleared when xz cannot be started: no second attempt in this JVM. */
    private static volatile boolean available = !"java".equals(System.getProperty(PROPERTY));

    /** The stream at {@code at} decoded whole, or null where xz-java should decode it. */
    static Compression.Decoded decode(byte[] data, int at, int end, long limit) {
        if (!available) return null;
        int streamEnd = XzStreamEnd.of(data, at, end);
        if (streamEnd < 0) return null;
        Process p;
        try {
            p = new ProcessBuilder("xz", "--decompress", "--stdout", "--single-stream", "--quiet", "--quiet",
                    "--memlimit-decompress=" + Compression.DICTIONARY_LIMIT_KIB + "KiB")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException | RuntimeException e) {
            available = false;
            return null;
        }
        AtomicLong written = new AtomicLong();
        Thread feeder = new Thread(() -> {
            try (OutputStream in = p.getOutputStream()) {
                for (int pos = at; pos < streamEnd; ) {
                    int n = Math.min(1 << 20, streamEnd - pos);
                    in.write(data, pos, n);
                    pos += n;
                    written.addAndGet(n);
                }
            } catch (IOException e) {
                // xz stopped reading (it failed, or was stopped at a cap): its exit status says which
            }
        }, "xz input");
        feeder.setDaemon(true);
        feeder.start();
        BoundedOutput out = new BoundedOutput(limit);
        try {
            out.readFrom(p.getInputStream(), written::get);
            if (out.limitReached() || out.ratioExceeded()) return null;
            if (p.waitFor() != 0) return null;
            long input = streamEnd - at;
            // xz-java looks at the ratio as it goes; a whole stream past it is left to xz-java too
            if (out.size() >= BoundedOutput.FREE && out.size() > BoundedOutput.RATIO * input) return null;
            return new Compression.Decoded(Compression.XZ, at, streamEnd - at, out.array(), out.size(), null);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            p.destroy();
        }
    }
}
