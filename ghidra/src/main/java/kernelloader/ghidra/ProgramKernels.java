package kernelloader.ghidra;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import ghidra.program.model.address.Address;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryAccessException;
import ghidra.program.model.mem.MemoryBlock;
import kernelloader.image.Facet;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.Architecture;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * The kernel a program holds, as the core's {@link Kernel}: the program's initialised memory
 * laid out as one image from its lowest block, with the program's own memory map. The analyzer,
 * the scripts and the exporters all ask here, so a program's memory is copied once, not once per
 * call: the model is kept per program until the program changes (its modification number moves).
 */
final class ProgramKernels {
    /** Programs spanning more than this are not one kernel image. */
    static final long MAX_SPAN = 1L << 30;

    private record Entry(long modification, Facet<Kernel> kernel) {}

    private static final Map<Program, Entry> CACHE = new WeakHashMap<>();

    private ProgramKernels() {}

    /** The kernel in {@code program}'s memory, or why there is none (no memory, too sparse, no kallsyms). */
    static synchronized Facet<Kernel> of(Program program) {
        long mod = program.getModificationNumber();
        Entry e = CACHE.get(program);
        if (e == null || e.modification() != mod) {
            e = new Entry(mod, read(program));
            CACHE.clear();   // one kernel model in memory at a time: they are tens of MB each
            CACHE.put(program, e);
        }
        return e.kernel();
    }

    private static Facet<Kernel> read(Program program) {
        try {
            KernelImage img = image(program);
            if (img == null) {
                return Facet.absent(program.getName() + ": no initialised memory, or spread over more than 1 GiB: not one kernel image");
            }
            Facet<KernelLayout> layout = layout(program, img);
            if (!layout.present()) return Facet.absent(layout.why());
            Kernel k = Kernel.fromMemory(program.getName(), img, layout.orNull(), KernelOptions.DEFAULT);
            // a program without a table holds no kernel worth keeping: keep the reason, not its bytes
            return k.kallsyms().present() ? Facet.of(k) : Facet.absent(k.kallsyms().why());
        } catch (MemoryAccessException e) {
            return Facet.absent(program.getName() + ": memory could not be read: " + e.getMessage());
        }
    }

    /** The image of the program's memory, or null if it is empty or too sparse to be a kernel. */
    private static KernelImage image(Program program) throws MemoryAccessException {
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

    /** The program's memory map as the core describes one: a region per block, offsets into {@code img}. */
    private static Facet<KernelLayout> layout(Program program, KernelImage img) {
        long lo = img.layers().get(0).offset();
        List<MemoryRegion> regions = new ArrayList<>();
        for (MemoryBlock b : program.getMemory().getBlocks()) {
            if (b.isOverlay() || !b.getStart().getAddressSpace().isMemorySpace()) continue;
            String perm = (b.isRead() ? "r" : "-") + (b.isWrite() ? "w" : "-") + (b.isExecute() ? "x" : "-");
            long start = b.getStart().getOffset();
            regions.add(new MemoryRegion(b.getName(), start, b.getSize(), b.isInitialized() ? start - lo : -1, perm));
        }
        Architecture arch = Architecture.ofGhidraProcessor(program.getLanguage().getProcessor().toString());
        if (arch == null) {
            return Facet.absent(program.getName() + ": no Linux architecture for processor " + program.getLanguage().getProcessor());
        }
        ByteOrder order = program.getLanguage().isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        long entry = program.getSymbolTable().getExternalEntryPointIterator().hasNext()
                ? program.getSymbolTable().getExternalEntryPointIterator().next().getOffset() : program.getImageBase().getOffset();
        return Facet.of(new KernelLayout(Inference.certain(arch, "Ghidra language " + program.getLanguageID()),
                program.getDefaultPointerSize() * 8, order, Inference.certain(program.getImageBase().getOffset(), "Ghidra image base"),
                regions, Inference.certain(entry, "Ghidra entry point")));
    }
}
