package kernelloader.elf;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import kernelloader.reloc.Relocations;

/**
 * Writes a kernel as an ELF executable: one PT_LOAD and one section per region (bss as NOBITS),
 * a .symtab with every kallsyms symbol (functions with sizes up to the next symbol, objects,
 * local/global/weak from the type letter), and the entry point. The image bytes are streamed
 * from the peeled buffer, never copied. The kernel's BTF, where given, goes in a .BTF section
 * of its own (not allocated: its bytes are also in their region), where bpftool, pahole and
 * libbpf look for it in a vmlinux.
 */
public final class ElfWriter {
    private static final int PAGE = 0x1000;
    private static final int SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8;
    private static final int SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4;
    private static final int STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2;
    private static final int STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
    private static final int SHN_ABS = 0xfff1;

    private final KernelImage image;
    private final KallsymsTable symbols;
    private final KernelLayout layout;
    private final boolean is64;
    private final ByteOrder order;

    private int btfOffset = -1, btfSize;
    /** Relocations to apply to the region bytes as they are written (null: the image as it is). */
    private Relocations relocations;

    /** Adds a .BTF section holding the {@code size} image bytes at {@code imageOffset}; returns this. */
    public ElfWriter withBtf(int imageOffset, int size) {
        if (imageOffset < 0 || size <= 0 || (long) imageOffset + size > image.length()) throw new IllegalArgumentException("BTF outside the image");
        this.btfOffset = imageOffset;
        this.btfSize = size;
        return this;
    }

    /**
     * Applies {@code r} to the region bytes as they are written, chunk by chunk, as the kernel
     * applies them at boot: the ELF's data then points where the running kernel's does, and the
     * image itself is neither written nor copied whole. Returns this.
     */
    public ElfWriter withRelocations(Relocations r) {
        this.relocations = r;
        return this;
    }

    public ElfWriter(KernelImage image, KallsymsTable symbols, KernelLayout layout) {
        this.image = image;
        this.symbols = symbols;
        this.layout = layout;
        this.is64 = layout.bits() == 64;
        this.order = layout.order();
    }

    /** Writes the ELF to {@code out} (flushed, not closed); returns the number of symbols written. */
    public int write(OutputStream out) throws IOException {
        List<MemoryRegion> regions = layout.regions();
        int ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32, shentsize = is64 ? 64 : 40;
        int phnum = regions.size();
        // section 0, one per region, .BTF if given, then .symtab, .strtab, .shstrtab
        boolean btf = btfOffset >= 0;
        int extra = btf ? 1 : 0;
        int shnum = 1 + regions.size() + extra + 3;

        // file positions: headers, then each region's bytes at an offset congruent to its
        // address modulo the page size, then the symbol table, strings and section headers
        long pos = ehsize + (long) phentsize * phnum;
        long[] dataOff = new long[regions.size()];
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion r = regions.get(i);
            long want = Math.floorMod(r.start(), PAGE);
            long delta = Math.floorMod(want - Math.floorMod(pos, PAGE), PAGE);
            pos += delta;
            dataOff[i] = pos;
            if (r.initialized()) pos += r.size();
        }
        Symtab st = buildSymtab(regions);
        pos = align(pos, 8);
        long btfOff = pos;
        if (btf) pos = align(pos + btfSize, 8);
        long symOff = pos;
        pos += st.symtab.length;
        long strOff = pos;
        pos += st.strtab.length;
        byte[] shstr = st.shstrtab;
        long shstrOff = pos;
        pos += shstr.length;
        pos = align(pos, 8);
        long shoff = pos;

