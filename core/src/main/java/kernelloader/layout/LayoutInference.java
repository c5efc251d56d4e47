package kernelloader.layout;

import java.util.ArrayList;
import java.util.List;

import kernelloader.evidence.BaseAddressVoter;
import kernelloader.evidence.StringPointers;
import kernelloader.image.ByteView;
import kernelloader.image.ElfHeader;
import kernelloader.image.ElfProgramHeader;
import kernelloader.image.ElfSectionHeader;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Infers the memory map of a peeled kernel: where its first byte is loaded, its regions with
 * permissions, and its entry point. Evidence first: ELF program headers, then the base the
 * kallsyms table itself fixed, then the image's pointers to its own strings; the boundary
 * symbols (_etext, __init_begin, _sdata, __bss_start, _end, ...) cut the image into regions.
 */
public final class LayoutInference {
    /** User overrides; null fields are inferred. */
    public record Overrides(Architecture arch, Long base) {
        public static final Overrides NONE = new Overrides(null, null);
    }

    private LayoutInference() {}

    public static KernelLayout infer(KernelImage img, KallsymsTable k, Overrides o) {
        Inference<Architecture> arch = o.arch() != null ? Inference.given(o.arch()) : ArchitectureDetector.detect(img, k);
        if (img.elf() != null && o.base() == null) return fromElf(img, k, arch);
        return at(img, k, arch, o.base() != null ? Inference.given(o.base()) : base(img, k));
    }

    /**
     * Other bases a raw image's table itself suggests, for when the layout {@link #infer} gave
     * fails the content checks (a raw image with few pointers at its strings): the address of
     * {@code linux_banner} less the file offset of the banner, and {@code _text}, where raw
     * images start. Empty for an ELF or a base the user gave.
     */
    public static List<Inference<Long>> otherBases(KernelImage img, KallsymsTable k, Overrides o, long tried, int bannerOffset) {
        List<Inference<Long>> out = new ArrayList<>();
        if (img.elf() != null || o.base() != null) return out;
        Long banner = k.addressOf("linux_banner");
        if (banner != null && bannerOffset >= 0 && banner - bannerOffset != tried) {
            out.add(Inference.strong(banner - bannerOffset, String.format("linux_banner's address less the banner's file offset 0x%x", bannerOffset)));
        }
        Long text = k.addressOf("_text");
        if (text != null && text != tried && out.stream().noneMatch(i -> i.value().equals(text))) {
            out.add(Inference.weak(text, "_text (raw images start there)"));
        }
        return out;
    }

    /** The layout of a raw image at {@code base}: regions cut at the boundary symbols. */
    public static KernelLayout at(KernelImage img, KallsymsTable k, Overrides o, Inference<Long> base) {
        Inference<Architecture> arch = o.arch() != null ? Inference.given(o.arch()) : ArchitectureDetector.detect(img, k);
        return at(img, k, arch, base);
    }

    private static KernelLayout at(KernelImage img, KallsymsTable k, Inference<Architecture> arch, Inference<Long> base) {
        long b = base.value();
        List<MemoryRegion> regions = regionsFromSymbols(img, k, b);
        return new KernelLayout(arch, k.bits(), k.order(), base, regions,
                Inference.weak(b, "the image's first byte (kernels start with their entry code)"));
    }

    private static Inference<Long> base(KernelImage img, KallsymsTable k) {
        if (k.imageBase() != null) return Inference.strong(k.imageBase(), k.baseEvidence());
        long len = img.length();
        long first = Long.MAX_VALUE, last = 0;
        // 64-bit kernels live in the top half: zero-based per-cpu offsets below it (x86-64 SMP,
        // typed D or A by the era's nm) are not where the image is
        boolean topHalf = k.bits() == 64 && k.size() > 0 && k.address(k.size() - 1) < 0;
        for (int i = 0; i < k.size(); i++) {
            if (k.type(i) == 'A' || k.type(i) == 'a' || (topHalf && k.address(i) >= 0)) continue;
            if (Long.compareUnsigned(k.address(i), first) < 0 || first == Long.MAX_VALUE) first = k.address(i);
            if (Long.compareUnsigned(k.address(i), last) > 0) last = k.address(i);
        }
        // pointers into the image lie within [last - len, first + len)
        long lo = Long.compareUnsigned(last, len) >= 0 ? last - len : 0;
        long hi = first + len;
        ByteView v = new ByteView(img.data(), img.length(), k.order());
        BaseAddressVoter.Vote vote = StringPointers.vote(v, k.bits() / 8, lo, hi);
        if (vote != null && vote.votes() >= 16 && Long.compareUnsigned(vote.base(), first) <= 0
                && Long.compareUnsigned(last - vote.base(), len + (64L << 20)) < 0) {
            String ev = String.format("%d of %d pointer-like words point at strings in the image from this base (runner-up %d)",
                    vote.votes(), vote.voters(), vote.runnerUp());
            return vote.votes() >= 3 * vote.runnerUp() ? Inference.strong(vote.base(), ev) : Inference.weak(vote.base(), ev);
        }
        long guess = first & ~0xfffL;
        return Inference.weak(guess, "first symbol's page (no pointer evidence)");
    }

