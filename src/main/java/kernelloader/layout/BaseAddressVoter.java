package kernelloader.layout;

import java.util.HashMap;
import java.util.Map;

import kernelloader.image.ByteView;

/**
 * Finds the virtual address of file offset 0 of a raw image whose symbols are only known
 * relative to the image (7.0+ self-relative kallsyms). Every pointer-sized word of the image
 * that points at a symbol votes for {@code base = word - relative address}; function-pointer
 * tables, data pointers and relocation addends (R_*_RELATIVE, present in relocatable arm64,
 * RISC-V and LoongArch images) all vote for the same base, anything else scatters.
 *
 * The base of a kernel image is page aligned, so a word only votes for symbols with the same
 * offset within a 4 KiB page: a few hundred candidates per word instead of every symbol.
 */
public final class BaseAddressVoter {
    private static final int PAGE = 4096;
    private static final int MAX_VOTERS = 20000;

    /** The winning base with its support. */
    public record Vote(long base, int votes, int runnerUp, int voters) {}

    private BaseAddressVoter() {}

    /**
     * The image's distinct pointer-like words in the address region kernel pointers share. Code
     * also produces pointer-sized words (arm64 NOP pairs repeat thousands of times), but only
     * pointers crowd into one region with many distinct values; duplicates vote once.
     */
    static long[] voters(ByteView v, int width, Map<Integer, long[]> buckets, int skipFrom, int skipTo) {
        int shift = width == 8 ? 32 : 24;
        int words = v.length() / width;
        LongHashSet distinct = new LongHashSet(1 << 16);
        Map<Long, Integer> perPrefix = new HashMap<>();
        for (int i = 0; i < words; i++) {
            if (i * width >= skipFrom && i * width < skipTo) {
                i = skipTo / width;
                continue;
            }
            long w = v.word(i * width, width);
            if (!pointerLike(w, width)) continue;
            if (distinct.add(w)) perPrefix.merge(w >>> shift, 1, Integer::sum);
            if (distinct.size() >= (4 << 20)) break;
        }
        long prefix = perPrefix.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey).orElse(-1L);
        int inPrefix = perPrefix.getOrDefault(prefix, 0);
        int stride = Math.max(1, inPrefix / MAX_VOTERS);
        long[] out = new long[Math.min(MAX_VOTERS, inPrefix)];
        int n = 0, seen = 0;
        for (long w : distinct.values()) {
            if ((w >>> shift) != prefix || !buckets.containsKey((int) Math.floorMod(w, PAGE))) continue;
            if (seen++ % stride == 0 && n < out.length) out[n++] = w;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Not a small integer and not a small negative one (error codes, -1 fill). */
    static boolean pointerLike(long w, int width) {
        // 64-bit kernels may live low (s390x before 6.10 runs at 0x100000)
        return width == 8 ? (w < 0 ? w < -(1L << 20) : w >= (1L << 16)) : w >= (1L << 16) && w < 0xfff00000L;
    }

    /**
     * @param skipFrom start of a byte range to leave out (the kallsyms arrays: an offsets table
     *                 would vote for itself)
     * @param skipTo   end of that range
     */
    public static Vote vote(ByteView v, long[] relative, int width, int skipFrom, int skipTo) {
        // bucket the distinct relative addresses by their offset within a page
        Map<Integer, long[]> buckets = new HashMap<>();
        {
            Map<Integer, Integer> counts = new HashMap<>();
            long prev = Long.MIN_VALUE;
            for (long r : relative) {
                if (r == prev) continue;
                prev = r;
                counts.merge((int) Math.floorMod(r, PAGE), 1, Integer::sum);
            }
            Map<Integer, Integer> fill = new HashMap<>();
            counts.forEach((k, c) -> buckets.put(k, new long[c]));
            prev = Long.MIN_VALUE;
            for (long r : relative) {
                if (r == prev) continue;
                prev = r;
                int k = (int) Math.floorMod(r, PAGE);
                int i = fill.merge(k, 1, Integer::sum) - 1;
                buckets.get(k)[i] = r;
            }
        }
        long[] voters = voters(v, width, buckets, skipFrom, skipTo);
        int nv = voters.length;
        // phase 1: a few hundred voters propose bases
        Map<Long, Integer> votes = new HashMap<>();
        // (spread over the whole image: its first words are code, whose pointer-like words are noise)
        int step = Math.max(1, nv / 600);
        for (int i = 0; i < nv; i += step) {
            long[] b = buckets.get((int) Math.floorMod(voters[i], PAGE));
            if (b.length > 4096) continue;    // cannot tell: too many candidates
            for (long r : b) votes.merge(voters[i] - r, 1, Integer::sum);
        }
        long[] proposals = votes.entrySet().stream().filter(e -> e.getValue() >= 3)
                .sorted((x, y) -> y.getValue() - x.getValue()).limit(32)
                .mapToLong(Map.Entry::getKey).toArray();
        // phase 2: every voter scores each proposal
        AddressSet set = new AddressSet(relative);
        long best = 0;
        int bestVotes = 0, second = 0;
        for (long base : proposals) {
            int c = 0;
            for (int i = 0; i < nv; i++) if (set.contains(voters[i] - base)) c++;
            if (c > bestVotes) {
                second = bestVotes;
                bestVotes = c;
                best = base;
            } else if (c > second) {
                second = c;
            }
        }
        if (bestVotes == 0) return null;
        return new Vote(best, bestVotes, second, nv);
    }
}