        Patches patches = relocations == null ? null : new Patches(relocations, image.length());
        BufferedOutputStream os = new BufferedOutputStream(out, 1 << 20);
        Writer w = new Writer(os);
        // ELF header
        ByteBuffer h = buf(ehsize);
        h.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), (byte) (order == ByteOrder.LITTLE_ENDIAN ? 1 : 2), 1, 0});
        h.position(16);
        h.putShort((short) 2);                                   // ET_EXEC
        h.putShort((short) layout.arch().value().elfMachine(layout.bits()));
        h.putInt(1);
        putAddr(h, layout.entry().value());
        putAddr(h, ehsize);                                      // e_phoff
        putAddr(h, shoff);
        h.putInt(flags());
        h.putShort((short) ehsize).putShort((short) phentsize).putShort((short) phnum);
        h.putShort((short) shentsize).putShort((short) shnum).putShort((short) (shnum - 1));
        w.write(h);
        // program headers
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion r = regions.get(i);
            int pflags = (r.permissions().charAt(0) == 'r' ? 4 : 0) | (r.permissions().charAt(1) == 'w' ? 2 : 0)
                    | (r.permissions().charAt(2) == 'x' ? 1 : 0);
            long filesz = r.initialized() ? r.size() : 0;
            ByteBuffer p = buf(phentsize);
            p.putInt(1);                                         // PT_LOAD
            if (is64) p.putInt(pflags);
            putAddr(p, dataOff[i]);
            putAddr(p, r.start());
            putAddr(p, r.start());
            putAddr(p, filesz);
            putAddr(p, r.size());
            if (!is64) p.putInt(pflags);
            putAddr(p, PAGE);
            w.write(p);
        }
        // region bytes, straight from the image
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion r = regions.get(i);
            w.padTo(dataOff[i]);
            if (r.initialized()) writeImage(w, (int) r.fileOffset(), (int) r.size(), patches);
        }
        if (btf) {
            w.padTo(btfOff);
            w.write(image.data(), btfOffset, btfSize);
        }
        w.padTo(symOff);
        w.write(st.symtab, 0, st.symtab.length);
        w.write(st.strtab, 0, st.strtab.length);
        w.write(shstr, 0, shstr.length);
        w.padTo(shoff);
        // section headers
        w.write(buf(shentsize));                                 // SHN_UNDEF
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion r = regions.get(i);
            int f = SHF_ALLOC | (r.permissions().charAt(1) == 'w' ? SHF_WRITE : 0) | (r.permissions().charAt(2) == 'x' ? SHF_EXECINSTR : 0);
            w.write(section(st.shName[i], r.initialized() ? SHT_PROGBITS : SHT_NOBITS, f, r.start(), dataOff[i], r.size(), 0, 0,
                    (r.permissions().charAt(2) == 'x') ? 4 : 1, 0));
        }
        if (btf) w.write(section(st.shName[regions.size() + 3], SHT_PROGBITS, 0, 0, btfOff, btfSize, 0, 0, 4, 0));
        int symIdx = 1 + regions.size() + extra;
        w.write(section(st.shName[regions.size()], SHT_SYMTAB, 0, 0, symOff, st.symtab.length, symIdx + 1,
                st.firstGlobal, is64 ? 8 : 4, is64 ? 24 : 16));
        w.write(section(st.shName[regions.size() + 1], SHT_STRTAB, 0, 0, strOff, st.strtab.length, 0, 0, 1, 0));
        w.write(section(st.shName[regions.size() + 2], SHT_STRTAB, 0, 0, shstrOff, shstr.length, 0, 0, 1, 0));
        os.flush();
        return symbols.size();
    }

    /**
     * The relocations in image-offset order (RELA tables are sorted by place already, so the
     * sort is a check; -1 for places outside the image).
     */
    private record Patches(Relocations r, long[] offsets, int[] order) {
        Patches(Relocations r, int length) {
            this(r, new long[r.count()], new int[r.count()]);
            boolean sorted = true;
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
                offsets[i] = r.imageOffset(i, length);
                sorted &= i == 0 || offsets[i] >= offsets[i - 1];
            }
            if (!sorted) {
                Integer[] boxed = new Integer[order.length];
                for (int i = 0; i < boxed.length; i++) boxed[i] = i;
                long[] unsorted = offsets.clone();
                Arrays.sort(boxed, (x, y) -> Long.compare(unsorted[x], unsorted[y]));
                for (int i = 0; i < boxed.length; i++) {
                    order[i] = boxed[i];
                    offsets[i] = unsorted[boxed[i]];
                }
            }
        }
    }

    /** Writes {@code len} image bytes from {@code off}, with the relocations inside them applied. */
    private void writeImage(Writer w, int off, int len, Patches p) throws IOException {
        if (p == null) {
            w.write(image.data(), off, len);
            return;
        }
        byte[] chunk = new byte[1 << 20];
        int first = lowerBound(p.offsets(), off - Relocations.WIDTH + 1);
        for (int at = off; at < off + len; at += chunk.length) {
            int n = Math.min(chunk.length, off + len - at);
            System.arraycopy(image.data(), at, chunk, 0, n);
            for (int i = first; i < p.offsets().length && p.offsets()[i] < at + n; i++) {
                long o = p.offsets()[i];
                if (o < 0) continue;
                byte[] value = p.r().bytes(p.order()[i]);
                for (int b = 0; b < Relocations.WIDTH; b++) {
                    long pos = o + b - at;
                    if (pos >= 0 && pos < n) chunk[(int) pos] = value[b];
                }
                if (o + Relocations.WIDTH <= at + n) first = i + 1;
            }
            w.write(chunk, 0, n);
        }
    }

    private static int lowerBound(long[] sorted, long key) {
        int lo = 0, hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < key) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /** e_flags a loader expects: the EABI version on ARM, the float ABI and RVC on RISC-V. */
    private int flags() {
        return switch (layout.arch().value()) {
            case ARM -> 0x05000000;                // EF_ARM_EABI_VER5
            case RISCV -> 0x0005;                  // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE
            case POWERPC -> layout.bits() == 64 && order == ByteOrder.LITTLE_ENDIAN ? 2 : 0;   // ELFv2 ABI
            default -> 0;
        };
    }

    private record Symtab(byte[] symtab, byte[] strtab, byte[] shstrtab, int[] shName, int firstGlobal) {}

    private Symtab buildSymtab(List<MemoryRegion> regions) {
        int n = symbols.size();
        // section names
        StringTable shstr = new StringTable();
        int[] shName = new int[regions.size() + 4];
        for (int i = 0; i < regions.size(); i++) {
            String name = regions.get(i).name();
            shName[i] = shstr.add(name.startsWith(".") || name.startsWith("_") ? name : "." + name);
        }
        shName[regions.size()] = shstr.add(".symtab");
        shName[regions.size() + 1] = shstr.add(".strtab");
        shName[regions.size() + 2] = shstr.add(".shstrtab");
        shName[regions.size() + 3] = shstr.add(".BTF");

        // sizes: up to the next higher address in the same region
        long[] size = new long[n];
        Integer[] byAddr = new Integer[n];
        for (int i = 0; i < n; i++) byAddr[i] = i;
        Arrays.sort(byAddr, (a, b) -> Long.compareUnsigned(symbols.address(a), symbols.address(b)));
        int[] regionOf = new int[n];
        for (int i = 0; i < n; i++) regionOf[i] = regionIndex(regions, symbols.address(i));
        for (int j = 0; j < n; j++) {
            int i = byAddr[j];
            long a = symbols.address(i);
            int k = j + 1;
            while (k < n && symbols.address(byAddr[k]) == a) k++;
            int r = regionOf[i];
            if (r < 0) continue;
            long limit = regions.get(r).end();
            long next = k < n ? symbols.address(byAddr[k]) : limit;
            if (Long.compareUnsigned(next, limit) > 0) next = limit;
            size[i] = next - a;
        }

        StringTable str = new StringTable();
        int entry = is64 ? 24 : 16;
        ByteBuffer sym = ByteBuffer.allocate(entry * (n + 1)).order(order);
        sym.position(entry);                                  // symbol 0
        int firstGlobal = 1;
        for (int pass = 0; pass < 2; pass++) {               // locals must come first
            for (int i = 0; i < n; i++) {
                char t = symbols.type(i);
                int bind = t == 'w' || t == 'W' || t == 'v' || t == 'V' ? STB_WEAK : Character.isUpperCase(t) ? STB_GLOBAL : STB_LOCAL;
                if ((bind == STB_LOCAL) != (pass == 0)) continue;
                int r = regionOf[i];
                boolean abs = t == 'A' || t == 'a' || r < 0;
                boolean exec = !abs && regions.get(r).permissions().charAt(2) == 'x';
                boolean code = ("tT".indexOf(t) >= 0 || ((t == 'w' || t == 'W') && exec)) && layout.instructionStart(symbols.address(i));
                int type = abs ? STT_NOTYPE : code ? STT_FUNC
                        : "dDbBrRgGsSvV".indexOf(t) >= 0 ? STT_OBJECT : STT_NOTYPE;
                int name = str.add(symbols.name(i));
                int shndx = abs ? SHN_ABS : 1 + r;
                long sz = type == STT_NOTYPE ? 0 : size[i];
                if (is64) {
                    sym.putInt(name).put((byte) (bind << 4 | type)).put((byte) 0).putShort((short) shndx)
                            .putLong(symbols.address(i)).putLong(sz);
                } else {
                    sym.putInt(name).putInt((int) symbols.address(i)).putInt((int) sz)
                            .put((byte) (bind << 4 | type)).put((byte) 0).putShort((short) shndx);
                }
            }
            if (pass == 0) firstGlobal = sym.position() / entry;
        }
        return new Symtab(sym.array(), str.bytes(), shstr.bytes(), shName, firstGlobal);
    }

    private static int regionIndex(List<MemoryRegion> regions, long va) {
        for (int i = 0; i < regions.size(); i++) if (regions.get(i).contains(va)) return i;
        return -1;
    }

    private ByteBuffer section(int name, int type, long flags, long addr, long offset, long size, int link, int info,
                               long align, long entsize) {
        ByteBuffer s = buf(is64 ? 64 : 40);
        s.putInt(name).putInt(type);
        putAddr(s, flags);
        putAddr(s, addr);
        putAddr(s, offset);
        putAddr(s, size);
        s.putInt(link).putInt(info);
        putAddr(s, align);
        putAddr(s, entsize);
        return s;
    }

    private ByteBuffer buf(int size) {
        return ByteBuffer.allocate(size).order(order);
    }

    private void putAddr(ByteBuffer b, long v) {
        if (is64) b.putLong(v); else b.putInt((int) v);
    }

    private static long align(long v, int a) {
        return (v + a - 1) / a * a;
    }

    /** A string table: NUL-separated names, starting with the empty name. */
    private static final class StringTable {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        StringTable() { bytes.write(0); }

        int add(String s) {
            int at = bytes.size();
            bytes.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
            bytes.write(0);
            return at;
        }

        byte[] bytes() { return bytes.toByteArray(); }
    }

    /** Counts what it writes so padding can be placed exactly. */
    private static final class Writer {
        private final OutputStream os;
        private long pos;

        Writer(OutputStream os) { this.os = os; }

        void write(ByteBuffer b) throws IOException { write(b.array(), 0, b.capacity()); }

        void write(byte[] b, int off, int len) throws IOException {
            os.write(b, off, len);
            pos += len;
        }

        void padTo(long target) throws IOException {
            if (target < pos) throw new IllegalStateException("ELF layout overlaps at " + pos);
            byte[] zeros = new byte[8192];
            while (pos < target) write(zeros, 0, (int) Math.min(zeros.length, target - pos));
        }
    }
}
