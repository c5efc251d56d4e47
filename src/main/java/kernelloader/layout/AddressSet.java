package kernelloader.layout;

import java.util.Arrays;

/** An open-addressing hash set of longs: membership tests over millions of image words. */
public final class AddressSet {
    private static final long EMPTY = 0x5a5a_5a5a_5a5a_5a5bL;
    private final long[] slots;
    private final int mask;
    private boolean hasEmptyValue;

    public AddressSet(long[] values) {
        int cap = Integer.highestOneBit(Math.max(16, values.length * 3)) << 1;
        slots = new long[cap];
        Arrays.fill(slots, EMPTY);
        mask = cap - 1;
        for (long v : values) add(v);
    }

    private static int hash(long v) {
        long h = v * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private void add(long v) {
        if (v == EMPTY) {
            hasEmptyValue = true;
            return;
        }
        int i = hash(v) & mask;
        while (slots[i] != EMPTY) {
            if (slots[i] == v) return;
            i = (i + 1) & mask;
        }
        slots[i] = v;
    }

    public boolean contains(long v) {
        if (v == EMPTY) return hasEmptyValue;
        int i = hash(v) & mask;
        while (true) {
            long s = slots[i];
            if (s == v) return true;
            if (s == EMPTY) return false;
            i = (i + 1) & mask;
        }
    }
}
