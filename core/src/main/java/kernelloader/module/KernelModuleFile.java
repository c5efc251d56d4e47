package kernelloader.module;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ByteView;
import kernelloader.image.Compression;
import kernelloader.image.ElfHeader;
import kernelloader.image.ElfSectionHeader;
import kernelloader.image.KernelFormatException;

/**
 * A loadable kernel module (.ko, or .ko.xz / .ko.zst / .ko.gz as distributions ship them): an
 * ELF relocatable object whose sections, symbols and relocation sections the kernel's loader
 * (kernel/module/main.c) reads, with its .modinfo and the CRCs it expects (__versions, or the
 * extended __version_ext_crcs / __version_ext_names of 6.13+).
 */
public final class KernelModuleFile {
    /** ELF e_type of a relocatable object. */
    public static final int ET_REL = 1;
    /** Modules are a few MB at most; a decoded one is bounded well above that. */
    static final long MAX_MODULE = 256L << 20;

    /** A CRC the module expects of a symbol it imports. */
    public record Version(String name, long crc) {}

    private final String source;
    private final byte[] data;
    private final ElfHeader elf;
    private final List<ElfSectionHeader> sections;
    private final List<ModuleSymbol> symbols;
    private final Map<Integer, List<ModuleRelocation>> relocations;
    private final Map<Integer, Integer> relocationSectionOf;
    private final ModInfo modinfo;
    private final List<Version> versions;
    private final String compression;

    private KernelModuleFile(String source, byte[] data, ElfHeader elf, List<ModuleSymbol> symbols,
                             Map<Integer, List<ModuleRelocation>> relocations, Map<Integer, Integer> relocationSectionOf,
                             ModInfo modinfo, List<Version> versions, String compression) {
        this.source = source;
        this.data = data;
        this.elf = elf;
        this.sections = elf.sections();
        this.symbols = symbols;
        this.relocations = relocations;
        this.relocationSectionOf = relocationSectionOf;
        this.modinfo = modinfo;
        this.versions = versions;
        this.compression = compression;
    }

    /** The module in {@code file} (compressed or not); what is not a module is one clear exception. */
    public static KernelModuleFile read(String source, byte[] file) throws KernelFormatException {
        byte[] data = file;
        String compression = null;
        for (Compression c : new Compression[] {Compression.XZ, Compression.ZSTD, Compression.GZIP}) {
            if (!c.startsAt(file, file.length, 0)) continue;
            Compression.Decoded d = c.decode(file, 0, file.length, MAX_MODULE);
            if (!d.complete()) throw new KernelFormatException(source + ": a " + c.displayName() + " stream that does not decode: " + d.error());
            data = java.util.Arrays.copyOf(d.data(), d.length());
            compression = c.displayName();
            break;
        }
        if (!ElfHeader.hasMagic(data, data.length, 0)) throw new KernelFormatException(source + ": not a kernel module (no ELF header)");
        ElfHeader elf = ElfHeader.parse(data, data.length);
        ByteView v = new ByteView(data, data.length, elf.order());
        if (v.u16(16) != ET_REL) throw new KernelFormatException(source + ": an ELF of type " + v.u16(16) + ", not a relocatable module (ET_REL)");
        List<ElfSectionHeader> sh = elf.sections();
        if (sh.isEmpty()) throw new KernelFormatException(source + ": no section headers (a module has them)");
        for (ElfSectionHeader s : sh) {
            if (s.type() != ElfSectionHeader.SHT_NOBITS && s.size() > 0 && !v.fits(s.offset(), s.size())) {
                throw new KernelFormatException(source + ": section " + s.name() + " lies outside the file");
            }
        }
        int symtab = -1;
        for (int i = 0; i < sh.size(); i++) if (sh.get(i).type() == ElfSectionHeader.SHT_SYMTAB) symtab = i;
        if (symtab < 0) throw new KernelFormatException(source + ": no .symtab (a module's loader needs it)");
        List<ModuleSymbol> symbols = symbols(v, elf.bits(), sh, symtab, source);
        Map<Integer, List<ModuleRelocation>> relocs = new LinkedHashMap<>();
        Map<Integer, Integer> relocSection = new LinkedHashMap<>();
        for (int i = 0; i < sh.size(); i++) {
            ElfSectionHeader s = sh.get(i);
            if (s.type() != ElfSectionHeader.SHT_RELA && s.type() != ElfSectionHeader.SHT_REL) continue;
            if (s.info() <= 0 || s.info() >= sh.size()) throw new KernelFormatException(source + ": " + s.name() + " relocates no section");
            relocs.put(s.info(), relocations(v, elf.bits(), elf.machine(), s, symbols.size(), source));
            relocSection.put(s.info(), i);
        }
        ModInfo info = ModInfo.NONE;
        List<Version> versions = new ArrayList<>();
        int crcs = -1, names = -1;
        for (int i = 0; i < sh.size(); i++) {
            ElfSectionHeader s = sh.get(i);
            if (s.name().equals(".modinfo")) info = ModInfo.parse(data, (int) s.offset(), (int) s.size());
            if (s.name().equals("__versions")) versions.addAll(classicVersions(v, elf.bits(), s));
            if (s.name().equals("__version_ext_crcs")) crcs = i;
            if (s.name().equals("__version_ext_names")) names = i;
        }
        if (crcs >= 0 && names >= 0) versions.addAll(extendedVersions(v, sh.get(crcs), sh.get(names)));
        return new KernelModuleFile(source, data, elf, symbols, relocs, relocSection, info, Collections.unmodifiableList(versions),
                compression);
    }

