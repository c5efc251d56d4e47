package kernelloader.kallsyms;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ByteView;

/**
 * OpenWRT's KALLSYMS_UNCOMPRESSED patch (target/linux/generic/pending-*,
 * 203-kallsyms_uncompressed.patch, since 2013): kallsyms_names holds each symbol as a length
 * byte and the plain type letter and name, and the token arrays are left out. Without the token
 * table to anchor on, the names are recognised as a long run of such entries; the markers that
 * follow them confirm it.
 */
final class UncompressedNames {
    /** A run shorter than this is not a kernel's symbol table (and would not have markers). */
    private static final int MIN_RUN = 512;
    /** The bytes MIN_RUN entries span at least: a length byte, a type, one name byte each. */
    private static final int MIN_SPAN = MIN_RUN * 3;
    private static final boolean[] TYPE = new boolean[256];
    private static final boolean[] NAME = new boolean[256];
    static {
        for (char c : "TtDdBbRrAaVvWwUuNnGgSsIi?".toCharArray()) TYPE[c] = true;
        for (int c = 0x21; c <= 0x7e; c++) NAME[c] = true;
    }

    private UncompressedNames() {}

    static List<KallsymsFinder.Located> locate(byte[] data, int length) {
        List<KallsymsFinder.Located> found = new ArrayList<>();
        byte[][] identity = new byte[256][];
        for (int i = 0; i < 256; i++) identity[i] = new byte[] {(byte) i};
        // Every byte of a run is a length (2..0x7f), a type letter or a printable name byte, so
        // all lie in 0x02..0x7f, and MIN_RUN entries of 3 bytes or more span MIN_SPAN such bytes:
        // only where that many stand in a row can a run start (random bytes: nowhere)
        int p = 0;
        while (p < length && found.isEmpty()) {
            int span = spanFrom(data, length, p);
            if (span < 0) break;
            int spanEnd = span + MIN_SPAN;
            while (spanEnd < length && inRun(data[spanEnd])) spanEnd++;
            p = span;
            while (p + MIN_SPAN <= spanEnd && found.isEmpty()) {
                int[] run = run(data, length, p);
                if (run[1] < MIN_RUN) {
                    p++;
                    continue;
                }
                KallsymsFinder.Located loc = withMarkers(data, length, run[0], identity);
                if (loc != null) found.add(loc);
                p = run[0];
            }
            p = Math.max(p, spanEnd);
        }
        return found;
    }

    /**
     * The first position at or after {@code from} where MIN_SPAN bytes in 0x02..0x7f stand in a
     * row, or -1. It looks at the last byte of each window first and back from there, so a
     * byte out of range skips every window that holds it: on random bytes a look every few
     * hundred bytes, not one per byte.
     */
    private static int spanFrom(byte[] data, int length, int from) {
        int p = from;
        while (p + MIN_SPAN <= length) {
            int k = p + MIN_SPAN - 1;
            while (k >= p && inRun(data[k])) k--;
            if (k < p) return p;
            p = k + 1;
        }
        return -1;
    }

    private static boolean inRun(byte b) {
        return b >= 0x02;   // 0x02..0x7f: a signed byte at or above 2
    }

    /** From {@code p}: {end of the run of valid entries, number of entries}. */
    private static int[] run(byte[] data, int length, int p) {
        int count = 0;
        while (p < length) {
            int len = data[p] & 0xff;
            if (len < 2 || len > 0x7f || p + 1 + len > length) break;
            if (!TYPE[data[p + 1] & 0xff]) break;
            boolean ok = true;
            for (int i = p + 2; i <= p + len; i++) {
                if (!NAME[data[i] & 0xff]) {
                    ok = false;
                    break;
                }
            }
            if (!ok) break;
            p += 1 + len;
            count++;
        }
        return new int[] {p, count};
    }

    private static KallsymsFinder.Located withMarkers(byte[] data, int length, int namesEnd, byte[][] identity) {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteView v = new ByteView(data, length, order);
            for (int ms = (namesEnd + 3) & ~3; ms <= namesEnd + 260; ms += 4) {
                for (int w : new int[] {4, 8}) {
                    if (ms % w != 0) continue;
                    MarkerTable m = MarkerTable.startingAt(v, ms, w, 1 << 16);
                    if (m == null) continue;
                    // what follows the markers may itself grow like markers: try shorter tables
                    for (int count = m.count(); count >= Math.max(2, m.count() - 4); count--) {
                        MarkerTable t = m.truncated(count);
                        NameTable names = NameTable.fit(v, t, -1);
                        if (names != null && names.end <= namesEnd + 4 && names.end >= namesEnd - 0x80) {
                            return new KallsymsFinder.Located(names, -1, identity, null, t.end(), order);
                        }
                    }
                }
            }
        }
        return null;
    }
}
