package kernelloader.evidence;

import java.nio.ByteOrder;

import kernelloader.image.ByteView;

/**
 * Evidence from content: how many aligned words of the image are pointers to symbols. A correct
 * reading of the symbol table is confirmed by the image's own function-pointer tables, data
 * pointers and relocation addends; a wrong word size or base finds almost none.
 */
public final class PointerEvidence {
    private PointerEvidence() {}

    /** Number of {@code width}-aligned words equal to one of {@code addresses}. */
    public static int count(ByteView v, long[] addresses, int width) {
        LongHashSet set = LongHashSet.of(addresses);
        int hits = 0;
        int last = v.length() - width;
        for (int p = 0; p <= last; p += width) {
            long w = v.word(p, width);
            if (w != 0 && set.contains(w)) hits++;
        }
        return hits;
    }

    /**
     * Hits of {@code addresses}, of them less {@code delta} and of them plus {@code delta}
     * ({@link #count} of each), in one pass. A right reading is a sharp peak: the image points
     * at its symbols far more often than at the addresses a page away; a wrong base or a
     * misread table sits on the plateau of chance matches, level with its neighbours. Words in
     * [{@code skipFrom}, {@code skipTo}) are not counted (the symbol table's own arrays).
     */
    public static int[] countWithNeighbours(ByteView v, long[] addresses, int width, long delta, int skipFrom, int skipTo) {
        LongHashSet set = LongHashSet.of(addresses);
        int at = 0, below = 0, above = 0;
        int last = v.length() - width;
        long mask = width == 4 ? 0xffffffffL : -1L;
        for (int p = 0; p <= last; p += width) {
            if (p >= skipFrom && p < skipTo) {
                p = (skipTo + width - 1) / width * width - width;
                continue;
            }
            long w = v.word(p, width);
            if (w == 0) continue;
            if (set.contains(w)) at++;
            if (set.contains((w + delta) & mask)) below++;
            if (set.contains((w - delta) & mask)) above++;
        }
        return new int[] {at, below, above};
    }

    /**
     * The share of 32-bit hits of {@code addresses} that are the low half of an 8-byte word
     * whose high half is the one most such words have (0 for s390x's low addresses, 0xffff8000
     * or 0xffffffff for a 64-bit kernel read as 32-bit). Near 1 when the pointers are 64-bit;
     * well below on a 32-bit kernel, whose pointers sit at every 4-byte slot beside other data.
     */
    public static double eightByteShare(ByteView v, long[] addresses) {
        LongHashSet set = LongHashSet.of(addresses);
        boolean little = v.order() == ByteOrder.LITTLE_ENDIAN;
        LongCounter highs = new LongCounter();
        int hits = 0;
        int last = v.length() - 8;
        for (int p = 4; p <= last; p += 4) {
            long w = v.u32(p);
            if (w == 0 || !set.contains(w)) continue;
            hits++;
            if ((p & 7) == (little ? 0 : 4)) highs.increment(v.u32(little ? p + 4 : p - 4));
        }
        long[] top = highs.top(1);
        return hits == 0 || top.length == 0 ? 0 : (double) highs.count(top[0]) / hits;
    }

    /**
     * For addresses that all fit in 32 bits: the share of 32-bit hits that are really the low
     * half of a 64-bit word whose high half is zero. Near 1 on a 64-bit kernel, well below on a
     * 32-bit one, where pointers sit at every 4-byte slot beside other data.
     */
    public static double lowHalfShare(ByteView v, long[] addresses) {
        LongHashSet set = LongHashSet.of(addresses);
        boolean little = v.order() == ByteOrder.LITTLE_ENDIAN;
        int hits = 0, halves = 0;
        int last = v.length() - 8;
        for (int p = 0; p <= last; p += 4) {
            long w = v.u32(p);
            if (w == 0 || !set.contains(w)) continue;
            hits++;
            boolean aligned8 = (p & 7) == (little ? 0 : 4);
            int other = little ? p + 4 : p - 4;
            if (aligned8 && other >= 0 && v.u32(other) == 0) halves++;
        }
        return hits == 0 ? 0 : (double) halves / hits;
    }
}
