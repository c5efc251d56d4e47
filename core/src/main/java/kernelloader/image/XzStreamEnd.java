package kernelloader.image;

import java.util.zip.CRC32;

/**
 * Where an .xz stream ends, from its own structure (xz-file-format 1.2.1, section 2.1): the
 * stream footer is 12 bytes (CRC32 of the next six, the index's size in 4-byte units less one,
 * the stream flags again, "YZ"), the stream is a multiple of 4 bytes, and the index the
 * footer points at starts with a zero byte. Nothing is decoded: this is what the system's xz
 * is given, so it reads exactly the stream, and what a decode reports as consumed.
 */
final class XzStreamEnd {
    private XzStreamEnd() {}

    private static final int HEADER = 12;
    private static final int FOOTER = 12;

    /**
     * Streams longer than this are not looked for (a kernel's is under 100 MB; a longer one is
     * decoded by xz-java all the same): a header without a footer costs at most this much search.
     */
    static final int MAX_STREAM = 256 << 20;

    /**
     * The offset just past the stream that starts at {@code at}, or -1 where no footer fits (a
     * cut or damaged stream, one longer than {@link #MAX_STREAM}) or the header's own CRC32
     * fails (the xz magic in a decompressor's code, as data).
     */
    static int of(byte[] data, int at, int end) {
        if (at < 0 || at + HEADER + FOOTER > end) return -1;
        byte flags0 = data[at + 6], flags1 = data[at + 7];
        CRC32 crc = new CRC32();
        crc.update(data, at + 6, 2);
        if ((int) crc.getValue() != le32(data, at + 8)) return -1;
        int last = (int) Math.min(end, (long) at + MAX_STREAM);
        for (int f = at + HEADER; f + FOOTER <= last; f += 4) {
            if (data[f + 10] != 'Y' || data[f + 11] != 'Z' || data[f + 8] != flags0 || data[f + 9] != flags1) continue;
            crc.reset();
            crc.update(data, f + 4, 6);
            if ((int) crc.getValue() != le32(data, f)) continue;
            long indexSize = ((le32(data, f + 4) & 0xffffffffL) + 1) * 4;
            long index = f - indexSize;
            if (index < at + HEADER || data[(int) index] != 0) continue;
            return f + FOOTER;
        }
        return -1;
    }

    private static int le32(byte[] d, int p) {
        return (d[p] & 0xff) | (d[p + 1] & 0xff) << 8 | (d[p + 2] & 0xff) << 16 | (d[p + 3] & 0xff) << 24;
    }
}