    private static KernelLayout fromElf(KernelImage img, KallsymsTable k, Inference<Architecture> arch) {
        ElfHeader elf = img.elf();
        List<MemoryRegion> regions = new ArrayList<>();
        // sections where the vmlinux kept them (exact names), else the loadable segments
        for (ElfSectionHeader s : elf.sections()) {
            if (!s.allocated() || s.size() == 0) continue;
            String perm = "r" + ((s.flags() & ElfSectionHeader.SHF_WRITE) != 0 ? "w" : "-")
                    + ((s.flags() & ElfSectionHeader.SHF_EXECINSTR) != 0 ? "x" : "-");
            regions.add(new MemoryRegion(s.name(), s.addr(), s.size(), s.type() == ElfSectionHeader.SHT_NOBITS ? -1 : s.offset(), perm));
        }
        int i = 0;
        long base = -1;
        for (ElfProgramHeader p : elf.programHeaders()) {
            if (p.type() != ElfHeader.PT_LOAD || p.memSize() == 0) continue;
            // the image starts with the lowest executable segment (x86 also loads per-cpu data at 0)
            if ((p.flags() & 1) != 0 && (base == -1 || Long.compareUnsigned(p.vaddr(), base) < 0)) base = p.vaddr();
            if (!elf.sections().isEmpty() && !regions.isEmpty()) continue;
            String perm = ((p.flags() & 4) != 0 ? "r" : "-") + ((p.flags() & 2) != 0 ? "w" : "-") + ((p.flags() & 1) != 0 ? "x" : "-");
            String name = "segment" + i++;
            if (p.fileSize() > 0) regions.add(new MemoryRegion(name, p.vaddr(), p.fileSize(), p.offset(), perm));
            if (p.memSize() > p.fileSize()) {
                regions.add(new MemoryRegion(name + ".bss", p.vaddr() + p.fileSize(), p.memSize() - p.fileSize(), -1, perm));
            }
        }
        regions.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        long entry = elf.entry();
        String entryEv = "ELF e_entry";
        if (regionOf(regions, entry) == null) {
            // x86 vmlinux states a physical entry: map it through the segment's physical address
            for (ElfProgramHeader p : elf.programHeaders()) {
                if (p.type() == ElfHeader.PT_LOAD && Long.compareUnsigned(entry - p.paddr(), p.memSize()) < 0) {
                    entry = p.vaddr() + (entry - p.paddr());
                    entryEv = "ELF e_entry (physical 0x" + Long.toHexString(elf.entry()) + ") through its segment";
                }
            }
        }
        return new KernelLayout(arch, k.bits(), k.order(), Inference.certain(base, "ELF program headers (lowest executable segment)"),
                regions, Inference.certain(entry, entryEv));
    }

    private static MemoryRegion regionOf(List<MemoryRegion> regions, long va) {
        for (MemoryRegion r : regions) if (r.contains(va)) return r;
        return null;
    }

    /** Regions of a raw image at {@code base}, cut at the boundary symbols kallsyms has. */
    static List<MemoryRegion> regionsFromSymbols(KernelImage img, KallsymsTable k, long base) {
        long end = base + img.length();
        Long known = memoryEnd(img, k, base);
        long memEnd = known == null ? end : known;
        // boundaries in address order, each with the region it starts
        // (where boundaries coincide the first listed names the region: symbols that start
        // something come before _etext, which only ends the text: on LoongArch init follows it)
        String[][] cuts = {
            {"__start_rodata", "rodata", "r--"}, {"_sinittext", "init.text", "r-x"}, {"__init_begin", "init", "rwx"},
            // arm64 (5.x on) keeps .exit.text right after init text, code kallsyms lists no function of
            {"__exittext_begin", "exit.text", "r-x"}, {"__exittext_end", "init.data", "rw-"},
            {"_einittext", "init.data", "rw-"}, {"__init_end", "data", "rw-"}, {"_sdata", "data", "rw-"},
            {"_data", "data", "rw-"}, {"__end_rodata", "data", "rw-"}, {"__bss_start", "bss", "rw-"},
            {"_etext", "rodata", "r--"}};
        List<long[]> at = new ArrayList<>();
        List<String[]> what = new ArrayList<>();
        for (String[] c : cuts) {
            Long a = k.addressOf(c[0]);
            if (a == null || Long.compareUnsigned(a, base) <= 0 || Long.compareUnsigned(a, memEnd) >= 0) continue;
            int pos = 0;
            while (pos < at.size() && Long.compareUnsigned(at.get(pos)[0], a) < 0) pos++;
            if (pos < at.size() && at.get(pos)[0] == a) continue;   // an alias of a boundary we have
            at.add(pos, new long[] {a});
            what.add(pos, c);
        }
        List<MemoryRegion> regions = new ArrayList<>();
        long start = base;
        String name = "text", perm = "r-x";
        for (int i = 0; i <= at.size(); i++) {
            long stop = i < at.size() ? at.get(i)[0] : memEnd;
            addSplitAtFileEnd(regions, name, start, stop, base, end, perm);
            if (i < at.size()) {
                start = stop;
                name = what.get(i)[1];
                perm = what.get(i)[2];
            }
        }
        return withCodeWhereFunctionsAre(regions, k);
    }

