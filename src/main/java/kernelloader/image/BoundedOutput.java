package kernelloader.image;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** A growable output buffer with a hard cap, so no input can make us allocate without bound. */
final class BoundedOutput {
    private final long limit;
    private byte[] buf = new byte[1 << 16];
    private int size;
    private boolean limitReached;

    BoundedOutput(long limit) {
        this.limit = Math.min(limit, Integer.MAX_VALUE - 64);
    }

    void readFrom(InputStream in) throws IOException {
        while (true) {
            if (size == buf.length) {
                if (size >= limit) {
                    limitReached = in.read() >= 0;
                    return;
                }
                buf = Arrays.copyOf(buf, (int) Math.min(limit, (long) buf.length * 2));
            }
            int n = in.read(buf, size, buf.length - size);
            if (n < 0) return;
            size += n;
        }
    }

    byte[] array() { return buf; }
    int size() { return size; }
    boolean limitReached() { return limitReached; }
}