    private static List<ModuleSymbol> symbols(ByteView v, int bits, List<ElfSectionHeader> sh, int symtab, String source)
            throws KernelFormatException {
        ElfSectionHeader s = sh.get(symtab);
        if (s.link() <= 0 || s.link() >= sh.size()) throw new KernelFormatException(source + ": .symtab has no string table");
        ElfSectionHeader str = sh.get(s.link());
        int entry = bits == 64 ? 24 : 16;
        int n = (int) (s.size() / entry);
        List<ModuleSymbol> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int p = (int) (s.offset() + (long) i * entry);
            long nameOff, value, size;
            int info, other, shndx;
            if (bits == 64) {
                nameOff = v.u32(p); info = v.u8(p + 4); other = v.u8(p + 5); shndx = v.u16(p + 6); value = v.u64(p + 8); size = v.u64(p + 16);
            } else {
                nameOff = v.u32(p); value = v.u32(p + 4); size = v.u32(p + 8); info = v.u8(p + 12); other = v.u8(p + 13); shndx = v.u16(p + 14);
            }
            out.add(new ModuleSymbol(i, string(v, str, nameOff), value, size, info >> 4, info & 0xf, shndx, other));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * A relocation section's entries. 64-bit MIPS does not use ELF64_R_SYM/ELF64_R_TYPE: its
     * r_info is Elf64_Mips_Rel(a)'s r_sym (u32), r_ssym, r_type3, r_type2, r_type (a byte each),
     * as arch/mips/include/asm/module.h declares it (ELF_MIPS_R_SYM is r_sym, ELF_MIPS_R_TYPE
     * r_type). Its type here is r_type | r_type2 << 8 | r_type3 << 16 | r_ssym << 24, so a
     * composed relocation stays visible (MipsRelocator refuses those).
     */
    private static List<ModuleRelocation> relocations(ByteView v, int bits, int machine, ElfSectionHeader s, int nsyms, String source)
            throws KernelFormatException {
        boolean rela = s.type() == ElfSectionHeader.SHT_RELA;
        int entry = bits == 64 ? (rela ? 24 : 16) : (rela ? 12 : 8);
        int n = (int) (s.size() / entry);
        List<ModuleRelocation> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int p = (int) (s.offset() + (long) i * entry);
            long offset, info, addend = 0;
            int type, sym;
            if (bits == 64) {
                offset = v.u64(p);
                info = v.u64(p + 8);
                if (rela) addend = v.u64(p + 16);
                if (machine == Relocators.EM_MIPS) {
                    sym = (int) v.u32(p + 8);
                    type = v.u8(p + 15) | v.u8(p + 14) << 8 | v.u8(p + 13) << 16 | v.u8(p + 12) << 24;
                } else {
                    type = (int) (info & 0xffffffffL);
                    sym = (int) (info >>> 32);
                }
            } else {
                offset = v.u32(p);
                info = v.u32(p + 4);
                if (rela) addend = v.s32(p + 8);
                type = (int) (info & 0xff);
                sym = (int) (info >>> 8);
            }
            if (sym < 0 || sym >= nsyms) throw new KernelFormatException(source + ": " + s.name() + " entry " + i + " names symbol " + Integer.toUnsignedString(sym) + " of " + nsyms);
            out.add(new ModuleRelocation(offset, type, sym, addend));
        }
        return Collections.unmodifiableList(out);
    }

