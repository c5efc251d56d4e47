package kernelloader.module;

import java.nio.ByteBuffer;

/**
 * MIPS's module relocations, as arch/mips/kernel/module.c applies them (the unified
 * reloc_handlers table of 4.x to 6.x, read as it stands at Linux 6.1): __apply_relocate with
 * rela = true, its handlers apply_r_mips_none, _32, _26, _hi16, _lo16, _pc16, _pc21, _pc26, _64,
 * _higher and _highest, their checks and their messages ("module %s: relocation overflow",
 * "%s: Unknown relocation type %u", ...).
 *
 * <p>The kernel checks only R_MIPS_26 (the target in the same 256 MiB segment as the delay slot,
 * word-aligned) and the PC-relative ones (word-aligned, the offset fitting its field); R_MIPS_32,
 * HI16, LO16, HIGHER and HIGHEST are written truncated, unchecked, as the kernel writes them.
 * With RELA, HI16 and LO16 are not paired: each has the whole value (module.c pairs them only
 * for REL).
 *
 * <p>Left out: REL (apply_relocate, which 32-bit o32 modules use, with its chain of HI16s
 * waiting for their LO16): refused here, not emulated. One refusal goes beyond the kernel: a
 * composed relocation (r_type2, r_type3 or r_ssym not zero, as {@link KernelModuleFile} keeps
 * them in the type's upper bytes) is refused, because module.c reads only r_type
 * (ELF_MIPS_R_TYPE) and would silently apply it alone; Debian's modules have none.
 */
final class MipsRelocator implements Relocator {
    static final int R_MIPS_NONE = 0, R_MIPS_32 = 2, R_MIPS_26 = 4, R_MIPS_HI16 = 5, R_MIPS_LO16 = 6, R_MIPS_PC16 = 10,
            R_MIPS_64 = 18, R_MIPS_HIGHER = 28, R_MIPS_HIGHEST = 29, R_MIPS_PC21_S2 = 60, R_MIPS_PC26_S2 = 61;

    private final String module;
    private final java.nio.ByteOrder order;

    /** For module {@code module} (its name, which the kernel's messages give), of byte order {@code order}. */
    MipsRelocator(String module, java.nio.ByteOrder order) {
        this.module = module;
        this.order = order;
    }

    @Override
    public String apply(byte[] bytes, int at, long place, ModuleRelocation r, long symbolValue, boolean rela) {
        if (!rela) return "REL relocations (32-bit MIPS modules: apply_relocate, HI16s waiting for their LO16) are not implemented here";
        return apply(bytes, at, place, symbolValue + r.addend(), r.type());
    }

