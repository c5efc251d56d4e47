package kernelloader.module;

import java.util.List;

/**
 * One architecture's apply_relocate_add / apply_relocate (arch/ARCH/kernel/module.c): writes
 * the value of each relocation into the section's bytes, or says why the kernel would refuse
 * it. {@link Relocators#of} makes the one for a module; the linker calls {@link #order} and then
 * {@link #apply(byte[], int, long, ModuleRelocation, long, boolean)} for each relocation of each
 * loaded section, in that order.
 */
interface Relocator {
    /**
     * The relocations of section {@code target} in the order the kernel applies them (arm64
     * sorts a code section's, for its PLTs); by default as the file lists them.
     */
    default List<ModuleRelocation> order(KernelModuleFile m, int target) {
        return m.relocationsOf(target);
    }

    /**
     * Applies one relocation. The default is RELA's: S + A, from the entry's addend, to
     * {@link #apply(byte[], int, long, long, int)}. An architecture whose modules use REL (no
     * addend: it is in the place, as arm's and i386's are) or that needs the relocation itself
     * (a GOT or PLT entry per symbol, HI20/LO12 pairs) overrides this.
     *
     * @param bytes       the section's bytes (being relocated in place)
     * @param at          the relocation's offset in them
     * @param place       the address of that place
     * @param symbolValue the symbol's linked address (S)
     * @param rela        whether the section's relocations are RELA (false: REL)
     * @return null when applied, else why not (the kernel's message, in its words)
     */
    default String apply(byte[] bytes, int at, long place, ModuleRelocation r, long symbolValue, boolean rela) {
        if (!rela) return "REL relocations (no addend) are not what this architecture's modules use";
        return apply(bytes, at, place, symbolValue + r.addend(), r.type());
    }

    /**
     * Applies one RELA relocation whose value is known.
     *
     * @param value the symbol's address plus the addend (S + A)
     */
    String apply(byte[] bytes, int at, long place, long value, int type);

    /** The name of relocation type {@code type} (R_X86_64_PC32, ...). */
    String typeName(int type);
}
