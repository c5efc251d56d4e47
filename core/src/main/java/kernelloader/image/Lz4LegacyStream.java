package kernelloader.image;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * LZ4's legacy frame format, which the kernel uses ({@code lz4 -l}; lib/decompress_unlz4.c):
 * the magic 0x184C2102, then blocks of a little-endian u32 compressed size and data, each
 * decoding to at most 8 MiB. The stream ends at EOF, at a size of zero, or at another magic
 * (the kernel appends the uncompressed size after the last block).
 */
final class Lz4LegacyStream extends BlockInputStream {
    private static final int MAGIC = 0x184C2102;
    private static final int BLOCK = 8 << 20;

    private final InputStream in;
    private final LZ4SafeDecompressor lz4 = LZ4Factory.safeInstance().safeDecompressor();
    private boolean done;

    Lz4LegacyStream(InputStream in) throws IOException {
        this.in = in;
        ensureBlock(BLOCK);
        if (readLe32() != MAGIC) throw new IOException("lz4: not a legacy frame");
    }

    private int readLe32() throws IOException {
        byte[] b = in.readNBytes(4);
        if (b.length < 4) throw new EOFException();
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    @Override
    protected boolean nextBlock() throws IOException {
        if (done) return false;
        int size;
        try {
            size = readLe32();
        } catch (EOFException e) {
            done = true;
            return false;
        }
        if (size == MAGIC) return nextBlock();   // concatenated legacy frames
        // A size beyond the worst case of an 8 MiB block is not a block: it is the trailer.
        if (size <= 0 || size > LZ4_COMPRESS_BOUND) {
            done = true;
            return false;
        }
        byte[] src = in.readNBytes(size);
        if (src.length != size) throw new IOException("lz4: truncated block");
        try {
            end = lz4.decompress(src, 0, size, block, 0, BLOCK);
        } catch (LZ4Exception e) {
            throw new IOException("lz4: corrupt block: " + e.getMessage());
        }
        return true;
    }

    private static final int LZ4_COMPRESS_BOUND = BLOCK + BLOCK / 255 + 16;
}
