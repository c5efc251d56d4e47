package kernelloader.ghidra;

import java.util.List;

import ghidra.program.model.address.Address;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryAccessException;
import ghidra.program.model.mem.MemoryBlock;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.kallsyms.KallsymsTable;

/**
 * The kernel as a program some other loader made (ELF loader on a stripped vmlinux, raw binary,
 * memory dump) holds it: its initialised memory laid out as one image from the lowest block,
 * searched by the same core as a file.
 */
final class ProgramKernel {
    /** Programs spanning more than this are not one kernel image. */
    static final long MAX_SPAN = 1L << 30;

    private ProgramKernel() {}

    /** The image of the program's memory, or null if it is empty or too sparse to be a kernel. */
    static KernelImage image(Program program) throws MemoryAccessException {
        MemoryBlock[] blocks = program.getMemory().getBlocks();
        Address lo = null, hi = null;
        for (MemoryBlock b : blocks) {
            if (!b.isInitialized() || b.isOverlay()) continue;
            if (lo == null || b.getStart().compareTo(lo) < 0) lo = b.getStart();
            if (hi == null || b.getEnd().compareTo(hi) > 0) hi = b.getEnd();
        }
        if (lo == null || hi.subtract(lo) + 1 > MAX_SPAN) return null;
        int size = (int) (hi.subtract(lo) + 1);
        byte[] data = new byte[size];
        for (MemoryBlock b : blocks) {
            if (!b.isInitialized() || b.isOverlay()) continue;
            int at = (int) b.getStart().subtract(lo);
            b.getBytes(b.getStart(), data, at, (int) b.getSize());
        }
        return new KernelImage(data, size, List.of(new Layer("Ghidra program memory", lo.getOffset(), size,
                program.getName() + " from 0x" + Long.toHexString(lo.getOffset()))), null);
    }

    /** The kallsyms table in the program's memory, or null. */
    static KallsymsTable kallsyms(Program program) throws MemoryAccessException {
        KernelImage img = image(program);
        if (img == null) return null;
        int bits = program.getDefaultPointerSize() * 8;
        return KallsymsFinder.find(img, new KallsymsFinder.Hints(bits == 32 || bits == 64 ? bits : null, null)).table();
    }
}
