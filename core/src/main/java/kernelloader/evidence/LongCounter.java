package kernelloader.evidence;

import java.util.Arrays;

/** Counts occurrences of long keys without boxing: millions of image words per second. */
final class LongCounter {
    private long[] keys;
    private int[] counts;
    private boolean[] used;
    private int size;

    LongCounter() {
        keys = new long[1024];
        counts = new int[1024];
        used = new boolean[1024];
    }

    void increment(long k) {
        if (size * 2 >= keys.length) grow();
        int mask = keys.length - 1;
        long h = k * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (used[i] && keys[i] != k) i = (i + 1) & mask;
        if (!used[i]) {
            used[i] = true;
            keys[i] = k;
            size++;
        }
        counts[i]++;
    }

    private void grow() {
        long[] ok = keys;
        int[] oc = counts;
        boolean[] ou = used;
        keys = new long[ok.length * 2];
        counts = new int[ok.length * 2];
        used = new boolean[ok.length * 2];
        size = 0;
        for (int j = 0; j < ok.length; j++) {
            if (!ou[j]) continue;
            int mask = keys.length - 1;
            long h = ok[j] * 0x9E3779B97F4A7C15L;
            int i = (int) (h ^ (h >>> 32)) & mask;
            while (used[i]) i = (i + 1) & mask;
            used[i] = true;
            keys[i] = ok[j];
            counts[i] = oc[j];
            size++;
        }
    }

    int count(long k) {
        int mask = keys.length - 1;
        long h = k * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (used[i]) {
            if (keys[i] == k) return counts[i];
            i = (i + 1) & mask;
        }
        return 0;
    }

    /** The {@code n} keys with the highest counts, highest first. */
    long[] top(int n) {
        long[] best = new long[n];
        int[] bestCount = new int[n];
        int filled = 0;
        for (int j = 0; j < keys.length; j++) {
            if (!used[j]) continue;
            int c = counts[j];
            int pos = filled;
            while (pos > 0 && bestCount[pos - 1] < c) pos--;
            if (pos >= n) continue;
            int last = Math.min(filled, n - 1);
            for (int m = last; m > pos; m--) {
                best[m] = best[m - 1];
                bestCount[m] = bestCount[m - 1];
            }
            best[pos] = keys[j];
            bestCount[pos] = c;
            if (filled < n) filled++;
        }
        return Arrays.copyOf(best, filled);
    }
}
