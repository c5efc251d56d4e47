package kernelloader.image;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

import io.airlift.compress.lzo.LzoDecompressor;

/**
 * lzop's file framing, as the kernel's {@code cmd_lzo} writes it (lib/decompress_unlzo.c reads
 * it): a 9-byte magic, a header, then blocks of (uncompressed size, compressed size, checksums,
 * data) ending with a zero size. The LZO1X block data itself is decoded by aircompressor.
 */
final class LzopStream extends BlockInputStream {
    private static final int F_ADLER32_D = 0x1, F_ADLER32_C = 0x2, F_H_EXTRA_FIELD = 0x40,
            F_CRC32_D = 0x100, F_CRC32_C = 0x200, F_H_FILTER = 0x800;
    private static final int MAX_BLOCK = 64 << 20;

    private final DataInputStream in;
    private final LzoDecompressor lzo = new LzoDecompressor();
    private int flags;
    private boolean done;

    LzopStream(InputStream raw) throws IOException {
        in = new DataInputStream(raw);
        readHeader();
    }

    private void readHeader() throws IOException {
        in.skipNBytes(9);                        // magic, checked by the caller
        int version = in.readUnsignedShort();
        in.readUnsignedShort();                  // library version
        if (version >= 0x0940) in.readUnsignedShort(); // version needed to extract
        int method = in.readUnsignedByte();
        if (method < 1 || method > 3) throw new IOException("lzop: unknown method " + method);
        if (version >= 0x0940) in.readUnsignedByte(); // level
        flags = in.readInt();
        if ((flags & F_H_FILTER) != 0) in.readInt();
        in.readInt();                            // mode
        in.readInt();                            // mtime low
        if (version >= 0x0940) in.readInt();     // mtime high
        int nameLen = in.readUnsignedByte();
        in.skipNBytes(nameLen);
        in.readInt();                            // header checksum
        if ((flags & F_H_EXTRA_FIELD) != 0) {
            int extra = in.readInt();
            if (extra < 0 || extra > (1 << 20)) throw new IOException("lzop: bad extra field");
            in.skipNBytes(extra + 4L);
        }
    }

    @Override
    protected boolean nextBlock() throws IOException {
        if (done) return false;
        int dstLen;
        try {
            dstLen = in.readInt();
        } catch (EOFException e) {
            throw new IOException("lzop: stream ends without its end marker");
        }
        if (dstLen == 0) {
            done = true;
            return false;
        }
        int srcLen = in.readInt();
        if (dstLen < 0 || dstLen > MAX_BLOCK || srcLen <= 0 || srcLen > dstLen) {
            throw new IOException("lzop: bad block sizes " + srcLen + "/" + dstLen);
        }
        if ((flags & F_ADLER32_D) != 0) in.readInt();
        if ((flags & F_CRC32_D) != 0) in.readInt();
        if (srcLen < dstLen) {
            if ((flags & F_ADLER32_C) != 0) in.readInt();
            if ((flags & F_CRC32_C) != 0) in.readInt();
        }
        byte[] src = in.readNBytes(srcLen);
        if (src.length != srcLen) throw new IOException("lzop: truncated block");
        ensureBlock(dstLen);
        if (srcLen == dstLen) {
            System.arraycopy(src, 0, block, 0, dstLen);   // stored uncompressed
            end = dstLen;
        } else {
            end = lzo.decompress(src, 0, srcLen, block, 0, dstLen);
        }
        return true;
    }
}
