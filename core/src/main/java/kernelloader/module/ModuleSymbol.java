package kernelloader.module;

/**
 * One Elf_Sym of a module's .symtab.
 *
 * @param shndx the section it is defined in; SHN_UNDEF (0) for what the kernel must provide,
 *              SHN_ABS, SHN_COMMON (which the kernel refuses in a module)
 * @param other st_other (visibility; on ppc64 ELFv2 also the offset of a function's local entry point)
 */
public record ModuleSymbol(int index, String name, long value, long size, int bind, int type, int shndx, int other) {
    public static final int SHN_UNDEF = 0, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2, SHN_LIVEPATCH = 0xff20;
    public static final int STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
    public static final int STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4;

    public boolean undefined() { return shndx == SHN_UNDEF && index != 0; }
    public boolean weak() { return bind == STB_WEAK; }
}
