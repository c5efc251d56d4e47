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
        long[] a = new long[t.size()];
        for (int i = 0; i < a.length; i++) a[i] = t.address(i);
        Arrays.sort(a);   // unsigned order equals signed order within one half of the address space
        return new FunctionExtents(a);
    }

    /** The first symbol address above {@code address}, or -1 if none (the last symbol). */
    public long nextAbove(long address) {
        int i = Arrays.binarySearch(sorted, address);
        i = i < 0 ? -i - 1 : i + 1;
        while (i < sorted.length && sorted[i] == address) i++;
        return i < sorted.length ? sorted[i] : -1;
    }

    /** The bytes from {@code address} to the next symbol, at most {@code cap} (also for the last symbol). */
    public long extent(long address, long cap) {
        long next = nextAbove(address);
        return next < 0 ? cap : Math.min(cap, next - address);
    }
}
