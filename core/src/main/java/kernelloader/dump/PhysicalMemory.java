package kernelloader.dump;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import kernelloader.image.ByteView;
import kernelloader.image.ElfHeader;
import kernelloader.image.ElfProgramHeader;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;

/**
 * The physical memory a dump file holds in ranges: an ELF core (QEMU's dump-guest-memory,
 * kdump's vmcore: PT_LOAD segments at their physical addresses) or a LiME file (a header per
 * range of System RAM). It is searched as the raw memory it holds, laid out by physical address
 * from its lowest range, as a pmemsave dump of the same machine is: the kernel's pages at their
 * page alignment, which the base vote counts on.
 *
 * <p>Ranges above what one array holds are left out, the highest first (ROM and MMIO windows at
 * 4 GiB on a PC); where laying out would mostly add holes, the ranges are searched as they lie
 * in the file ({@link #laidOut()} false).
 */
public final class PhysicalMemory {
    /** The layer kind of a memory dump read as an ELF core (its memory, not an ELF file). */
    public static final String ELF_CORE = "ELF core";
    /** The layer kind of a LiME memory image (LiME's lime_mem_range_header before each range). */
    public static final String LIME = "LiME";

    /** Holes a dump's memory may have, laid out by address, beyond its own size. */
    private static final double MAX_HOLES = 0.25;
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 64;
    /** LiME's magic, 0x4C694D45 little-endian ("EMiL" in the file), and its only version. */
    private static final int LIME_MAGIC = 0x4C694D45, LIME_VERSION = 1, LIME_HEADER = 32;

    /** One range kept: {@code size} bytes of physical memory from {@code physical}, at {@code fileOffset} of the dump. */
    public record Segment(long physical, long fileOffset, long size) {}

    private final String kind;
    private final String what;
    private final List<Segment> kept;
    private final long start;
    private final long end;
    private final boolean laidOut;

    private PhysicalMemory(String kind, String what, List<Segment> kept, long start, long end, boolean laidOut) {
        this.kind = kind;
        this.what = what;
        this.kept = kept;
        this.start = start;
        this.end = end;
        this.laidOut = laidOut;
    }

    /** Whether {@code kind} is a layer of this class's (a dump's memory). */
    public static boolean isKind(String kind) {
        return kind.equals(ELF_CORE) || kind.equals(LIME);
    }

    /** The memory of the ELF core whose header is {@code elf}, in a file of {@code length} bytes. */
    public static PhysicalMemory ofElfCore(ElfHeader elf, int length) {
        List<Segment> ranges = new ArrayList<>();
        int segments = 0;
        for (ElfProgramHeader p : elf.programHeaders()) {
            if (p.type() != ElfHeader.PT_LOAD || p.fileSize() <= 0) continue;
            segments++;
            ranges.add(new Segment(p.paddr(), p.offset(), p.fileSize()));
        }
        return of(ELF_CORE, elf.bits() + "-bit, e_machine " + elf.machine() + ", " + segments + " memory segments", ranges, length);
    }

    /** Whether {@code data} starts with a LiME range header. */
    public static boolean isLime(byte[] data, int length) {
        return length >= LIME_HEADER && new ByteView(data, length, java.nio.ByteOrder.LITTLE_ENDIAN).s32(0) == LIME_MAGIC;
    }

    /**
     * The memory of a LiME file: its ranges one after another, each a 32-byte header (magic,
     * version 1, first and last physical address, 8 reserved bytes) and its bytes. Null where
     * the first header is not one; ranges stop at the first header that is not.
     */
    public static PhysicalMemory ofLime(byte[] data, int length) {
        ByteView v = new ByteView(data, length, java.nio.ByteOrder.LITTLE_ENDIAN);
        List<Segment> ranges = new ArrayList<>();
        long at = 0;
        String stop = "";
        while (at + LIME_HEADER <= length) {
            int magic = v.s32((int) at);
            long version = v.u32((int) at + 4), first = v.u64((int) at + 8), last = v.u64((int) at + 16);
            if (magic != LIME_MAGIC || version != LIME_VERSION || Long.compareUnsigned(last, first) < 0) {
                stop = String.format(", no range header at 0x%x", at);
                break;
            }
            long size = last - first + 1;
            long data0 = at + LIME_HEADER;
            if (size <= 0 || size > length - data0) {
                stop = String.format(", the range at 0x%x runs past the file's end", at);
                ranges.add(new Segment(first, data0, length - data0));
                break;
            }
            ranges.add(new Segment(first, data0, size));
            at = data0 + size;
        }
        if (ranges.isEmpty()) return null;
        return of(LIME, ranges.size() + " memory ranges" + stop, ranges, length);
    }

    private static PhysicalMemory of(String kind, String what, List<Segment> ranges, int length) {
        List<Segment> loads = new ArrayList<>();
        for (Segment s : ranges) {
            if (s.size() > 0 && s.fileOffset() >= 0 && s.fileOffset() + s.size() <= length && s.physical() >= 0 && s.size() <= MAX_ARRAY) {
                loads.add(s);
            }
        }
        long start = Long.MAX_VALUE, end = 0;
        for (Segment s : loads) {
            start = Math.min(start, s.physical());
            end = Math.max(end, s.physical() + s.size());
        }
        // the highest range left out, then the next, until the rest fits one array
        while (!loads.isEmpty() && end - start > MAX_ARRAY) {
            Segment highest = loads.get(0);
            for (Segment s : loads) if (s.physical() > highest.physical()) highest = s;
            loads.remove(highest);
            end = 0;
            for (Segment s : loads) end = Math.max(end, s.physical() + s.size());
        }
        boolean laidOut = !loads.isEmpty() && end - start <= (long) (length * (1 + MAX_HOLES));
        return new PhysicalMemory(kind, what, Collections.unmodifiableList(loads), loads.isEmpty() ? 0 : start, end, laidOut);
    }

    /** "ELF core" or "LiME". */
    public String kind() { return kind; }

    /** Whether the memory is laid out by physical address (else searched as the file lies). */
    public boolean laidOut() { return laidOut; }

    /** The physical address of the memory image's first byte (when laid out). */
    public long start() { return start; }

    /** The ranges laid out, in file order. */
    public List<Segment> segments() { return kept; }

    /** The dump file's offset of {@code physical}, or -1 where no kept range holds it. */
    public long fileOffsetOf(long physical) {
        for (Segment s : kept) {
            if (physical >= s.physical() && physical - s.physical() < s.size()) return s.fileOffset() + (physical - s.physical());
        }
        return -1;
    }

    /** The memory as an image to search, with the dump as its outermost layer. */
    public KernelImage image(byte[] data, int length, List<Layer> layers) {
        if (!laidOut) return new KernelImage(data, length, append(layers, new Layer(kind, 0, length, what + ": searched as they lie")), null);
        byte[] memory = new byte[(int) (end - start)];
        for (Segment s : kept) System.arraycopy(data, (int) s.fileOffset(), memory, (int) (s.physical() - start), (int) s.size());
        return new KernelImage(memory, memory.length, append(layers, new Layer(kind, 0, length,
                what + ", " + kept.size() + " laid out by physical address (0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end)
                        + "): searched as raw memory")), null);
    }

    private static List<Layer> append(List<Layer> layers, Layer l) {
        List<Layer> out = new ArrayList<>(layers);
        out.add(l);
        return Collections.unmodifiableList(out);
    }
}
