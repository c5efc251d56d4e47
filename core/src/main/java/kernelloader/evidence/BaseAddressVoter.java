package kernelloader.evidence;

import java.util.Arrays;

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
    static long[] voters(ByteView v, int width, PageBuckets buckets, int skipFrom, int skipTo) {
        int words = v.length() / width;
        // pass 1: which 16 MiB regions hold the most pointer-like words, on an even sample; runs
        // of one value, such as NOP padding, count once
        int stride = sampleStride(words / (1 << 18));
        LongCounter perRegion = new LongCounter();
        long prev = 0;
        for (int i = 0; i < words; i += stride) {
            if ((long) i * width >= skipFrom && (long) i * width < skipTo) continue;
            long w = v.word(i * width, width);
            if (w == prev || !pointerLike(w, width)) {
                prev = w;
                continue;
            }
            prev = w;
            perRegion.increment(w >>> REGION_SHIFT);
        }
        long[] top = perRegion.top(3);
        // pass 2: of those, the neighbourhood (a kernel spans a few regions) with the most
        // distinct values: pointers are many different values, code patterns a few repeated ones
        // (values are sampled by a hash of the value, not by position: the same value is always
        // in or out, and no stride can alias with the layout of arrays such as RELA triples)
        // (and on at most ~1M positions, a prime stride apart)
        int stride2 = sampleStride(words / (1 << 20));
        long keep = Math.max(1, (long) perRegion.count(top.length == 0 ? 0 : top[0]) * stride / stride2 / 40000);
        LongHashSet[] distinct = new LongHashSet[top.length];
        for (int t = 0; t < top.length; t++) distinct[t] = new LongHashSet(1 << 12);
        for (int i = 0; i < words; i += stride2) {
            if ((long) i * width >= skipFrom && (long) i * width < skipTo) continue;
            long w = v.word(i * width, width);
            long r = w >>> REGION_SHIFT;
            int t = 0;
            while (t < top.length && Math.abs(r - top[t]) > 4) t++;
            if (t == top.length || !pointerLike(w, width)) continue;
            long h = w * 0x9E3779B97F4A7C15L;
            if (Long.remainderUnsigned(h >>> 20, keep) != 0) continue;
            for (; t < top.length; t++) {
                if (Math.abs(r - top[t]) <= 4 && distinct[t].size() < (1 << 18)) distinct[t].add(w);
            }
        }
        LongHashSet best = null;
        for (LongHashSet d : distinct) if (best == null || d.size() > best.size()) best = d;
        if (best == null) return new long[0];
        long[] all = best.values();
        int usable = 0;
        for (long w : all) if (buckets.has(w)) all[usable++] = w;
        return spread(all, usable);
    }

    private static final int REGION_SHIFT = 24;

    /**
     * A sampling stride of about {@code target} words that is 1 or a prime of at least 5: a
     * stride sharing a factor with the size of a struct in an array (RELA entries are 3 words,
     * many ops structs 2 or 4) would keep landing on the same field and never see the pointers.
     */
    public static int sampleStride(int target) {
        if (target <= 1) return 1;
        for (int s = Math.max(5, target); ; s++) {
            boolean prime = true;
            for (int d = 2; d * d <= s && prime; d++) prime = s % d != 0;
            if (prime) return s;
        }
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
        PageBuckets buckets = new PageBuckets(relative);
        return tally(buckets, relative, voters(v, width, buckets, skipFrom, skipTo));
    }

    /**
     * The same, when the range pointers fall in is known (from absolute symbol addresses):
     * only words in [{@code lo}, {@code hi}) vote. Needed on 32-bit kernels, where instruction
     * words outnumber pointers in every other 16 MiB region.
     */
    public static Vote voteInWindow(ByteView v, long[] relative, int width, long lo, long hi) {
        PageBuckets buckets = new PageBuckets(relative);
        int words = v.length() / width;
        int stride = sampleStride(words / (1 << 20));
        LongHashSet distinct = new LongHashSet(1 << 12);
        for (int i = 0; i < words && distinct.size() < (1 << 18); i += stride) {
            long w = v.word(i * width, width);
            if (Long.compareUnsigned(w, lo) >= 0 && Long.compareUnsigned(w, hi) < 0 && buckets.has(w)) distinct.add(w);
        }
        return tally(buckets, relative, spread(distinct.values(), distinct.size()));
    }

    /** At most MAX_VOTERS of {@code all[0..usable)}, evenly spread. */
    private static long[] spread(long[] all, int usable) {
        int pick = Math.max(1, usable / MAX_VOTERS);
        long[] out = new long[Math.min(MAX_VOTERS, usable)];
        int n = 0;
        for (int i = 0; i < usable && n < out.length; i += pick) out[n++] = all[i];
        return Arrays.copyOf(out, n);
    }

    private static Vote tally(PageBuckets buckets, long[] relative, long[] voters) {
        int nv = voters.length;
        // phase 1: a few hundred voters, spread over the image, propose bases
        LongCounter votes = new LongCounter();
        // a prime step, as for the sampling strides: voters come in image order, and a step
        // sharing a factor with the sampling stride and a struct's size (ops tables of 4 words
        // sampled one word in 5) would see only the non-pointer fields
        int step = sampleStride(nv / 600);
        for (int i = 0; i < nv; i += step) {
            int page = (int) Math.floorMod(voters[i], PAGE);
            if (buckets.size(page) > 4096) continue;    // cannot tell: too many candidates
            for (int j = buckets.from(page); j < buckets.to(page); j++) votes.increment(voters[i] - buckets.value(j));
        }
        long[] proposals = votes.top(32);
        // phase 2: every voter scores each proposal
        LongHashSet set = LongHashSet.of(relative);
        long best = 0;
        int bestVotes = 0, second = 0;
        for (long base : proposals) {
            if (votes.count(base) < 3) continue;
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

    /** The distinct relative addresses grouped by their offset within a page (a counting sort). */
    static final class PageBuckets {
        private final int[] start = new int[PAGE + 1];
        private final long[] values;

        PageBuckets(long[] sorted) {
            int distinct = 0;
            for (int i = 0; i < sorted.length; i++) {
                if (i > 0 && sorted[i] == sorted[i - 1]) continue;
                start[(int) Math.floorMod(sorted[i], PAGE) + 1]++;
                distinct++;
            }
            for (int p = 0; p < PAGE; p++) start[p + 1] += start[p];
            values = new long[distinct];
            int[] fill = Arrays.copyOf(start, PAGE);
            for (int i = 0; i < sorted.length; i++) {
                if (i > 0 && sorted[i] == sorted[i - 1]) continue;
                values[fill[(int) Math.floorMod(sorted[i], PAGE)]++] = sorted[i];
            }
        }

        int from(int page) { return start[page]; }
        int to(int page) { return start[page + 1]; }
        int size(int page) { return start[page + 1] - start[page]; }
        long value(int j) { return values[j]; }
        boolean has(long word) { return size((int) Math.floorMod(word, PAGE)) > 0; }
    }

}
