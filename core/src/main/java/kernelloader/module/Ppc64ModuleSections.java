package kernelloader.module;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ElfSectionHeader;

/**
 * What ppc64's module_frob_arch_sections (arch/powerpc/kernel/module_64.c, as of Linux 6.12,
 * for a kernel without CONFIG_PPC_KERNEL_PCREL, as Debian's is) does before the layout:
 * <ul>
 * <li>every SHT_RELA section sorted by r_info, then r_addend (relacmp: in descending order,
 *     its comparison being written with x and y swapped), so that the branches to one target
 *     come together; the relocations are then applied in that order, which decides which
 *     stub each target gets;</li>
 * <li>.stubs sized by get_stubs_size: one 40-byte ppc64_stub_entry per different
 *     (symbol, addend) among the R_PPC64_REL24 of each relocation section (count_relocs), plus
 *     one so the list always ends in an empty entry, plus one each for the ftrace_caller and
 *     ftrace_regs_caller stubs (CONFIG_DYNAMIC_FTRACE, CONFIG_DYNAMIC_FTRACE_WITH_REGS: both set
 *     on Debian's ppc64el);</li>
 * <li>.toc aligned to at least 8; when a module has no .toc, .stubs stands for it (my_r2);</li>
 * <li>dedotify: an undefined ".name" becomes "name", and ".TOC." becomes "TOC.", made SHN_ABS
 *     so that simplify_symbols leaves it alone (apply_relocate_add gives it my_r2). The same
 *     renaming of __versions (dedotify_versions) is not done: ELFv2 modules import no dotted
 *     names but .TOC., which is never resolved, so never version-checked.</li>
 * </ul>
 * ppc64's module_init_section is false: .init sections are not laid out apart (see
 * {@link #initSection}). Left out: the out-of-line ftrace stubs of 6.13's
 * CONFIG_PPC_FTRACE_OUT_OF_LINE (not in 6.12) and PCREL kernels' .mygot (get_got_size).
 */
final class Ppc64ModuleSections {
    private Ppc64ModuleSections() {}

    /** sizeof(struct ppc64_stub_entry): 7 instructions (28 bytes), the magic (4), the ELFv2 function address (8, at 32). */
    static final int STUB_ENTRY = 40;
    /** The stubs for ftrace_caller and ftrace_regs_caller, made by module_finalize_ftrace. */
    static final int FTRACE_STUBS = 2;

    /** The kernel's relacmp order: by r_info (symbol << 32 | type), unsigned, then r_addend, signed; largest first. */
    static final Comparator<ModuleRelocation> RELACMP = Comparator
            .comparing((ModuleRelocation r) -> rInfo(r), Long::compareUnsigned)
            .thenComparingLong(ModuleRelocation::addend)
            .reversed();

    static long rInfo(ModuleRelocation r) {
        return ((long) r.symbol() << 32) | (r.type() & 0xffffffffL);
    }

    /** The relocations of section {@code target} in the order the kernel applies them: sorted by get_stubs_size. */
    static List<ModuleRelocation> ordered(KernelModuleFile m, int target) {
        List<ModuleRelocation> sorted = new ArrayList<>(m.relocationsOf(target));
        sorted.sort(RELACMP);
        return sorted;
    }

    /**
     * count_relocs over relocations sorted as the kernel sorts them: each R_PPC64_REL24 whose
     * (symbol, addend) differs from the last one counted. The kernel keeps the last ones in
     * unsigned ints: an addend that does not fit 32 bits unsigned always counts as different.
     */
    static int countRelocs(List<ModuleRelocation> sorted, int type) {
        int n = 0;
        long lastSym = 0, lastAddend = 0;
        for (ModuleRelocation r : sorted) {
            if (r.type() == type && (lastSym != r.symbol() || lastAddend != r.addend())) {
                n++;
                lastSym = r.symbol();
                lastAddend = r.addend() & 0xffffffffL;
            }
        }
        return n;
    }

    /** get_stubs_size: the size of .stubs in bytes. */
    static long stubsSize(KernelModuleFile m) {
        long relocs = 1;
        for (int target : m.relocatedSections()) {
            if (!m.rela(target)) continue;
            relocs += countRelocs(ordered(m, target), Ppc64Relocator.REL24);
        }
        relocs += FTRACE_STUBS;
        return relocs * STUB_ENTRY;
    }

    /** Sizes the kernel gives before the layout: section index to {size, alignment, flags}. */
    static Map<Integer, long[]> sizes(KernelModuleFile m) {
        Map<Integer, long[]> out = new LinkedHashMap<>();
        int stubs = m.section(".stubs"), toc = m.section(".toc");
        if (stubs > 0) {
            ElfSectionHeader s = m.sections().get(stubs);
            out.put(stubs, new long[] {stubsSize(m), s.addralign(), s.flags()});
        }
        if (toc > 0) {
            ElfSectionHeader s = m.sections().get(toc);
            out.put(toc, new long[] {s.size(), Math.max(8, s.addralign()), s.flags()});
        }
        return out;
    }

    /** ppc64's module_init_section: "We don't handle .init for the moment: always return false." */
    static boolean initSection(String name) {
        return false;
    }

    /** The symbols after dedotify: ".name" undefined becomes "name"; ".TOC." becomes "TOC.", SHN_ABS. */
    static List<ModuleSymbol> dedotified(KernelModuleFile m) {
        List<ModuleSymbol> out = new ArrayList<>(m.symbols().size());
        for (ModuleSymbol s : m.symbols()) {
            if (s.index() != 0 && s.shndx() == ModuleSymbol.SHN_UNDEF && s.name().startsWith(".")) {
                int shndx = s.name().equals(".TOC.") ? ModuleSymbol.SHN_ABS : ModuleSymbol.SHN_UNDEF;
                s = new ModuleSymbol(s.index(), s.name().substring(1), s.value(), s.size(), s.bind(), s.type(), shndx, s.other());
            }
            out.add(s);
        }
        return Collections.unmodifiableList(out);
    }

    /** find_dot_toc: the first SHN_ABS symbol named "TOC." (after dedotify), or null. */
    static ModuleSymbol dotToc(List<ModuleSymbol> symbols) {
        for (ModuleSymbol s : symbols) if (s.index() != 0 && s.shndx() == ModuleSymbol.SHN_ABS && s.name().equals("TOC.")) return s;
        return null;
    }
}
