package kernelloader.image;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * An output buffer with a hard cap, so no input can make us allocate without bound.
 *
 * <p>Output is gathered in 1 MiB chunks and joined once into an array of exactly its size: a
 * doubling buffer would hold up to three times the output at its last growth and keep twice
 * it afterwards, and a decoded kernel is tens of MB.
 *
 * <p>Past {@link #FREE} bytes, output may grow only with the input consumed: a stream that has
 * produced more than {@link #RATIO} times the bytes it read is a bomb (a kernel compresses 3 to
 * 6 times; zeros 1000 times), and stops there, whatever the cap its place in the file allows.
 */
final class BoundedOutput {
    private static final int CHUNK = 1 << 20;
    /** Output produced before the ratio is looked at: any real kernel's start, whatever it holds. */
    static final long FREE = 32L << 20;
    /** Largest ratio of output to input consumed past {@link #FREE}. */
    static final long RATIO = 32;

    private final long limit;
    private final List<byte[]> chunks = new ArrayList<>();
    private byte[] current;
    private int used;
    private long size;
    private boolean limitReached;
    private boolean ratioExceeded;
    private byte[] joined;

    BoundedOutput(long limit) {
        this.limit = Math.min(limit, Integer.MAX_VALUE - 64);
    }

    /** Reads {@code in} to its end, the limit, or the ratio; {@code consumed} tells how much of its input it has read. */
    void readFrom(InputStream in, LongSupplier consumed) throws IOException {
        while (true) {
            if (current == null || used == current.length) {
                if (size >= limit) {
                    limitReached = in.read() >= 0;
                    return;
                }
                if (size >= FREE && size > RATIO * consumed.getAsLong()) {
                    ratioExceeded = in.read() >= 0;
                    if (ratioExceeded) return;
                }
                current = new byte[(int) Math.min(CHUNK, limit - size)];
                chunks.add(current);
                used = 0;
            }
            int n = in.read(current, used, current.length - used);
            if (n < 0) return;
            used += n;
            size += n;
        }
    }

    /** The output, in an array of exactly {@link #size()} bytes; the chunks are let go. */
    byte[] array() {
        if (joined == null) {
            joined = new byte[(int) size];
            int at = 0;
            for (byte[] c : chunks) {
                int n = (int) Math.min(c.length, size - at);
                System.arraycopy(c, 0, joined, at, n);
                at += n;
            }
            chunks.clear();
            current = null;
        }
        return joined;
    }

    int size() { return (int) size; }
    boolean limitReached() { return limitReached; }
    boolean ratioExceeded() { return ratioExceeded; }
}
