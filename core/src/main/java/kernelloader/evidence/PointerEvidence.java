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
     * What the image's pointer-sized words say of a reading ({@link #census}).
     *
     * @param hits           sampled words equal to one of the addresses
     * @param below          sampled words equal to an address less the neighbour distance
     * @param above          sampled words equal to an address plus it
     * @param eightByteShare for 4-byte words: the share of hits that are the low half of an
     *                       8-byte word whose high half is the one most such words have (0 for
     *                       s390x's low addresses, 0xffff8000 or 0xffffffff for a 64-bit kernel
     *                       read as 32-bit): near 1 when the pointers are 64-bit, well below on a
     *                       32-bit kernel, whose pointers sit at every 4-byte slot
     * @param stride         one word in this many was looked at
     */
    public record Census(int hits, int below, int above, double eightByteShare, int stride) {}

    /** Words looked at: enough for thousands of hits on any kernel, few enough to cost milliseconds. */
    static final int SAMPLE = 1 << 20;

    /**
     * Hits of {@code addresses}, of them less {@code delta} and of them plus {@code delta},
     * in one sampled pass over the {@code width}-aligned words outside [{@code skipFrom},
     * {@code skipTo}) (the symbol table's own arrays). A right reading is a sharp peak: the
     * image points at its symbols far more often than at the addresses a page away; a wrong base
     * or a misread table sits on the plateau of chance matches, level with its neighbours. The
     * sampling stride is 1 or a prime, so that it cannot keep landing on one field of an array
     * of structs.
     */
    public static Census census(ByteView v, long[] addresses, int width, long delta, int skipFrom, int skipTo) {
        LongHashSet set = LongHashSet.of(addresses);
        int words = v.length() / width;
        int stride = BaseAddressVoter.sampleStride(words / SAMPLE);
        int at = 0, below = 0, above = 0;
        long mask = width == 4 ? 0xffffffffL : -1L;
        boolean little = v.order() == ByteOrder.LITTLE_ENDIAN;
        LongCounter highs = width == 4 ? new LongCounter() : null;
        int last = v.length() - 8;
        for (long i = 0; i < words; i += stride) {
            int p = (int) (i * width);
            if (p >= skipFrom && p < skipTo) continue;
            long w = v.word(p, width);
            if (w == 0) continue;
            // 32-bit ARM and MIPS pointers to Thumb and microMIPS code have bit 0 set; kallsyms
            // lists those functions at their even address
            if (width == 4) w &= ~1L;
            if (set.contains(w)) {
                at++;
                if (highs != null && p >= 4 && p <= last && (p & 7) == (little ? 0 : 4)) highs.increment(v.u32(little ? p + 4 : p - 4));
            }
            if (set.contains((w + delta) & mask)) below++;
            if (set.contains((w - delta) & mask)) above++;
        }
        double share = 0;
        if (highs != null && at > 0) {
            long[] top = highs.top(1);
            share = top.length == 0 ? 0 : (double) highs.count(top[0]) / at;
        }
        return new Census(at, below, above, share, stride);
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
