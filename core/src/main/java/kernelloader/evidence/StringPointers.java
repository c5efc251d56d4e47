package kernelloader.evidence;

import java.util.Arrays;

import kernelloader.image.ByteView;

/**
 * Where the image is loaded, from its pointers to strings: a kernel's data holds thousands of
 * absolute pointers to names and format strings (sysfs attributes, module parameters, driver
 * names, relocation addends for them), and only the true base maps them onto the starts of
 * NUL-terminated strings in the image.
 */
public final class StringPointers {
    private StringPointers() {}

    /** File offsets where a printable string of at least 4 characters starts after a NUL. */
    static long[] stringStarts(ByteView v) {
        byte[] d = v.array();
        int n = v.length();
        long[] out = new long[1 << 16];
        int count = 0;
        for (int i = 1; i + 4 < n; i++) {
            if (d[i - 1] != 0 || !printable(d[i])) continue;
            int j = i;
            while (j < n && j - i < 512 && printable(d[j])) j++;
            if (j < n && d[j] == 0 && j - i >= 4) {
                if (count == out.length) out = Arrays.copyOf(out, count * 2);
                out[count++] = i;
            }
            i = j;
        }
        return Arrays.copyOf(out, count);
    }

    private static boolean printable(byte b) {
        return (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\t';
    }

    /**
     * The base voted by pointers to strings, or null. With the kernel's address range known
     * ({@code lo} < {@code hi}, from its symbols) only words in that range vote.
     */
    public static BaseAddressVoter.Vote vote(ByteView v, int width, long lo, long hi) {
        long[] starts = stringStarts(v);
        if (starts.length < 64) return null;
        return lo == hi ? BaseAddressVoter.vote(v, starts, width, 0, 0) : BaseAddressVoter.voteInWindow(v, starts, width, lo, hi);
    }
}
