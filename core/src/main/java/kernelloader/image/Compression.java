package kernelloader.image;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.SingleXZInputStream;

import com.github.luben.zstd.ZstdInputStream;

/**
 * The seven compressions the kernel's build can wrap an image in, each recognised by its magic
 * and decoded by a library (lzop and LZ4-legacy framing are parsed in {@link LzopStream} and
 * {@link Lz4LegacyStream}, their blocks decoded by aircompressor and lz4-java).
 */
public enum Compression {
    GZIP("gzip", new byte[] {0x1f, (byte) 0x8b, 0x08}),
    BZIP2("bzip2", new byte[] {'B', 'Z', 'h'}),
    XZ("xz", new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0x00}),
    LZMA("lzma", new byte[] {0x5d, 0x00, 0x00}),
    LZO("lzo", new byte[] {(byte) 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a}),
    LZ4("lz4", new byte[] {0x02, 0x21, 0x4c, 0x18}),
    ZSTD("zstd", new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd});

    /** Largest decoder memory an XZ or LZMA header may ask for (KiB). */
    static final int DICTIONARY_LIMIT_KIB = 160 * 1024;

    private final String displayName;
    private final byte[] magic;

    Compression(String displayName, byte[] magic) {
        this.displayName = displayName;
        this.magic = magic;
    }

    public String displayName() { return displayName; }

    /** The first byte of the magic: a quick reject before {@link #startsAt}. */
    public byte firstMagicByte() { return magic[0]; }

    /**
     * Whether a stream of this kind plausibly starts at {@code pos}: the magic, plus the header
     * checks that keep short magics (lzma's three bytes, bzip2's "BZh") from matching at random.
     */
    public boolean startsAt(byte[] data, int length, int pos) {
        if (pos < 0 || pos + magic.length > length) return false;
        for (int i = 0; i < magic.length; i++) {
            if (data[pos + i] != magic[i]) return false;
        }
        switch (this) {
            case BZIP2: {
                // "BZh" + block size digit + the block magic (pi digits) 31 41 59 26 53 59
                if (pos + 10 > length) return false;
                int level = data[pos + 3];
                return level >= '1' && level <= '9'
                        && data[pos + 4] == 0x31 && data[pos + 5] == 0x41 && data[pos + 6] == 0x59
                        && data[pos + 7] == 0x26 && data[pos + 8] == 0x53 && data[pos + 9] == 0x59;
            }
            case LZMA: {
                // lzma "alone": props 0x5d, a power-of-two dictionary, size unknown (-1) or sane
                if (pos + 13 > length) return false;
                ByteView v = new ByteView(data, length, ByteOrder.LITTLE_ENDIAN);
                long dict = v.u32(pos + 1);
                long size = v.u64(pos + 5);
                boolean dictOk = dict >= (1 << 12) && dict <= (1L << 30) && Long.bitCount(dict) == 1;
                boolean sizeOk = size == -1L || (size > 0 && size < (1L << 31));
                return dictOk && sizeOk;
            }
            case GZIP: {
                // flags byte: reserved bits must be clear
                return pos + 10 <= length && (data[pos + 3] & 0xe0) == 0;
            }
            default:
                return true;
        }
    }

    /** A decoding stream over {@code in} for this compression. */
    InputStream open(InputStream in) throws IOException {
        switch (this) {
            case GZIP: return new GzipCompressorInputStream(in, false);
            case BZIP2: return new BZip2CompressorInputStream(in, false);
            // A header may claim any dictionary size (up to 4 GiB for lzma), and the decoder
            // allocates it up front: cap it. Kernels use at most 64 MiB (lzma -9, xz_wrap.sh).
            case XZ: return new SingleXZInputStream(in, DICTIONARY_LIMIT_KIB);
            case LZMA: return new LZMAInputStream(in, DICTIONARY_LIMIT_KIB);
            case LZO: return new LzopStream(in);
            case LZ4: return new Lz4LegacyStream(in);
            case ZSTD: {
                ZstdInputStream z = new ZstdInputStream(in);
                z.setContinuous(false);
                return z;
            }
            default: throw new IllegalStateException(name());
        }
    }

    /**
     * Decodes the stream starting at {@code offset}, keeping at most {@code limit} bytes of
     * output (decompression bombs stop there). A stream that breaks off after producing output
     * still returns that output, with the error recorded: a truncated kernel may hold a usable
     * symbol table in the part that survived.
     */
    public Decoded decode(byte[] data, int offset, int length, long limit) {
        if (this == ZSTD) length = ZstdFrame.end(data, offset, length);
        BoundedOutput out = new BoundedOutput(limit);
        String error = null;
        ByteArrayInputStream source = new ByteArrayInputStream(data, offset, length - offset);
        try (InputStream in = open(source)) {
            out.readFrom(in);
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // The libraries signal corrupt data with IOException, and some with runtime
            // exceptions (bad table indexes); either way this stream ends here.
            error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } catch (LinkageError e) {
            // zstd-jni carries native code: on a platform it has no build for, say so
            error = displayName + " decoder unavailable on this platform (" + e.getMessage() + ")";
        }
        if (out.limitReached()) {
            error = "output exceeds the limit of " + limit + " bytes (decompression bomb?)";
        }
        int consumed = (length - offset) - source.available();
        return new Decoded(this, offset, consumed, out.array(), out.size(), error);
    }

    /** The result of {@link #decode}: the bytes produced and, if it stopped early, why. */
    public record Decoded(Compression compression, int offset, int consumed, byte[] data, int length, String error) {
        public boolean complete() { return error == null; }
    }
}
