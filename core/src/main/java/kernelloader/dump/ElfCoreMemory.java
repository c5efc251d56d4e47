package kernelloader.dump;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import kernelloader.image.ElfHeader;
import kernelloader.image.ElfProgramHeader;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;

/**
 * The memory an ELF core holds (QEMU's dump-guest-memory, kdump's vmcore): its PT_LOAD segments
 * are physical memory, not a kernel's layout, so it is searched as the raw memory it holds, laid
 * out by physical address from its lowest segment (as a pmemsave dump of the same machine is: the
 * kernel's pages at their page alignment, which the base vote counts on).
 *
 * <p>Segments above what one array holds are left out, the highest first (ROM and MMIO windows
 * at 4 GiB on a PC); where laying out would mostly add holes, the segments are searched as they
 * lie in the file ({@link #laidOut()} false).
 */
public final class ElfCoreMemory {
    /** The layer kind of a memory dump read as an ELF core (its memory, not an ELF file). */
    public static final String KIND = "ELF core";

    /** Holes a core's memory may have, laid out by address, beyond its own size. */
    private static final double MAX_HOLES = 0.25;
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 64;

    /** One PT_LOAD segment kept: {@code size} bytes of physical memory from {@code physical}, at {@code fileOffset} of the core. */
    public record Segment(long physical, long fileOffset, long size) {}

    private final ElfHeader elf;
    private final int segments;
    private final List<Segment> kept;
    private final long start;
    private final long end;
    private final boolean laidOut;

    private ElfCoreMemory(ElfHeader elf, int segments, List<Segment> kept, long start, long end, boolean laidOut) {
        this.elf = elf;
        this.segments = segments;
        this.kept = kept;
        this.start = start;
        this.end = end;
        this.laidOut = laidOut;
    }

    /** The memory of the core whose header is {@code elf}, in a file of {@code length} bytes. */
    public static ElfCoreMemory of(ElfHeader elf, int length) {
        List<ElfProgramHeader> loads = new ArrayList<>();
        int segments = 0;
        for (ElfProgramHeader p : elf.programHeaders()) {
            if (p.type() != ElfHeader.PT_LOAD || p.fileSize() <= 0) continue;
            segments++;
            if (fits(p, length)) loads.add(p);
        }
        long start = Long.MAX_VALUE, end = 0;
        for (ElfProgramHeader p : loads) {
            start = Math.min(start, p.paddr());
            end = Math.max(end, p.paddr() + p.fileSize());
        }
        // the highest segment left out, then the next, until the rest fits one array
        while (!loads.isEmpty() && end - start > MAX_ARRAY) {
            ElfProgramHeader highest = loads.get(0);
            for (ElfProgramHeader p : loads) if (p.paddr() > highest.paddr()) highest = p;
            loads.remove(highest);
            end = 0;
            for (ElfProgramHeader p : loads) end = Math.max(end, p.paddr() + p.fileSize());
        }
        List<Segment> kept = new ArrayList<>();
        for (ElfProgramHeader p : loads) kept.add(new Segment(p.paddr(), p.offset(), p.fileSize()));
        boolean laidOut = !kept.isEmpty() && end - start <= (long) (length * (1 + MAX_HOLES));
        return new ElfCoreMemory(elf, segments, Collections.unmodifiableList(kept), kept.isEmpty() ? 0 : start, end, laidOut);
    }

    /** Whether the memory is laid out by physical address (else searched as the file lies). */
    public boolean laidOut() { return laidOut; }

    /** The physical address of the memory image's first byte (when laid out). */
    public long start() { return start; }

    /** The segments laid out, in file order. */
    public List<Segment> segments() { return kept; }

    /** The core's file offset of {@code physical}, or -1 where no kept segment holds it. */
    public long fileOffsetOf(long physical) {
        for (Segment s : kept) {
            if (physical >= s.physical() && physical - s.physical() < s.size()) return s.fileOffset() + (physical - s.physical());
        }
        return -1;
    }

    /** The memory as an image to search, with the core as its outermost layer. */
    public KernelImage image(byte[] data, int length, List<Layer> layers) {
        String what = elf.bits() + "-bit, e_machine " + elf.machine() + ", " + segments + " memory segments";
        if (!laidOut) return new KernelImage(data, length, append(layers, new Layer(KIND, 0, length, what + ": searched as they lie")), null);
        byte[] memory = new byte[(int) (end - start)];
        for (Segment s : kept) System.arraycopy(data, (int) s.fileOffset(), memory, (int) (s.physical() - start), (int) s.size());
        return new KernelImage(memory, memory.length, append(layers, new Layer(KIND, 0, length,
                what + ", " + kept.size() + " laid out by physical address (0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end)
                        + "): searched as raw memory")), null);
    }

    /** Whether a core's segment lies in the file and its memory in what an array can hold. */
    private static boolean fits(ElfProgramHeader p, int length) {
        return p.fileSize() > 0 && p.offset() >= 0 && p.offset() + p.fileSize() <= length && p.paddr() >= 0
                && p.fileSize() <= MAX_ARRAY;
    }

    private static List<Layer> append(List<Layer> layers, Layer l) {
        List<Layer> out = new ArrayList<>(layers);
        out.add(l);
        return Collections.unmodifiableList(out);
    }
}
