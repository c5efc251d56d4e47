package kernelloader.ksymtab;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ByteView;
import kernelloader.image.KernelImage;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * The kernel's initialised memory as its code sees it: reads by virtual address over the peeled
 * image, through the layout's regions. Look-ups are a binary search, as the export search
 * translates millions of candidate pointers.
 */
final class VirtualMemory {
    private final ByteView bytes;
    private final long[] starts;
    private final long[] ends;
    private final long[] fileOffsets;
    private final boolean[] code;
    private final long highest;

    VirtualMemory(KernelImage img, KernelLayout layout) {
        bytes = new ByteView(img.data(), img.length(), layout.order());
        List<MemoryRegion> init = new ArrayList<>();
        for (MemoryRegion r : layout.regions()) {
            if (r.initialized() && r.size() > 0 && r.fileOffset() < img.length()) init.add(r);
        }
        init.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));   // kernel addresses are "negative" longs
        starts = new long[init.size()];
        ends = new long[init.size()];
        fileOffsets = new long[init.size()];
        code = new boolean[init.size()];
        for (int i = 0; i < init.size(); i++) {
            MemoryRegion r = init.get(i);
            code[i] = r.permissions().equals("r-x");
            starts[i] = r.start();
            // a region may claim more than the file holds (truncated images)
            ends[i] = r.start() + Math.min(r.size(), img.length() - r.fileOffset());
            fileOffsets[i] = r.fileOffset();
        }
        long hi = 0;
        for (long e : ends) if (Long.compareUnsigned(e, hi) > 0) hi = e;
        highest = hi;
    }

    ByteView bytes() { return bytes; }

    int regionCount() { return starts.length; }
    long regionStart(int i) { return starts[i]; }
    long regionEnd(int i) { return ends[i]; }
    long regionFileOffset(int i) { return fileOffsets[i]; }
    /** True for a region of code only (read, execute, no write). */
    boolean regionIsCode(int i) { return code[i]; }

    /** The image offset of {@code va}, or -1 when no initialised region holds it. */
    int offsetOf(long va) {
        // most candidate pointers fall outside the kernel altogether: two compares say so
        if (starts.length == 0 || Long.compareUnsigned(va, starts[0]) < 0
                || Long.compareUnsigned(va, highest) >= 0) return -1;
        int lo = 0, hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(va, starts[mid]) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(va, ends[mid]) >= 0) {
                lo = mid + 1;
            } else {
                return (int) (fileOffsets[mid] + (va - starts[mid]));
            }
        }
        return -1;
    }

    /** True if {@code size} bytes from {@code va} are all mapped and contiguous in the image. */
    boolean mapped(long va, int size) {
        int a = offsetOf(va);
        return a >= 0 && offsetOf(va + size - 1) == a + size - 1;
    }

    /**
     * Length of the symbol name at {@code va} (letters, digits, '_', '.', '$', not starting with
     * a digit, NUL-terminated, 2 to {@code max} characters), or -1 when there is none.
     */
    int identifierLength(long va, int max) {
        int off = offsetOf(va);
        if (off < 0) return -1;
        byte[] d = bytes.array();
        int limit = bytes.length();
        int c = off < limit ? d[off] : 0;
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return -1;
        for (int i = 1; i <= max && off + i < limit; i++) {
            c = d[off + i];
            if (c == 0) return i >= 2 ? i : -1;
            if (!(c == '_' || c == '.' || c == '$' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return -1;
            }
        }
        return -1;
    }

    /** The NUL-terminated string at {@code va} (at most {@code max} bytes), or null if unmapped or unterminated. */
    String string(long va, int max) {
        int off = offsetOf(va);
        if (off < 0) return null;
        byte[] d = bytes.array();
        for (int i = 0; i <= max && off + i < bytes.length(); i++) {
            if (d[off + i] == 0) return new String(d, off, i, StandardCharsets.ISO_8859_1);
        }
        return null;
    }
}
