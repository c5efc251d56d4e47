package kernelloader.module;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import kernelloader.image.ElfSectionHeader;

/**
 * What s390's module_frob_arch_sections (arch/s390/kernel/module.c, read at the 6.1-era version
 * with core_layout, PLT_ENTRY_SIZE 22 and the expoline PLT; torvalds/linux 305a72ef) does
 * before the layout: check_rela gives each symbol one 8-byte GOT slot on its first GOT-type
 * relocation and one 22-byte PLT entry on its first PLT-type relocation, over every SHT_RELA
 * section in section order; with expolines a last PLT entry holds the __jump_r1 thunk. The GOT
 * and PLT are no sections: the kernel adds them to the module's core size, and since it does so
 * before layout_sections places any section (the size is still 0), got_offset is 0 and the GOT,
 * then the PLT, open the core memory (6.4+: MOD_TEXT), ahead of .text. Here they are one
 * reserved space at the start of MOD_TEXT.
 * <p>
 * Left out: defining an undefined _GLOBAL_OFFSET_TABLE_ as absolute, which the kernel does here
 * (such a module is reported with that symbol unresolved; Debian's 6.1 modules have none).
 */
final class S390ModuleSections {
    static final int GOT_ENTRY = 8, PLT_ENTRY = 22;
    /** The reserved space's name (the kernel gives it none; no section is named so). */
    static final String NAME = "GOT+PLT";

    /** Each symbol's offset in the GOT and in the PLT; -1 for none. */
    final long[] gotOffset, pltOffset;
    final long gotSize, pltSize;
    /** Whether the PLT branches through the __jump_r1 expoline thunk (its last entry). */
    final boolean expolines;

    private S390ModuleSections(long[] gotOffset, long[] pltOffset, long gotSize, long pltSize, boolean expolines) {
        this.gotOffset = gotOffset;
        this.pltOffset = pltOffset;
        this.gotSize = gotSize;
        this.pltSize = pltSize;
        this.expolines = expolines;
    }

    /**
     * check_rela over {@code relocations} (every RELA entry of the module, in the kernel's
     * order) for a module of {@code symbols} symbols; {@code expolines}: IS_ENABLED(CONFIG_EXPOLINE)
     * and not nospec_disable.
     */
    static S390ModuleSections count(int symbols, List<ModuleRelocation> relocations, boolean expolines) {
        long[] got = new long[symbols], plt = new long[symbols];
        Arrays.fill(got, -1);
        Arrays.fill(plt, -1);
        long gotSize = 0, pltSize = 0;
        for (ModuleRelocation r : relocations) {
            if (r.symbol() < 0 || r.symbol() >= symbols) continue;
            if (S390Relocator.isGot(r.type())) {
                if (got[r.symbol()] == -1) {
                    got[r.symbol()] = gotSize;
                    gotSize += GOT_ENTRY;
                }
            } else if (S390Relocator.isPlt(r.type())) {
                if (plt[r.symbol()] == -1) {
                    plt[r.symbol()] = pltSize;
                    pltSize += PLT_ENTRY;
                }
            }
        }
        // the thunk entry only where there is a PLT at all
        if (pltSize > 0 && expolines) pltSize += PLT_ENTRY;
        return new S390ModuleSections(got, plt, gotSize, pltSize, expolines);
    }

    /** The counts for {@code m}: its SHT_RELA sections in section order, expolines as {@link #expolines(KernelModuleFile)} tells. */
    static S390ModuleSections of(KernelModuleFile m) {
        List<ModuleRelocation> all = new ArrayList<>();
        // relocatedSections() is in the order of the relocation sections (the kernel's loop over sechdrs)
        for (int target : m.relocatedSections()) if (m.rela(target)) all.addAll(m.relocationsOf(target));
        return count(m.symbols().size(), all, expolines(m));
    }

    /**
     * Whether the kernel builds expoline PLT entries for {@code m}: CONFIG_EXPOLINE is the
     * kernel's configuration, which a module cannot state; a module built for such a kernel
     * branches through __s390_indirect_jump_rN thunks (gcc's -mindirect-branch=thunk and
     * -mfunction-return=thunk, or expoline.o linked in), one of which every function's return
     * uses, so their symbols tell. nospec_disable is the running machine's choice (etokens,
     * facility 156, or spectre_v2=off): assumed off, as on a machine without etokens.
     */
    static boolean expolines(KernelModuleFile m) {
        for (ModuleSymbol s : m.symbols()) if (s.name().startsWith("__s390_indirect_jump_r")) return true;
        for (ElfSectionHeader s : m.sections()) if (s.name().startsWith(".s390_indirect") || s.name().startsWith(".s390_return")) return true;
        return false;
    }

    /** The space module_frob_arch_sections adds: GOT then PLT, at the start of MOD_TEXT; none when both are empty. */
    List<ModuleLayout.Reserved> reserved() {
        // ALIGN(size, 4) of a size still 0 is 0: GOT at offset 0, PLT right after it
        long size = gotSize + pltSize;
        return size == 0 ? List.of() : List.of(new ModuleLayout.Reserved(NAME, ModuleLayout.MemoryType.TEXT, size));
    }

    /** me->arch.got_offset (0: see the class comment) and plt_offset, from the start of MOD_TEXT. */
    long gotStart() { return 0; }

    long pltStart() { return gotSize; }
}
