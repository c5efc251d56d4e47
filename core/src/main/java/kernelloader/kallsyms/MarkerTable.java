package kernelloader.kallsyms;

import java.util.Arrays;

import kernelloader.image.ByteView;

/**
 * {@code kallsyms_markers}: the offset in kallsyms_names of every 256th symbol. Its elements
 * are {@code unsigned long} until 4.19 and u32 from 4.20 (80ffbaa5b1bd); the first is 0 and the
 * rest grow by at least 512 (every name takes a length byte and at least one token).
 */
record MarkerTable(int start, int width, long[] values) {
    static final long MIN_GROUP = 2 * 256;
    static final long MAX_GROUP = 300L * 256;

    int count() { return values.length; }
    int end() { return start + values.length * width; }

    /**
     * Reads a marker table that ends at {@code end}, walking back from its last (non-zero)
     * element to the 0 that starts it; null if the bytes there are not such a table.
     */
    static MarkerTable endingAt(ByteView v, int end, int width, int maxCount) {
        if (end - width < 0 || end > v.length()) return null;
        long prev = v.word(end - width, width);
        if (prev == 0) return null;
        int p = end - width;
        int count = 1;
        while (true) {
            p -= width;
            if (p < 0 || count >= maxCount) return null;
            long cur = v.word(p, width);
            long gap = prev - cur;
            if (gap < MIN_GROUP || gap > MAX_GROUP) return null;
            count++;
            if (cur == 0) break;
            prev = cur;
        }
        long[] values = new long[count];
        for (int i = 0; i < count; i++) values[i] = v.word(p + i * width, width);
        return new MarkerTable(p, width, values);
    }

    /**
     * Reads a marker table that starts at {@code start} (with its 0), for names stored without
     * a token table, where what follows the markers is known only by where the numbers stop
     * growing like markers.
     */
    static MarkerTable startingAt(ByteView v, int start, int width, int maxCount) {
        if (!v.fits(start, 2L * width) || v.word(start, width) != 0) return null;
        int count = 1;
        long prev = 0;
        while (count < maxCount && v.fits(start + (long) count * width, width)) {
            long cur = v.word(start + count * width, width);
            long gap = cur - prev;
            if (gap < MIN_GROUP || gap > MAX_GROUP) break;
            prev = cur;
            count++;
        }
        if (count < 2) return null;
        long[] values = new long[count];
        for (int i = 0; i < count; i++) values[i] = v.word(start + i * width, width);
        return new MarkerTable(start, width, values);
    }

    /** The first {@code count} markers. */
    MarkerTable truncated(int count) {
        return new MarkerTable(start, width, Arrays.copyOf(values, count));
    }
}
