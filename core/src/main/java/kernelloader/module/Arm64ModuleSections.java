package kernelloader.module;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ElfSectionHeader;

/**
 * What arm64's module_frob_arch_sections (arch/arm64/kernel/module-plts.c, 5.8 on) does before
 * the layout: the relocations of each code section reordered as the kernel reorders them in
 * place (partition_branch_plt_relas moves the branches to other sections to the front, swapping;
 * only those are then sorted, by type, symbol index and addend: cmp_rela), so that branches to
 * one target come together and the PLT entries are made in the kernel's order; .plt and
 * .init.plt sized for one entry (12 bytes) per branch to a target outside the section
 * (count_plts), plus one;
 * .text.ftrace_trampoline (and .init.text.ftrace_trampoline, where the module has one) sized for one entry. Without the 843419 erratum workaround, which
 * depends on the CPU.
 */
final class Arm64ModuleSections {
    private Arm64ModuleSections() {}

    static final int PLT_ENTRY = 12, NR_FTRACE_PLTS = 1, L1_CACHE_BYTES = 64;

    /** The relocations of section {@code target} in the order the kernel applies them. */
    static List<ModuleRelocation> ordered(KernelModuleFile m, int target) {
        List<ModuleRelocation> r = m.relocationsOf(target);
        if ((m.sections().get(target).flags() & ElfSectionHeader.SHF_EXECINSTR) == 0) return r;
        List<ModuleRelocation> rels = new ArrayList<>(r);
        // partition_branch_plt_relas, swap for swap: its count stops where i meets j, so an
        // element found there is left out of the sorted part even when it is a branch
        int i = 0, j = rels.size() - 1;
        while (i < j) {
            if (needsPlt(m, rels.get(i), target)) {
                i++;
            } else if (needsPlt(m, rels.get(j), target)) {
                java.util.Collections.swap(rels, i, j);
            } else {
                j--;
            }
        }
        // cmp_rela: type, then symbol index, then addend (equal keys are the same branch target:
        // their order, which the kernel's heapsort leaves open, changes nothing)
        rels.subList(0, i).sort(Comparator.comparingInt(ModuleRelocation::type).thenComparingInt(ModuleRelocation::symbol)
                .thenComparingLong(ModuleRelocation::addend));
        return rels;
    }

    /** branch_rela_needs_plt: a JUMP26 or CALL26 to a symbol of another section. */
    private static boolean needsPlt(KernelModuleFile m, ModuleRelocation x, int target) {
        if (m.symbols().get(x.symbol()).shndx() == target) return false;
        return x.type() == Arm64Relocator.JUMP26 || x.type() == Arm64Relocator.CALL26;
    }

    /** Sizes (and alignment) the kernel gives the PLT sections: section index to {size, align}. */
    static Map<Integer, long[]> sizes(KernelModuleFile m) {
        int core = m.section(".plt"), init = m.section(".init.plt"), tramp = m.section(".text.ftrace_trampoline");
        Map<Integer, long[]> out = new LinkedHashMap<>();
        if (core < 0 || init < 0) return out;
        int corePlts = 0, initPlts = 0;
        for (int target : m.relocatedSections()) {
            ElfSectionHeader dst = m.sections().get(target);
            if ((dst.flags() & ElfSectionHeader.SHF_EXECINSTR) == 0) continue;
            List<ModuleRelocation> r = ordered(m, target);
            int n = 0;
            for (int i = 0; i < r.size(); i++) {
                ModuleRelocation x = r.get(i);
                if (x.type() != Arm64Relocator.JUMP26 && x.type() != Arm64Relocator.CALL26) continue;
                if (m.symbols().get(x.symbol()).shndx() == target) continue;
                boolean duplicate = i > 0 && r.get(i - 1).symbol() == x.symbol() && r.get(i - 1).type() == x.type()
                        && r.get(i - 1).addend() == x.addend();
                if (x.addend() != 0 || !duplicate) n++;
            }
            if (dst.name().startsWith(".init")) initPlts += n;
            else corePlts += n;
        }
        out.put(core, new long[] {(corePlts + 1L) * PLT_ENTRY, L1_CACHE_BYTES});
        out.put(init, new long[] {(initPlts + 1L) * PLT_ENTRY, L1_CACHE_BYTES});
        if (tramp >= 0) out.put(tramp, new long[] {(long) NR_FTRACE_PLTS * PLT_ENTRY, 4});
        // init code's own ftrace PLT (stable kernels since 2025, 6.12.y among them): a module
        // built with it has the section, from the same module.lds.h as its kernel's sizing
        int initTramp = m.section(".init.text.ftrace_trampoline");
        if (initTramp >= 0) out.put(initTramp, new long[] {(long) NR_FTRACE_PLTS * PLT_ENTRY, 4});
        return out;
    }
}
