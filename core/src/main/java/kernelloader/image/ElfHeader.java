package kernelloader.image;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The ELF file header and its program headers, read in place. Enough to know a vmlinux's word
 * size, byte order, machine, entry point and how file offsets map to virtual addresses.
 */
public final class ElfHeader {
    public static final int PT_LOAD = 1;
    /** e_type of a core file: a memory dump (QEMU's dump-guest-memory, kdump's vmcore). */
    public static final int ET_CORE = 4;

    private final int bits;
    private final ByteOrder order;
    private final int type;
    private final int machine;
    private final long entry;
    private final List<ElfProgramHeader> programHeaders;
    private List<ElfSectionHeader> sections = List.of();

    private ElfHeader(int bits, ByteOrder order, int type, int machine, long entry, List<ElfProgramHeader> phdrs) {
        this.bits = bits;
        this.order = order;
        this.type = type;
        this.machine = machine;
        this.entry = entry;
        this.programHeaders = phdrs;
    }

    public static boolean hasMagic(byte[] data, int length, int pos) {
        return pos >= 0 && pos + 16 <= length && data[pos] == 0x7f && data[pos + 1] == 'E'
                && data[pos + 2] == 'L' && data[pos + 3] == 'F';
    }

    /** Parses the ELF at the start of {@code data}; a header that lies gives a clear error. */
    public static ElfHeader parse(byte[] data, int length) throws KernelFormatException {
        if (!hasMagic(data, length, 0)) throw new KernelFormatException("not an ELF file (no \\x7fELF magic)");
        int cls = data[4], enc = data[5];
        if ((cls != 1 && cls != 2) || (enc != 1 && enc != 2)) {
            throw new KernelFormatException("ELF header: bad class " + cls + " or data encoding " + enc);
        }
        int bits = cls == 2 ? 64 : 32;
        ByteOrder order = enc == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        ByteView v = new ByteView(data, length, order);
        int headerSize = bits == 64 ? 64 : 52;
        if (length < headerSize) throw new KernelFormatException("ELF header truncated (" + length + " bytes)");
        int machine = v.u16(18);
        long entry, phoff;
        int phentsize, phnum;
        if (bits == 64) {
            entry = v.u64(24);
            phoff = v.u64(32);
            phentsize = v.u16(54);
            phnum = v.u16(56);
        } else {
            entry = v.u32(24);
            phoff = v.u32(28);
            phentsize = v.u16(42);
            phnum = v.u16(44);
        }
        int minEntry = bits == 64 ? 56 : 32;
        List<ElfProgramHeader> phdrs = new ArrayList<>();
        if (phnum > 0) {
            if (phentsize < minEntry || !v.fits(phoff, (long) phnum * phentsize)) {
                throw new KernelFormatException("ELF program headers out of bounds (offset 0x"
                        + Long.toHexString(phoff) + ", " + phnum + " x " + phentsize + " bytes, file " + length + ")");
            }
            for (int i = 0; i < phnum; i++) {
                phdrs.add(ElfProgramHeader.read(v, (int) (phoff + (long) i * phentsize), bits));
            }
        }
        ElfHeader h = new ElfHeader(bits, order, v.u16(16), machine, entry, Collections.unmodifiableList(phdrs));
        h.sections = ElfSectionHeader.readAll(v, bits);
        return h;
    }

    /** The section headers (empty when the file has none or they do not fit). */
    public List<ElfSectionHeader> sections() { return sections; }

    public int bits() { return bits; }
    public ByteOrder order() { return order; }
    public int machine() { return machine; }
    /** e_type: ET_EXEC for a vmlinux, ET_CORE for a memory dump. */
    public int type() { return type; }
    public boolean isCore() { return type == ET_CORE; }
    public long entry() { return entry; }
    public List<ElfProgramHeader> programHeaders() { return programHeaders; }

    /** The virtual address of file offset {@code off}, or -1 if no PT_LOAD segment holds it. */
    public long fileOffsetToAddress(long off) {
        for (ElfProgramHeader p : programHeaders) {
            if (p.type() == PT_LOAD && off >= p.offset() && off < p.offset() + p.fileSize()) {
                return p.vaddr() + (off - p.offset());
            }
        }
        return -1;
    }
}
