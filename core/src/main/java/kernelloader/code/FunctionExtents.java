package kernelloader.code;

import java.util.Arrays;

import kernelloader.kallsyms.KallsymsTable;

/**
 * Where each symbol's code may run to: up to the next higher address any symbol of the table
 * has. kallsyms gives no sizes, but every function of a kernel has its own symbol (static ones
 * as 't'), so no function's body runs past the next symbol; a disassembler bounded this way
 * never runs one function into the next through a call it took for one that returns.
 */
public final class FunctionExtents {
    private final long[] sorted;

    private FunctionExtents(long[] sorted) {
        this.sorted = sorted;
    }

    public static FunctionExtents of(KallsymsTable t) {
        return of(t, new long[0]);
    }

    /** The table's symbols and {@code more} addresses that start something (exports kallsyms does not name). */
    public static FunctionExtents of(KallsymsTable t, long[] more) {
        long[] a = new long[t.size() + more.length];
        for (int i = 0; i < t.size(); i++) a[i] = t.address(i);
        System.arraycopy(more, 0, a, t.size(), more.length);
        Arrays.sort(a);   // unsigned order equals signed order within one half of the address space
        return new FunctionExtents(a);
    }

    /** Index in {@code sorted} of the first symbol address above {@code address}; sorted.length if none. */
    private int indexAbove(long address) {
        int i = Arrays.binarySearch(sorted, address);
        i = i < 0 ? -i - 1 : i + 1;
        while (i < sorted.length && sorted[i] == address) i++;
        return i;
    }

    /**
     * The bytes from {@code address} to the next symbol, at most {@code cap} (also for the last
     * symbol). Addresses are compared as signed longs, which orders a kernel's addresses right:
     * they all lie in one half of the address space.
     */
    public long extent(long address, long cap) {
        int i = indexAbove(address);
        return i == sorted.length ? cap : Math.min(cap, sorted[i] - address);
    }
}
