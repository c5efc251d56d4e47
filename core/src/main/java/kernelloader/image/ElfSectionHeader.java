package kernelloader.image;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One ELF section header, with its name resolved. */
public record ElfSectionHeader(String name, int type, long flags, long addr, long offset, long size,
                               int link, int info, long addralign, long entsize) {
    public static final int SHT_SYMTAB = 2, SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9;
    public static final long SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4;

    public ElfSectionHeader(String name, int type, long flags, long addr, long offset, long size) {
        this(name, type, flags, addr, offset, size, 0, 0, 0, 0);
    }

    public boolean allocated() { return (flags & SHF_ALLOC) != 0; }

    /**
     * Every section header of the ELF in {@code v}; an empty list if there are none or the
     * table does not fit in the file (a stripped or truncated vmlinux still loads by segments).
     */
    static List<ElfSectionHeader> readAll(ByteView v, int bits) {
        long shoff = bits == 64 ? v.u64(40) : v.u32(32);
        int shentsize = v.u16(bits == 64 ? 58 : 46), shnum = v.u16(bits == 64 ? 60 : 48), shstrndx = v.u16(bits == 64 ? 62 : 50);
        int min = bits == 64 ? 64 : 40;
        if (shoff == 0 || shnum == 0 || shentsize < min || !v.fits(shoff, (long) shnum * shentsize) || shstrndx >= shnum) {
            return List.of();
        }
        long[][] raw = new long[shnum][];
        for (int i = 0; i < shnum; i++) {
            int p = (int) (shoff + (long) i * shentsize);
            raw[i] = bits == 64
                    ? new long[] {v.u32(p), v.u32(p + 4), v.u64(p + 8), v.u64(p + 16), v.u64(p + 24), v.u64(p + 32),
                                  v.u32(p + 40), v.u32(p + 44), v.u64(p + 48), v.u64(p + 56)}
                    : new long[] {v.u32(p), v.u32(p + 4), v.u32(p + 8), v.u32(p + 12), v.u32(p + 16), v.u32(p + 20),
                                  v.u32(p + 24), v.u32(p + 28), v.u32(p + 32), v.u32(p + 36)};
        }
        long strOff = raw[shstrndx][4], strSize = raw[shstrndx][5];
        if (!v.fits(strOff, strSize)) return List.of();
        List<ElfSectionHeader> out = new ArrayList<>();
        for (long[] r : raw) {
            String name = "";
            if (r[0] < strSize) {
                int start = (int) (strOff + r[0]), end = start;
                while (end < strOff + strSize && v.u8(end) != 0) end++;
                name = new String(v.array(), start, end - start, StandardCharsets.ISO_8859_1);
            }
            out.add(new ElfSectionHeader(name, (int) r[1], r[2], r[3], r[4], r[5], (int) r[6], (int) r[7], r[8], r[9]));
        }
        return Collections.unmodifiableList(out);
    }
}
