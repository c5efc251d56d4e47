package kernelloader.image;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.SingleXZInputStream;

import com.github.luben.zstd.ZstdInputStream;

/**
 * The seven compressions the kernel's build can wrap an image in, each recognised by its magic
 * (LZMA "alone", which has none, by its header)
 * and decoded by a library (lzop and LZ4-legacy framing are parsed in {@link LzopStream} and
 * {@link Lz4LegacyStream}, their blocks decoded by aircompressor and lz4-java).
 */
public enum Compression {
    GZIP("gzip", new byte[] {0x1f, (byte) 0x8b, 0x08}),
    BZIP2("bzip2", new byte[] {'B', 'Z', 'h'}),
    XZ("xz", new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0x00}),
    /** LZMA "alone": no magic, a properties byte ((pb * 5 + lp) * 9 + lc) and a dictionary size; see {@link #startsAt}. */
    LZMA("lzma", null),
    LZO("lzo", new byte[] {(byte) 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a}),
    LZ4("lz4", new byte[] {0x02, 0x21, 0x4c, 0x18}),
    ZSTD("zstd", new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd});

    /** An LZMA stream with other properties than 0x5d must say it holds at least this much (a kernel holds MBs). */
    static final long MIN_SIZED_STREAM = 64 * 1024;

    /** Largest decoder memory an XZ or LZMA header may ask for (KiB). */
    static final int DICTIONARY_LIMIT_KIB = 160 * 1024;

    private final String displayName;
    private final byte[] magic;

    Compression(String displayName, byte[] magic) {
        this.displayName = displayName;
        this.magic = magic;
    }

    public String displayName() { return displayName; }

    /** Whether a stream of this kind can start with byte {@code b}: a quick reject before {@link #startsAt}. */
    public boolean mayStartWith(int b) {
        return this == LZMA ? lzmaProperties(b & 0xff) : magic[0] == (byte) b;
    }

    /**
     * The beginnings a stream of this kind can have, each told by two byte pairs that are not
     * runs of zeros: its magic's first three bytes (pairs 0-1 and 1-2); for an LZMA header, its
     * properties byte and the four bytes of each dictionary size {@link #startsAt} takes (pairs
     * 0-1 and 3-4: the dictionary's low bytes are zero, its high ones never both). The scan
     * looks at every second byte pair, so every stream must be told by a pair at an even and
     * one at an odd distance from its start.
     */
    public List<byte[]> prefixes() {
        if (this != LZMA) return List.of(new byte[] {magic[0], magic[1], magic[2]});
        List<byte[]> out = new ArrayList<>();
        for (int props : new int[] {0x5d, 0x6d}) {
            for (int n = 15; n <= 30; n++) {
                for (long dict : new long[] {1L << n, 3L << (n - 1)}) {
                    if (dict < (1 << 16) || dict > (1L << 30)) continue;
                    // 0x5d: the dictionary's second byte is zero too (see startsAt)
                    if (props == 0x5d && ((dict >> 8) & 0xff) != 0) continue;
                    out.add(new byte[] {(byte) props, (byte) dict, (byte) (dict >> 8), (byte) (dict >> 16), (byte) (dict >> 24)});
                }
            }
        }
        return out;
    }

    /**
     * The LZMA properties bytes ((pb * 5 + lp) * 9 + lc) searched for: 0x5d (lc 3, lp 0, pb 2),
     * what the kernel's own lzma -9 writes, and 0x6d (lc 1, lp 2, pb 2), what OpenWrt's builds
     * write. An LZMA header has no magic: every further value taken makes more of a kernel's
     * code and data look like streams (with all 75 values an encoder may write, a 20 MB armhf
     * image held 8 000 such places; with these two, 9).
     */
    static boolean lzmaProperties(int props) {
        return props == 0x5d || props == 0x6d;
    }

    /**
     * Whether a stream of this kind plausibly starts at {@code pos}: the magic, plus the header
     * checks that keep short magics (lzma's three bytes, bzip2's "BZh") from matching at random.
     */
    public boolean startsAt(byte[] data, int length, int pos) {
        if (pos < 0 || pos >= length) return false;
        if (magic != null) {
            if (pos + magic.length > length) return false;
            for (int i = 0; i < magic.length; i++) {
                if (data[pos + i] != magic[i]) return false;
            }
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
                // lzma "alone": a properties byte, a power-of-two dictionary (liblzma also writes
                // 2^n + 2^(n-1), e.g. 3 MiB), the uncompressed size or -1 (unknown), then the range
                // coder's first byte, always 0. The kernel's own lzma -9 writes 0x5d, taken as
                // before; OpenWrt's 0x6d comes from the LZMA SDK's lzma given a file, which writes
                // its size: asked of it, and a first stretch that decodes.
                if (pos + 14 > length) return false;
                int props = data[pos] & 0xff;
                // cheapest tests first: a dictionary of 64 KiB or more has a zero low byte
                if (data[pos + 1] != 0 || !lzmaProperties(props)) return false;
                // (below: 0x5d as before; other properties as OpenWrt's lzma writes them, with the size)
                if (props == 0x5d ? data[pos + 2] != 0 : data[pos + 13] != 0) return false;
                // (read in place: a scan asks this at many byte positions)
                long dict = le(data, pos + 1, 4);
                long size = le(data, pos + 5, 8);
                boolean pow2 = Long.bitCount(dict) == 1 || dict >>> Long.numberOfTrailingZeros(dict) == 3;
                if (props == 0x5d) {
                    boolean dictOk = dict >= (1 << 16) && dict <= (1L << 30) && pow2;
                    boolean sizeOk = size == -1L || (size > 0 && size < (1L << 31));
                    return dictOk && sizeOk;
                }
                boolean dictOk = dict >= (1 << 16) && dict <= (1L << 30) && pow2;
                boolean sizeOk = size >= MIN_SIZED_STREAM && size < (1L << 31);
                return dictOk && sizeOk && data[pos + 13] == 0 && lzmaDecodesAt(data, pos, length, size);
            }
            case GZIP: {
                // flags byte: reserved bits must be clear
                return pos + 10 <= length && (data[pos + 3] & 0xe0) == 0;
            }
            default:
                return true;
        }
    }

    /**
     * Whether the LZMA data after the header at {@code pos} decodes for its first
     * {@link #MIN_SIZED_STREAM} bytes: a table of small numbers in a kernel's data can look
     * like a header, but not like a stream. Decoded with a dictionary of that size (what those
     * first bytes can refer to), so a false header costs 64 KiB, not the 128 MiB it claims.
     */
    private static boolean lzmaDecodesAt(byte[] data, int pos, int length, long size) {
        int dict = (int) MIN_SIZED_STREAM;
        try (InputStream in = new LZMAInputStream(new ByteArrayInputStream(data, pos + 13, length - pos - 13), size, data[pos], dict)) {
            byte[] buf = new byte[8192];
            long got = 0;
            while (got < MIN_SIZED_STREAM) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, MIN_SIZED_STREAM - got));
                if (n < 0) return false;
                got += n;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The little-endian number of {@code bytes} bytes at {@code at}. */
    private static long le(byte[] data, int at, int bytes) {
        long v = 0;
        for (int i = bytes - 1; i >= 0; i--) v = v << 8 | (data[at + i] & 0xff);
        return v;
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
        if (this == XZ) {
            // the system's xz where there is one (liblzma: twice xz-java's speed); anything but
            // a whole stream decoded cleanly is decoded again by xz-java, for its exact account
            Decoded d = SystemXz.decode(data, offset, length, limit);
            if (d != null) return d;
        }
        return decodeInJava(data, offset, length, limit);
    }

    /** {@link #decode} with the Java libraries alone. */
    Decoded decodeInJava(byte[] data, int offset, int length, long limit) {
        BoundedOutput out = new BoundedOutput(limit);
        String error = null;
        ByteArrayInputStream source = new ByteArrayInputStream(data, offset, length - offset);
        int available = length - offset;
        try (InputStream in = open(source)) {
            out.readFrom(in, () -> available - source.available());
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
        } else if (out.ratioExceeded()) {
            int read = (length - offset) - source.available();
            error = "output of " + out.size() + " bytes from " + read + " bytes of stream, more than " + BoundedOutput.RATIO
                    + " times as many (a decompression bomb; a kernel compresses 3 to 6 times)";
        }
        int consumed = (length - offset) - source.available();
        return new Decoded(this, offset, consumed, out.array(), out.size(), error);
    }

    /** The result of {@link #decode}: the bytes produced and, if it stopped early, why. */
    public record Decoded(Compression compression, int offset, int consumed, byte[] data, int length, String error) {
        public boolean complete() { return error == null; }
    }
}