    /** struct modversion_info: an unsigned long CRC and the name, MODULE_NAME_LEN (64 - sizeof(long)) bytes. */
    private static List<Version> classicVersions(ByteView v, int bits, ElfSectionHeader s) {
        List<Version> out = new ArrayList<>();
        int crcSize = bits / 8;
        for (long p = s.offset(); p + 64 <= s.offset() + s.size(); p += 64) {
            long crc = v.word((int) p, crcSize) & 0xffffffffL;
            int start = (int) p + crcSize, end = start;
            while (end < p + 64 && v.u8(end) != 0) end++;
            out.add(new Version(new String(v.array(), start, end - start, StandardCharsets.ISO_8859_1), crc));
        }
        return out;
    }

    /** 6.13's extended modversions: u32 CRCs, and the names NUL-separated in the same order. */
    private static List<Version> extendedVersions(ByteView v, ElfSectionHeader crcs, ElfSectionHeader names) {
        List<Version> out = new ArrayList<>();
        int p = (int) names.offset(), end = (int) (names.offset() + names.size());
        for (long c = crcs.offset(); c + 4 <= crcs.offset() + crcs.size() && p < end; c += 4) {
            int q = p;
            while (q < end && v.u8(q) != 0) q++;
            out.add(new Version(new String(v.array(), p, q - p, StandardCharsets.ISO_8859_1), v.u32((int) c)));
            p = q + 1;
        }
        return out;
    }

    private static String string(ByteView v, ElfSectionHeader str, long off) {
        if (off >= str.size()) return "";
        int start = (int) (str.offset() + off), end = start;
        while (end < str.offset() + str.size() && v.u8(end) != 0) end++;
        return new String(v.array(), start, end - start, StandardCharsets.ISO_8859_1);
    }

    public String source() { return source; }
    /** The module's bytes, decompressed. */
    public byte[] data() { return data; }
    public ElfHeader elf() { return elf; }
    public List<ElfSectionHeader> sections() { return sections; }
    public List<ModuleSymbol> symbols() { return symbols; }
    /** The relocations applied to section {@code index}, or none. */
    public List<ModuleRelocation> relocationsOf(int index) { return relocations.getOrDefault(index, List.of()); }
    /** The sections that have relocation sections, by index. */
    public java.util.Set<Integer> relocatedSections() { return relocations.keySet(); }
    /** Whether section {@code index}'s relocations are RELA (addend in the entry) rather than REL. */
    public boolean rela(int index) {
        Integer r = relocationSectionOf.get(index);
        return r != null && sections.get(r).type() == ElfSectionHeader.SHT_RELA;
    }
    public ModInfo modinfo() { return modinfo; }
    public List<Version> versions() { return versions; }
    /** "xz", "zstd", "gzip", or null for a module stored as it is. */
    public String compression() { return compression; }

    /** The module's name: .modinfo's name=, else the file's name without .ko and compression. */
    public String name() {
        String n = modinfo.get("name");
        if (n != null) return n;
        String f = source.replaceAll(".*/", "");
        return f.replaceAll("\\.ko(\\..*)?$", "").replace('-', '_');
    }

    /**
     * The module's .BTF: split BTF continuing its kernel's ({@code base}; pahole writes a module's
     * types as numbers after vmlinux's), or null when the module has none.
     */
    public kernelloader.btf.Btf btf(kernelloader.btf.Btf base) throws KernelFormatException {
        int i = section(".BTF");
        if (i < 0 || sections.get(i).type() == ElfSectionHeader.SHT_NOBITS) return null;
        ElfSectionHeader s = sections.get(i);
        if (s.offset() + s.size() > data.length) throw new KernelFormatException(source + ": its .BTF lies past the end of the file");
        try {
            return kernelloader.btf.Btf.parse(data, data.length, (int) s.offset(), s.size(), base);
        } catch (KernelFormatException e) {
            throw new KernelFormatException(source + ": its .BTF " + (base == null ? "" : "over the kernel's ") + "does not read: " + e.getMessage());
        }
    }

    /** The index of the section named {@code name}, or -1. */
    public int section(String name) {
        for (int i = 0; i < sections.size(); i++) if (sections.get(i).name().equals(name)) return i;
        return -1;
    }
}
