package kernelloader.module;

/** One Elf_Rela (or Elf_Rel, addend 0 then read from the place) of a relocation section: r_offset, ELF_R_TYPE, ELF_R_SYM, r_addend. */
public record ModuleRelocation(long offset, int type, int symbol, long addend) {}
