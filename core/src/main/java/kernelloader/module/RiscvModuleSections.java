package kernelloader.module;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ElfSectionHeader;

/**
 * What riscv's module_frob_arch_sections (arch/riscv/kernel/module-sections.c, the version that
 * sorts one scratch copy of every code section's PLT and GOT relocations) does before the layout:
 * the .plt, .got and .got.plt sections sized for one entry per distinct R_RISCV_CALL_PLT or
 * R_RISCV_PLT32 (a PLT entry of 12 bytes and its .got.plt slot of 8) and per distinct
 * R_RISCV_GOT_HI20 (a .got slot of 8), each plus one, aligned to L1_CACHE_BYTES (64).
 * <p>
 * That code is built only with CONFIG_MODULE_SECTIONS, which since 6.10 (commit 2aff5f955bba,
 * "riscv: do not select MODULE_SECTIONS by default") only CONFIG_RELOCATABLE selects; a
 * module's .plt, .got and .got.plt come from arch/riscv/kernel/module.lds, which kbuild links
 * into modules exactly when CONFIG_MODULE_SECTIONS is set. So a module with none of the three
 * was built for a kernel without module sections (Debian's sid riscv64 7.2 is one), and then
 * nothing is sized here and GOT_HI20 or a far CALL_PLT is a refusal (see {@link RiscvRelocator}).
 */
final class RiscvModuleSections {
    private RiscvModuleSections() {}

    static final int PLT_ENTRY = 12, GOT_ENTRY = 8, L1_CACHE_BYTES = 64;

    /** Whether the module was linked with module.lds (any of .plt, .got, .got.plt): its kernel has CONFIG_MODULE_SECTIONS. */
    static boolean present(KernelModuleFile m) {
        return m.section(".plt") >= 0 || m.section(".got") >= 0 || m.section(".got.plt") >= 0;
    }

    /** The kernel's refusal when some but not all of the three sections are there; null when none is missing. */
    static String missing(KernelModuleFile m) {
        if (m.section(".plt") < 0) return "module PLT section(s) missing";
        if (m.section(".got") < 0) return "module GOT section(s) missing";
        if (m.section(".got.plt") < 0) return "module GOT.PLT section(s) missing";
        return null;
    }

    static boolean needsEntry(int type) {
        return type == RiscvRelocator.CALL_PLT || type == RiscvRelocator.PLT32 || type == RiscvRelocator.GOT_HI20;
    }

    /** {PLT entries, GOT entries} the kernel counts for {@code m} (count_max_entries over the sorted scratch copy). */
    static int[] maxEntries(KernelModuleFile m) {
        List<ModuleRelocation> scratch = new ArrayList<>();
        for (int target : m.relocatedSections()) {
            if (!m.rela(target)) continue;
            // relocations of sections that are not code need no entry
            if ((m.sections().get(target).flags() & ElfSectionHeader.SHF_EXECINSTR) == 0) continue;
            scratch.addAll(m.relocationsOf(target));
        }
        return maxEntries(scratch);
    }

    /** {PLT entries, GOT entries} for the code sections' relocations {@code relocations}. */
    static int[] maxEntries(List<ModuleRelocation> relocations) {
        List<ModuleRelocation> scratch = new ArrayList<>();
        for (ModuleRelocation r : relocations) if (needsEntry(r.type())) scratch.add(r);
        // cmp_rela: r_info (ELF64_R_INFO: symbol << 32 | type, unsigned), then r_addend (signed)
        scratch.sort(Comparator.comparing((ModuleRelocation r) -> info(r), Long::compareUnsigned)
                .thenComparingLong(ModuleRelocation::addend));
        int plts = 0, gots = 0;
        for (int i = 0; i < scratch.size(); i++) {
            ModuleRelocation r = scratch.get(i);
            // sorted: a duplicate is the one before it
            if (i > 0 && info(scratch.get(i - 1)) == info(r) && scratch.get(i - 1).addend() == r.addend()) continue;
            if (r.type() == RiscvRelocator.GOT_HI20) gots++;
            else plts++;
        }
        return new int[] {plts, gots};
    }

    private static long info(ModuleRelocation r) {
        return ((long) r.symbol() << 32) | (r.type() & 0xffffffffL);
    }

    /**
     * Sizes, alignment and flags the kernel gives the three sections: section index to
     * {size, align, flags}; nothing when the module has none of them (or not all: the kernel
     * then refuses the module, which {@link RiscvRelocator} says).
     */
    static Map<Integer, long[]> sizes(KernelModuleFile m) {
        Map<Integer, long[]> out = new LinkedHashMap<>();
        if (!present(m) || missing(m) != null) return out;
        int[] n = maxEntries(m);
        long exec = ElfSectionHeader.SHF_EXECINSTR | ElfSectionHeader.SHF_ALLOC, alloc = ElfSectionHeader.SHF_ALLOC;
        out.put(m.section(".plt"), new long[] {(n[0] + 1L) * PLT_ENTRY, L1_CACHE_BYTES, exec});
        out.put(m.section(".got"), new long[] {(n[1] + 1L) * GOT_ENTRY, L1_CACHE_BYTES, alloc});
        out.put(m.section(".got.plt"), new long[] {(n[0] + 1L) * GOT_ENTRY, L1_CACHE_BYTES, alloc});
        return out;
    }
}
