package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ElfSectionHeader;

/**
 * What 32-bit arm's module_frob_arch_sections (arch/arm/kernel/module-plts.c, CONFIG_ARM_MODULE_PLTS)
 * does before the layout, as Debian's 5.10.223 armmp kernel has it (the 5.10 stable file with the
 * fixed ftrace PLT entries; read from its source and checked against the kernel's own code):
 * <ul>
 * <li>the relocations of each code section sorted by type, then symbol index (cmp_rel), with the
 *     kernel's sort() (lib/sort.c's bottom-up heapsort, which is not stable: relocations of one
 *     type against one symbol end up in the order that heapsort leaves them, and the PLT entries
 *     are made in that order);</li>
 * <li>.plt and .init.plt sized (count_plts) for the two fixed entries (FTRACE_ADDR, MCOUNT_ADDR)
 *     plus one per branch (PC24, CALL, JUMP24, THM_CALL, THM_JUMP24) to a symbol outside the
 *     branch's own section, a branch with a zero addend counted once when the one before it in
 *     sorted order is one to the same symbol with a zero addend too; PLT_ENT_SIZE (8) bytes each,
 *     rounded up to whole struct plt_entries (16 ldr words and their 16 literals: 128 bytes),
 *     aligned to L1_CACHE_BYTES (64 on armmp).</li>
 * </ul>
 * Not made here: the kernel's "module PLT section(s) missing" refusal of a module without the two
 * sections (every module built by the 5.10 arm kernel's module.lds has them); without them nothing
 * is sized, and a branch that would need a PLT entry is refused when applied.
 */
final class ArmModuleSections {
    private ArmModuleSections() {}

    static final int L1_CACHE_BYTES = 64;
    /** PLT_ENT_COUNT: the ldr instructions (and literals) in one struct plt_entries. */
    static final int PLT_ENT_COUNT = L1_CACHE_BYTES / 4;
    /** sizeof(struct plt_entries) and PLT_ENT_SIZE. */
    static final int PLT_ENTRIES_SIZE = 2 * L1_CACHE_BYTES, PLT_ENT_SIZE = PLT_ENTRIES_SIZE / PLT_ENT_COUNT;
    /** fixed_plts[]: FTRACE_ADDR and MCOUNT_ADDR (CONFIG_DYNAMIC_FTRACE), the first entries of each PLT. */
    static final int FIXED_PLTS = 2;

    /** The relocations of section {@code target} in the order the kernel applies them. */
    static List<ModuleRelocation> ordered(KernelModuleFile m, int target) {
        List<ModuleRelocation> r = m.relocationsOf(target);
        if ((m.sections().get(target).flags() & ElfSectionHeader.SHF_EXECINSTR) == 0 || m.rela(target)) return r;
        List<ModuleRelocation> sorted = new ArrayList<>(r);
        heapSort(sorted);
        return sorted;
    }

    /** cmp_rel: by ELF32_R_TYPE, then ELF32_R_SYM. */
    private static int compare(ModuleRelocation x, ModuleRelocation y) {
        int i = Integer.compare(x.type(), y.type());
        return i != 0 ? i : Integer.compare(x.symbol(), y.symbol());
    }

    /**
     * lib/sort.c's sort_r (5.10): a heap sort that sifts down to the leaves first ("bottom-up")
     * and backtracks; element indices here where the kernel keeps byte offsets, the same steps.
     */
    static void heapSort(List<ModuleRelocation> v) {
        int n = v.size(), a = n / 2;
        if (a == 0) return;
        for (;;) {
            int b, c, d;
            if (a != 0) a--;                                  // building the heap: sift down a
            else if (--n != 0) swap(v, 0, n);                 // sorting: the root to the end
            else break;
            for (b = a; (d = (c = 2 * b + 1) + 1) < n;) b = compare(v.get(c), v.get(d)) >= 0 ? c : d;
            if (d == n) b = c;                                // the last leaf, without a sibling
            while (b != a && compare(v.get(a), v.get(b)) >= 0) b = (b - 1) / 2;
            c = b;                                            // where a belongs
            while (b != a) {
                b = (b - 1) / 2;
                swap(v, b, c);
            }
        }
    }

    private static void swap(List<ModuleRelocation> v, int i, int j) {
        ModuleRelocation t = v.get(i);
        v.set(i, v.get(j));
        v.set(j, t);
    }

    /** Whether {@code type} is one of the branches count_plts counts. */
    static boolean branch(int type) {
        return switch (type) {
            case ArmRelocator.PC24, ArmRelocator.CALL, ArmRelocator.JUMP24, ArmRelocator.THM_CALL, ArmRelocator.THM_JUMP24 -> true;
            default -> false;
        };
    }

    /**
     * is_zero_addend_relocation: the addend in the place, compared bit for bit with the one of a
     * branch to the symbol itself (-8 for ARM, -4 for Thumb-2: the PC bias).
     */
    static boolean zeroAddend(ByteBuffer code, ModuleRelocation r) {
        int at = (int) r.offset();
        if (r.type() == ArmRelocator.THM_CALL || r.type() == ArmRelocator.THM_JUMP24) {
            int upper = code.getShort(at) & 0xffff, lower = code.getShort(at + 2) & 0xffff;
            return (upper & 0x7ff) == 0x7ff && (lower & 0x2fff) == 0x2ffe;
        }
        return (code.getInt(at) & 0xffffff) == 0xfffffe;
    }

    /** count_plts over one code section's relocations, in sorted order. */
    private static int countPlts(KernelModuleFile m, int target, List<ModuleRelocation> rels) {
        ElfSectionHeader dst = m.sections().get(target);
        ByteBuffer code = ByteBuffer.wrap(m.data(), (int) dst.offset(), (int) dst.size()).slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = 0;
        for (int i = 0; i < rels.size(); i++) {
            ModuleRelocation r = rels.get(i);
            if (!branch(r.type()) || m.symbols().get(r.symbol()).shndx() == target) continue;
            if (r.offset() + 4 > dst.size() || dst.type() == ElfSectionHeader.SHT_NOBITS) continue;   // refused when applied
            boolean duplicate = i > 0 && compare(r, rels.get(i - 1)) == 0 && zeroAddend(code, rels.get(i - 1));
            if (!zeroAddend(code, r) || !duplicate) n++;
        }
        return n;
    }

    /** Sizes (and alignment) the kernel gives .plt and .init.plt: section index to {size, align}. */
    static Map<Integer, long[]> sizes(KernelModuleFile m) {
        int core = m.section(".plt"), init = m.section(".init.plt");
        Map<Integer, long[]> out = new LinkedHashMap<>();
        if (core < 0 || init < 0) return out;
        long corePlts = FIXED_PLTS, initPlts = FIXED_PLTS;
        for (int target : m.relocatedSections()) {
            ElfSectionHeader dst = m.sections().get(target);
            if ((dst.flags() & ElfSectionHeader.SHF_EXECINSTR) == 0 || m.rela(target)) continue;
            int n = countPlts(m, target, ordered(m, target));
            if (dst.name().startsWith(".init")) initPlts += n;
            else corePlts += n;
        }
        out.put(core, new long[] {roundUp(corePlts * PLT_ENT_SIZE), L1_CACHE_BYTES});
        out.put(init, new long[] {roundUp(initPlts * PLT_ENT_SIZE), L1_CACHE_BYTES});
        return out;
    }

    private static long roundUp(long size) {
        return (size + PLT_ENTRIES_SIZE - 1) / PLT_ENTRIES_SIZE * PLT_ENTRIES_SIZE;
    }
}