    @Override
    public String apply(byte[] bytes, int at, long place, long v, int type) {
        int rType = type & 0xff;
        if ((type >>> 8) != 0) {
            return String.format("%s is a composed relocation (r_type2 %s, r_type3 %s, r_ssym %d): module.c applies only r_type"
                    + " (ELF_MIPS_R_TYPE) and would ignore the rest, so the place would not hold what the compiler meant",
                    name(rType), name((type >>> 8) & 0xff), name((type >>> 16) & 0xff), type >>> 24);
        }
        if (!known(rType)) return String.format("%s: Unknown relocation type %d", module, rType);
        if (rType == R_MIPS_NONE) return null;
        int size = rType == R_MIPS_64 ? 8 : 4;
        if (at < 0 || at + size > bytes.length) return String.format("relocation at 0x%x lies outside its section", at);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(order);
        int insn = b.getInt(at);
        switch (rType) {
            case R_MIPS_32 -> b.putInt(at, (int) v);   // base (0 for RELA) + v, truncated to the u32
            case R_MIPS_64 -> b.putLong(at, v);
            case R_MIPS_26 -> {
                if ((v & 3) != 0) return String.format("module %s: dangerous R_MIPS_26 relocation", module);
                // a j/jal keeps the delay slot's top 4 bits (of the low 32: the kernel's mask is an int's)
                if ((v & 0xf0000000L) != ((place + 4) & 0xf0000000L)) return String.format("module %s: relocation overflow", module);
                b.putInt(at, (insn & ~0x03ffffff) | (int) ((v >>> 2) & 0x03ffffff));
            }
            // the carries of the lower halves, which the instructions after add sign-extended
            case R_MIPS_HI16 -> b.putInt(at, (insn & 0xffff0000) | (int) (((v + 0x8000L) >> 16) & 0xffff));
            case R_MIPS_LO16 -> b.putInt(at, (insn & 0xffff0000) | (int) (v & 0xffff));
            case R_MIPS_HIGHER -> b.putInt(at, (insn & 0xffff0000) | (int) (((v + 0x80008000L) >> 32) & 0xffff));
            case R_MIPS_HIGHEST -> b.putInt(at, (insn & 0xffff0000) | (int) (((v + 0x800080008000L) >> 48) & 0xffff));
            case R_MIPS_PC16 -> { return pc(b, at, place, v, insn, 16); }
            case R_MIPS_PC21_S2 -> { return pc(b, at, place, v, insn, 21); }
            case R_MIPS_PC26_S2 -> { return pc(b, at, place, v, insn, 26); }
            default -> throw new IllegalStateException("type " + rType);   // known() lists exactly the cases
        }
        return null;
    }

    /**
     * apply_r_mips_pc: the word offset from the place (RELA: no implicit addend in the field),
     * which must fit {@code bits} bits signed.
     */
    private String pc(ByteBuffer b, int at, long place, long v, int insn, int bits) {
        if ((v & 3) != 0) return String.format("module %s: dangerous R_MIPS_PC%d relocation", module, bits);
        long mask = (1L << bits) - 1;
        long offset = (v - place) >> 2;
        long signBits = (offset & (1L << (bits - 1))) != 0 ? ~0L : 0;
        if ((offset & ~mask) != (signBits & ~mask)) return String.format("module %s: relocation overflow", module);
        b.putInt(at, (insn & ~(int) mask) | (int) (offset & mask));
        return null;
    }

    /** Whether reloc_handlers has a handler for {@code type}. */
    private static boolean known(int type) {
        return switch (type) {
            case R_MIPS_NONE, R_MIPS_32, R_MIPS_26, R_MIPS_HI16, R_MIPS_LO16, R_MIPS_PC16, R_MIPS_64, R_MIPS_HIGHER, R_MIPS_HIGHEST,
                    R_MIPS_PC21_S2, R_MIPS_PC26_S2 -> true;
            default -> false;
        };
    }

    private static String name(int type) {
        return switch (type) {
            case R_MIPS_NONE -> "R_MIPS_NONE";
            case R_MIPS_32 -> "R_MIPS_32";
            case R_MIPS_26 -> "R_MIPS_26";
            case R_MIPS_HI16 -> "R_MIPS_HI16";
            case R_MIPS_LO16 -> "R_MIPS_LO16";
            case R_MIPS_PC16 -> "R_MIPS_PC16";
            case R_MIPS_64 -> "R_MIPS_64";
            case R_MIPS_HIGHER -> "R_MIPS_HIGHER";
            case R_MIPS_HIGHEST -> "R_MIPS_HIGHEST";
            case R_MIPS_PC21_S2 -> "R_MIPS_PC21_S2";
            case R_MIPS_PC26_S2 -> "R_MIPS_PC26_S2";
            default -> "R_MIPS_" + type;
        };
    }

    /** r_type's name; a composed relocation's types joined by '/', as readelf lists Type, Type2, Type3. */
    @Override
    public String typeName(int type) {
        if ((type >>> 8) == 0) return name(type);
        return name(type & 0xff) + "/" + name((type >>> 8) & 0xff) + "/" + name((type >>> 16) & 0xff)
                + ((type >>> 24) != 0 ? " (r_ssym " + (type >>> 24) + ")" : "");
    }
}
