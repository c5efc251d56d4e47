package kernelloader.kallsyms;

import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ByteView;

/**
 * {@code kallsyms_names}: per symbol a length (one byte; from 6.1, 73bbb94466fd, a two-byte
 * ULEB128 when above 0x7F) and that many token indexes. Located from the marker table that
 * follows it and confirmed by {@code kallsyms_num_syms}, which precedes it in every era.
 */
final class NameTable {
    /** A place where kallsyms_num_syms may be stored, and the count found there. */
    record NumSyms(int position, int width) {}

    final int start;
    final int end;
    final int count;
    final boolean uleb;
    final MarkerTable markers;
    /** Candidate positions of kallsyms_num_syms; empty if the count came from the names alone. */
    final List<NumSyms> numSyms;

    private NameTable(int start, int end, int count, boolean uleb, MarkerTable markers, List<NumSyms> numSyms) {
        this.start = start;
        this.end = end;
        this.count = count;
        this.uleb = uleb;
        this.markers = markers;
        this.numSyms = numSyms;
    }

    /**
     * The word size the position of kallsyms_num_syms implies (8 when it is 8 bytes before the
     * names, 4 when 4 bytes), or 0 when unknown.
     */
    int numSymsWordSize() {
        if (numSyms.isEmpty()) return 0;
        int size = start - numSyms.get(0).position();
        for (NumSyms ns : numSyms) if (start - ns.position() != size) return 0;
        return size == 8 || size == 4 ? size : 0;
    }

    /** How far before the last marker's entry the names may start (the last group's size). */
    private static final int MAX_TAIL = 96 * 1024;

    /**
     * Finds the names that {@code m} indexes and that end before {@code limit} (the markers'
     * start). With {@code knownCount} > 0 the symbol count is already known (6.2–6.3 layout).
     */
    static NameTable fit(ByteView v, MarkerTable m, int knownCount) {
        int sm = m.start();
        int groups = m.count();
        long lastMarker = m.values()[groups - 1];
        long hi = sm - lastMarker - 1;
        long lo = Math.max(0, hi - MAX_TAIL);
        for (long p = hi & ~3L; p >= lo; p -= 4) {
            int start = (int) p;
            for (boolean uleb : new boolean[] {false, true}) {
                // cheap test on the last full group first, then every group
                if (skip(v, start + (int) m.values()[groups - 2], 256, uleb, sm) != start + lastMarker) continue;
                if (!allGroups(v, start, m, uleb, sm)) continue;
                NameTable t = tail(v, start, m, uleb, knownCount);
                if (t != null) return t;
            }
        }
        return null;
    }

    private static boolean allGroups(ByteView v, int start, MarkerTable m, boolean uleb, int limit) {
        long[] mk = m.values();
        for (int k = 0; k + 1 < mk.length; k++) {
            if (skip(v, start + (int) mk[k], 256, uleb, limit) != start + mk[k + 1]) return false;
        }
        return true;
    }

    /** Counts the last group: from num_syms if it is where the layout puts it, else by decoding. */
    private static NameTable tail(ByteView v, int start, MarkerTable m, boolean uleb, int knownCount) {
        int groups = m.count();
        int lastStart = start + (int) m.values()[groups - 1];
        int sm = m.start();
        long minN = 256L * (groups - 1) + 1, maxN = 256L * groups;
        List<NumSyms> numSyms = new ArrayList<>();
        int count = -1;
        // kallsyms_num_syms: u32 or unsigned long right before the names, after the alignment
        // padding of their label (4 bytes after a u32 on 64-bit; up to 256 with old ".align")
        for (int d = 4; d <= 264 && start - d >= 0; d += 4) {
            if (d > 8 && v.u32(start - d + 4) != 0) break;    // only zeros may pad
            for (int width : new int[] {4, 8}) {
                int pos = start - d;
                if (width == 8 && d < 8) continue;
                if (width == 4 && d > 4 && !zeros(v, pos + 4, start)) continue;
                if (width == 8 && d > 8 && !zeros(v, pos + 8, start)) continue;
                long n = v.word(pos, width);
                if (n < minN || n > maxN || (knownCount > 0 && n != knownCount)) continue;
                if (!endsBefore(v, lastStart, (int) (n - 256L * (groups - 1)), uleb, sm)) continue;
                if (count >= 0 && count != n) continue;
                count = (int) n;
                numSyms.add(new NumSyms(pos, width));
            }
            if (count >= 0) break;
        }
        if (count < 0) {
            if (knownCount > 0) {
                if (!endsBefore(v, lastStart, (int) (knownCount - 256L * (groups - 1)), uleb, sm)) return null;
                count = knownCount;
            } else {
                // no count stored where expected: decode the last group up to the padding
                int pos = lastStart, r = 0;
                while (pos < sm && v.u8(pos) != 0 && r < 256) {
                    int next = skip(v, pos, 1, uleb, sm);
                    if (next < 0) return null;
                    pos = next;
                    r++;
                }
                if (r == 0 || !zeros(v, pos, sm)) return null;
                count = (int) (256L * (groups - 1) + r);
            }
        }
        int end = skip(v, lastStart, (int) (count - 256L * (groups - 1)), uleb, sm);
        return new NameTable(start, end, count, uleb, m, numSyms);
    }

    private static boolean endsBefore(ByteView v, int from, int entries, boolean uleb, int limit) {
        int end = skip(v, from, entries, uleb, limit);
        return end >= 0 && limit - end < 264 && zeros(v, end, limit);
    }

    private static boolean zeros(ByteView v, int from, int to) {
        for (int i = from; i < to; i++) if (v.u8(i) != 0) return false;
        return true;
    }

    /** Position after {@code entries} names starting at {@code pos}, or -1 if one is malformed. */
    static int skip(ByteView v, int pos, int entries, boolean uleb, int limit) {
        for (int i = 0; i < entries; i++) {
            if (pos >= limit) return -1;
            int len = v.u8(pos++);
            if (len == 0) return -1;
            if (uleb && (len & 0x80) != 0) {
                if (pos >= limit) return -1;
                len = (len & 0x7f) | (v.u8(pos++) << 7);
            }
            pos += len;
            if (pos > limit) return -1;
        }
        return pos;
    }
}
