package kernelloader.evidence;

import java.util.Arrays;

/**
 * A growable open-addressing set of longs that remembers insertion order: membership tests over
 * millions of image words without boxing.
 */
public final class LongHashSet {
    private long[] slots;
    private boolean[] used;
    private long[] order;
    private int size;

    public LongHashSet(int capacity) {
        int cap = Integer.highestOneBit(Math.max(16, capacity)) << 1;
        slots = new long[cap];
        used = new boolean[cap];
        order = new long[Math.max(16, capacity)];
    }

    /** A set holding {@code values}. */
    public static LongHashSet of(long[] values) {
        LongHashSet s = new LongHashSet(values.length);
        for (long v : values) s.add(v);
        return s;
    }

    public int size() { return size; }

    public boolean contains(long v) {
        int mask = slots.length - 1;
        long h = v * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (used[i]) {
            if (slots[i] == v) return true;
            i = (i + 1) & mask;
        }
        return false;
    }

    /** Adds {@code v}; true if it was not there before. */
    public boolean add(long v) {
        if (size * 2 >= slots.length) grow();
        int mask = slots.length - 1;
        long h = v * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (used[i]) {
            if (slots[i] == v) return false;
            i = (i + 1) & mask;
        }
        used[i] = true;
        slots[i] = v;
        if (size == order.length) order = Arrays.copyOf(order, size * 2);
        order[size++] = v;
        return true;
    }

    private void grow() {
        long[] old = Arrays.copyOf(order, size);
        slots = new long[slots.length * 2];
        used = new boolean[slots.length];
        size = 0;
        for (long v : old) add(v);
    }

    long[] values() { return Arrays.copyOf(order, size); }
}