    /**
     * Without KALLSYMS_ALL the table drops every symbol that shares _etext's address, so when
     * init text starts right at _etext (LoongArch) only _etext marks it. Function symbols inside
     * a region say it is code.
     */
    private static List<MemoryRegion> withCodeWhereFunctionsAre(List<MemoryRegion> regions, KallsymsTable k) {
        List<MemoryRegion> out = new ArrayList<>(regions.size());
        for (MemoryRegion r : regions) {
            boolean code = false;
            for (int i = 0; i < k.size() && !code && r.permissions().charAt(2) != 'x'; i++) {
                char t = k.type(i);
                code = (t == 't' || t == 'T') && r.contains(k.address(i)) && k.address(i) != r.start();
            }
            out.add(code ? new MemoryRegion(r.name().equals("rodata") ? "init.text" : r.name(), r.start(), r.size(),
                    r.fileOffset(), r.permissions().charAt(0) + "" + r.permissions().charAt(1) + "x") : r);
        }
        return out;
    }

    /**
     * Where a raw image's memory ends, bss included, when the image says it: the arm64/RISC-V
     * header's image_size, or the _end symbol; null when neither does (a zImage's kernel whose
     * kallsyms lacks data symbols: its bss is then known only from what points into it).
     */
    static Long memoryEnd(KernelImage img, KallsymsTable k, long base) {
        long end = base + img.length();
        Long memEnd = null;
        for (Layer l : img.layers()) {
            int at = l.detail().indexOf("image_size 0x");
            if (at >= 0) {
                String hex = l.detail().substring(at + 13).split("[,)\\s]")[0];
                long size = Long.parseUnsignedLong(hex, 16);
                if (size > img.length() && size < img.length() + (1L << 30)) memEnd = base + size;
            }
        }
        Long symEnd = k.addressOf("_end");
        if (symEnd != null && Long.compareUnsigned(symEnd, memEnd == null ? end : memEnd) > 0 && symEnd - base < img.length() + (1L << 30)) {
            memEnd = symEnd;
        }
        return memEnd != null ? memEnd : symEnd != null ? end : null;
    }

    /** True for a raw image whose memory end nothing states: only what points past it can tell. */
    public static boolean memoryEndUnknown(KernelLayout layout, KernelImage img, KallsymsTable k) {
        return img.elf() == null && memoryEnd(img, k, layout.base().value()) == null;
    }

    /**
     * {@code layout} with an uninitialised "bss" region after the image up to the page past the
     * highest of {@code addresses} that lies beyond it (by at most 64 MiB), for images whose
     * memory end is unknown (see {@link #memoryEnd}): exported variables there are the evidence
     * that the kernel's memory goes on. The layout as it was when none lies beyond.
     */
    public static KernelLayout withBssReaching(KernelLayout layout, KernelImage img, KallsymsTable k, long[] addresses) {
        if (!memoryEndUnknown(layout, img, k)) return layout;
        long end = layout.base().value() + img.length();
        long highest = end;
        for (long a : addresses) {
            if (Long.compareUnsigned(a, highest) >= 0 && Long.compareUnsigned(a - end, 64L << 20) < 0) highest = a + 1;
        }
        if (highest == end) return layout;
        for (MemoryRegion r : layout.regions()) if (Long.compareUnsigned(r.end(), end) > 0) return layout;
        long stop = (highest + 0xfff) & ~0xfffL;
        List<MemoryRegion> regions = new ArrayList<>(layout.regions());
        regions.add(new MemoryRegion("bss", end, stop - end, -1, "rw-"));
        return new KernelLayout(layout.arch(), layout.bits(), layout.order(), layout.base(), regions, layout.entry());
    }

    /** Adds [start, stop), the part past the file's end as uninitialised. */
    private static void addSplitAtFileEnd(List<MemoryRegion> out, String name, long start, long stop, long base, long fileEnd, String perm) {
        if (Long.compareUnsigned(stop, start) <= 0) return;
        if (Long.compareUnsigned(stop, fileEnd) <= 0) {
            out.add(new MemoryRegion(name, start, stop - start, start - base, perm));
        } else if (Long.compareUnsigned(start, fileEnd) >= 0) {
            out.add(new MemoryRegion(name, start, stop - start, -1, perm));
        } else {
            out.add(new MemoryRegion(name, start, fileEnd - start, start - base, perm));
            out.add(new MemoryRegion(name.equals("bss") ? "bss" : name + ".bss", fileEnd, stop - fileEnd, -1, perm));
        }
    }
}
