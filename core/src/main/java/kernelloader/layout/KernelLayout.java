package kernelloader.layout;

import java.nio.ByteOrder;
import java.util.List;

/**
 * Where the kernel lives in memory: architecture, word size, byte order, the Ghidra language to
 * load it with, the address of the image's first byte, its regions and entry point; each
 * inferred value with its evidence.
 */
public record KernelLayout(Inference<Architecture> arch, int bits, ByteOrder order, Inference<Long> base,
                           List<MemoryRegion> regions, Inference<Long> entry) {

    public String ghidraLanguage() {
        return arch == null ? null : arch.value().ghidraLanguage(bits, order);
    }

    public String compilerSpec() {
        return arch == null ? null : arch.value().compilerSpec();
    }

    /**
     * Whether a function may start at {@code va}: on the architecture's instruction grid (an
     * ARM "t" symbol at an odd address is data in the text, such as a __setup string, not a
     * Thumb function: kallsyms lists Thumb functions at even addresses).
     */
    public boolean instructionStart(long va) {
        int align = arch == null ? 1 : arch.value().instructionAlignment();
        return (va & (align - 1)) == 0;
    }

    /** The region holding {@code va}, or null. */
    public MemoryRegion regionOf(long va) {
        for (MemoryRegion r : regions) if (r.contains(va)) return r;
        return null;
    }

    /** The image file offset of {@code va}, or -1 if no initialised region holds it. */
    public long fileOffsetOf(long va) {
        MemoryRegion r = regionOf(va);
        return r == null || !r.initialized() ? -1 : r.fileOffset() + (va - r.start());
    }
}
