package kernelloader.image;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream over a framing format that decodes one block at a time (lzop, LZ4 legacy):
 * subclasses fill {@link #block} in {@link #nextBlock()}, this class hands the bytes out.
 */
abstract class BlockInputStream extends InputStream {
    protected byte[] block = new byte[0];
    protected int end;
    private int pos;

    /** Decodes the next block into {@code block[0..end)}; false at the end of the stream. */
    protected abstract boolean nextBlock() throws IOException;

    /** Makes {@code block} hold at least {@code size} bytes. */
    protected final void ensureBlock(int size) {
        if (block.length < size) block = new byte[size];
    }

    @Override
    public final int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public final int read(byte[] b, int off, int len) throws IOException {
        while (pos == end) {
            pos = 0;
            end = 0;
            if (!nextBlock()) return -1;
        }
        int n = Math.min(len, end - pos);
        System.arraycopy(block, pos, b, off, n);
        pos += n;
        return n;
    }
}
