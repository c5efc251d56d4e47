package kernelloader.evidence;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import kernelloader.image.ByteView;

/**
 * Where the image is loaded, from its pointers to strings: a kernel's data holds thousands of
 * absolute pointers to names and format strings (sysfs attributes, module parameters, driver
 * names, relocation addends for them), and only the true base maps them onto the starts of
 * NUL-terminated strings in the image.
 */
public final class StringPointers {
    private StringPointers() {}

    /**
     * Scans begun ahead of need or done, by image (the array, and the length scanned of it): every
     * table found in one image (a flash dump holding several kernels) votes with the same scan.
     */
    private static final Map<byte[], Scan> SCANS = Collections.synchronizedMap(new WeakHashMap<>());

    private record Scan(int length, Future<long[]> starts) {}

    /**
     * Starts finding the string starts of {@code data[0..length)} on another thread: the kallsyms
     * reader calls this when it has found a token table in a raw image, so that the scan runs
     * while the table is decoded, and the base vote that follows finds it done.
     */
    public static void prefetch(byte[] data, int length) {
        SCANS.computeIfAbsent(data, d -> new Scan(length, CompletableFuture.supplyAsync(() -> scan(d, length))));
    }

    /**
     * Forgets what was found in {@code data}, whose bytes are about to change (an array reused
     * for the next window of a large file), once a scan still running on it has ended.
     */
    public static void forget(byte[] data) {
        Scan s = SCANS.remove(data);
        if (s == null) return;
        try {
            s.starts().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // nothing kept either way
        }
    }

    /** File offsets where a printable string of at least 4 characters starts after a NUL. */
    static long[] stringStarts(ByteView v) {
        Scan s = SCANS.get(v.array());
        if (s != null && s.length() == v.length()) {
            try {
                return s.starts().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                // scanned again below
            }
        }
        long[] r = scan(v.array(), v.length());
        SCANS.put(v.array(), new Scan(v.length(), CompletableFuture.completedFuture(r)));
        return r;
    }

    private static long[] scan(byte[] d, int n) {
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
