package kernelloader.ghidra;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressSpace;
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
 * The kernel a program holds, as the core's {@link Kernel}: the program's initialised memory in
 * its default address space laid out as one image from its lowest block, with the program's own
 * memory map. The analyzer, the scripts and the exporters all ask here, so a program's memory is
 * copied once per state of the program, not once per call: a kernel is kept until the program
 * changes (its modification number moves: the analyzer's own labels do that), a "no kernel here"
 * until its memory blocks change. The program's memory is taken as it is: relocations the model
 * finds are read (exports) but not applied again to what is written out.
 */
final class ProgramKernels {
    /** Programs spanning more than this are not one kernel image. */
    static final long MAX_SPAN = 1L << 30;
    private static final KernelOptions AS_IT_IS = KernelOptions.DEFAULT.withRelocations(false);

    private record Entry(long modification, Kernel kernel) {}

    /** The last kernel read, one at a time: they are tens of MB each. */
    private static final Map<Program, Entry> KERNELS = new WeakHashMap<>();
    /** Programs without a kernel, by the blocks they had then: a verdict costs nothing to keep. */
    private static final Map<Program, String> NONE = new WeakHashMap<>();
    private static final Map<Program, String> WHY_NONE = new WeakHashMap<>();

    private ProgramKernels() {}

    /** The kernel in {@code program}'s memory, or why there is none (no memory, too sparse, no kallsyms). */
    static synchronized Facet<Kernel> of(Program program) {
        long mod = program.getModificationNumber();
        Entry e = KERNELS.get(program);
        if (e != null && e.modification() == mod) return Facet.of(e.kernel());
        String blocks = blocksOf(program);
        if (blocks.equals(NONE.get(program))) return Facet.absent(WHY_NONE.get(program));
        Facet<Kernel> k = read(program);
        if (k.present()) {
            KERNELS.clear();
            KERNELS.put(program, new Entry(mod, k.orNull()));
        } else {
            NONE.put(program, blocks);
            WHY_NONE.put(program, k.why());
        }
        return k;
    }

    /** What the memory map is: a verdict of "no kernel" holds while this stays the same. */
    private static String blocksOf(Program program) {
        StringBuilder sb = new StringBuilder(program.getLanguageID().getIdAsString());
        for (MemoryBlock b : program.getMemory().getBlocks()) {
            sb.append(';').append(b.getStart()).append('+').append(b.getSize()).append(b.isInitialized() ? 'i' : 'u');
        }
        return sb.toString();
    }

    private static Facet<Kernel> read(Program program) {
        try {
            KernelImage img = image(program);
            if (img == null) {
                return Facet.absent(program.getName() + ": no initialised memory, or spread over more than 1 GiB: not one kernel image");
            }
            Kernel k = Kernel.fromMemory(program.getName(), img, layout(program, img), AS_IT_IS);
            // a program without a table holds no kernel worth keeping: keep the reason, not its bytes
            return k.kallsyms().present() ? Facet.of(k) : Facet.absent(k.kallsyms().why());
        } catch (MemoryAccessException | RuntimeException e) {
            // a program this does not understand (odd address spaces, ...) is no kernel to us, and no error to Ghidra
            return Facet.absent(program.getName() + ": its memory could not be read as one image: " + e);
        }
    }

    /** The initialised, non-overlay blocks of the default address space. */
    private static List<MemoryBlock> blocks(Program program) {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        List<MemoryBlock> out = new ArrayList<>();
        for (MemoryBlock b : program.getMemory().getBlocks()) {
            if (b.isInitialized() && !b.isOverlay() && b.getStart().getAddressSpace().equals(space)) out.add(b);
        }
        return out;
    }

    /** The image of the program's memory, or null if it is empty or too sparse to be a kernel. */
    private static KernelImage image(Program program) throws MemoryAccessException {
        Address lo = null, hi = null;
        List<MemoryBlock> blocks = blocks(program);
        for (MemoryBlock b : blocks) {
            if (lo == null || b.getStart().compareTo(lo) < 0) lo = b.getStart();
            if (hi == null || b.getEnd().compareTo(hi) > 0) hi = b.getEnd();
        }
        if (lo == null || hi.subtract(lo) + 1 > MAX_SPAN) return null;
        int size = (int) (hi.subtract(lo) + 1);
        byte[] data = new byte[size];
        for (MemoryBlock b : blocks) {
            int at = (int) b.getStart().subtract(lo);
            b.getBytes(b.getStart(), data, at, (int) b.getSize());
        }
        return new KernelImage(data, size, List.of(new Layer("Ghidra program memory", lo.getOffset(), size,
                program.getName() + " from 0x" + Long.toHexString(lo.getOffset()))), null);
    }

    /**
     * The program's memory map as the core describes one: a region per block, offsets into
     * {@code img}, whose first byte (the lowest block) is the base. An architecture the core does
     * not know is left unknown: kallsyms is still read, the ELF then refused with a reason.
     */
    private static KernelLayout layout(Program program, KernelImage img) {
        long lo = img.layers().get(0).offset();
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        List<MemoryRegion> regions = new ArrayList<>();
        for (MemoryBlock b : program.getMemory().getBlocks()) {
            if (b.isOverlay() || !b.getStart().getAddressSpace().equals(space)) continue;
            String perm = (b.isRead() ? "r" : "-") + (b.isWrite() ? "w" : "-") + (b.isExecute() ? "x" : "-");
            long start = b.getStart().getOffset();
            regions.add(new MemoryRegion(b.getName(), start, b.getSize(), b.isInitialized() ? start - lo : -1, perm));
        }
        Architecture arch = Architecture.ofGhidraProcessor(program.getLanguage().getProcessor().toString());
        ByteOrder order = program.getLanguage().isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        long entry = program.getSymbolTable().getExternalEntryPointIterator().hasNext()
                ? program.getSymbolTable().getExternalEntryPointIterator().next().getOffset() : program.getImageBase().getOffset();
        return new KernelLayout(arch == null ? null : Inference.certain(arch, "Ghidra language " + program.getLanguageID()),
                program.getDefaultPointerSize() * 8, order, Inference.certain(lo, "the program's lowest block"),
                regions, Inference.certain(entry, "Ghidra entry point"));
    }
}
