package kernelloader.module;

/**
 * One architecture's apply_relocate_add (arch/ARCH/kernel/module.c): writes the value of one
 * relocation into the section's bytes, or says why the kernel would refuse it.
 */
interface Relocator {
    /**
     * @param bytes   the section's bytes (being relocated in place)
     * @param at      the relocation's offset in them
     * @param place   the address of that place
     * @param value   the symbol's address plus the addend (S + A)
     * @return null when applied, else why not (the kernel's message, in its words)
     */
    String apply(byte[] bytes, int at, long place, long value, int type);

    /** The name of relocation type {@code type} (R_X86_64_PC32, ...). */
    String typeName(int type);

}
