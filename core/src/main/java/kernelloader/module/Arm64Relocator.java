package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * arm64's module relocations, as arch/arm64/kernel/module.c (apply_relocate_add, reloc_data,
 * reloc_insn_imm, reloc_insn_movw) applies them, with its overflow checks; a CALL26 or JUMP26
 * out of the branch's ±128 MiB goes through a PLT entry (module-plts.c: adrp x16; add x16; br
 * x16), made in the module's .plt (or .init.plt for init code) as the kernel makes them.
 * ADRPs are never turned into ADRs here: that is the erratum 843419 workaround, which depends on
 * the CPU the kernel runs on.
 */
final class Arm64Relocator implements Relocator {
    static final int NONE = 0, ABS64 = 257, ABS32 = 258, ABS16 = 259, PREL64 = 260, PREL32 = 261, PREL16 = 262,
            MOVW_UABS_G0 = 263, MOVW_UABS_G0_NC = 264, MOVW_UABS_G1 = 265, MOVW_UABS_G1_NC = 266, MOVW_UABS_G2 = 267,
            MOVW_UABS_G2_NC = 268, MOVW_UABS_G3 = 269, MOVW_SABS_G0 = 270, MOVW_SABS_G1 = 271, MOVW_SABS_G2 = 272,
            LD_PREL_LO19 = 273, ADR_PREL_LO21 = 274, ADR_PREL_PG_HI21 = 275, ADR_PREL_PG_HI21_NC = 276, ADD_ABS_LO12_NC = 277,
            LDST8_ABS_LO12_NC = 278, TSTBR14 = 279, CONDBR19 = 280, JUMP26 = 282, CALL26 = 283, LDST16_ABS_LO12_NC = 284,
            LDST32_ABS_LO12_NC = 285, LDST64_ABS_LO12_NC = 286, MOVW_PREL_G0 = 287, MOVW_PREL_G0_NC = 288, MOVW_PREL_G1 = 289,
            MOVW_PREL_G1_NC = 290, MOVW_PREL_G2 = 291, MOVW_PREL_G2_NC = 292, MOVW_PREL_G3 = 293, LDST128_ABS_LO12_NC = 299;

    /** A module's PLT: its bytes, address and the entries made so far (mod_plt_sec). */
    static final class Plt {
        final byte[] bytes;
        final long address;
        int entries;

        Plt(byte[] bytes, long address) {
            this.bytes = bytes;
            this.address = address;
        }
    }

    private final Plt core, init;
    private final java.util.function.LongPredicate inInit;

    /** {@code core}, {@code init}: the module's .plt and .init.plt (null without); {@code inInit}: whether a place is init memory. */
    Arm64Relocator(Plt core, Plt init, java.util.function.LongPredicate inInit) {
        this.core = core;
        this.init = init;
        this.inInit = inInit;
    }

    /** arm64's relocator for {@code m}: with its .plt and .init.plt, init places told from the layout. */
    static Arm64Relocator of(KernelModuleFile m, ModuleLayout layout, java.util.Map<Integer, byte[]> bytes) {
        int core = m.section(".plt"), init = m.section(".init.plt");
        Plt corePlt = bytes.containsKey(core) ? new Plt(bytes.get(core), layout.addressOf(m, core)) : null;
        Plt initPlt = bytes.containsKey(init) ? new Plt(bytes.get(init), layout.addressOf(m, init)) : null;
        java.util.function.LongPredicate inInit = va -> {
            for (java.util.Map.Entry<ModuleLayout.MemoryType, long[]> e : layout.memory().entrySet()) {
                if (e.getKey().name().startsWith("INIT") && Long.compareUnsigned(va - e.getValue()[0], e.getValue()[1]) < 0) return true;
            }
            for (ModuleLayout.Placed p : layout.sections()) {
                if (p.name().startsWith(".init") && Long.compareUnsigned(va - p.address(), p.size()) < 0) return true;
            }
            return false;
        };
        return new Arm64Relocator(corePlt, initPlt, inInit);
    }

    @Override
    public java.util.List<ModuleRelocation> order(KernelModuleFile m, int target) {
        return Arm64ModuleSections.ordered(m, target);
    }

    private enum Op { ABS, PREL, PAGE }

    private static long doReloc(Op op, long place, long val) {
        return switch (op) {
            case ABS -> val;
            case PREL -> val - place;
            case PAGE -> (val & ~0xfffL) - (place & ~0xfffL);
        };
    }

    @Override
    public String apply(byte[] bytes, int at, long place, long val, int type) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int need = type == ABS64 || type == PREL64 ? 8 : type == ABS16 || type == PREL16 ? 2 : 4;
        if (type != NONE && (at < 0 || at + need > bytes.length)) return String.format("relocation at 0x%x lies outside its section", at);
        boolean check = true;
        boolean ovf;
        switch (type) {
            case NONE: return null;
            case ABS64: check = false; ovf = data(b, at, Op.ABS, place, val, 64); break;
            case ABS32: ovf = data(b, at, Op.ABS, place, val, 32); break;
            case ABS16: ovf = data(b, at, Op.ABS, place, val, 16); break;
            case PREL64: check = false; ovf = data(b, at, Op.PREL, place, val, 64); break;
            case PREL32: ovf = data(b, at, Op.PREL, place, val, 32); break;
            case PREL16: ovf = data(b, at, Op.PREL, place, val, 16); break;
            case MOVW_UABS_G0_NC: check = false; ovf = movw(b, at, Op.ABS, place, val, 0, false); break;
            case MOVW_UABS_G0: ovf = movw(b, at, Op.ABS, place, val, 0, false); break;
            case MOVW_UABS_G1_NC: check = false; ovf = movw(b, at, Op.ABS, place, val, 16, false); break;
            case MOVW_UABS_G1: ovf = movw(b, at, Op.ABS, place, val, 16, false); break;
            case MOVW_UABS_G2_NC: check = false; ovf = movw(b, at, Op.ABS, place, val, 32, false); break;
            case MOVW_UABS_G2: ovf = movw(b, at, Op.ABS, place, val, 32, false); break;
            case MOVW_UABS_G3: check = false; ovf = movw(b, at, Op.ABS, place, val, 48, false); break;
            case MOVW_SABS_G0: ovf = movw(b, at, Op.ABS, place, val, 0, true); break;
            case MOVW_SABS_G1: ovf = movw(b, at, Op.ABS, place, val, 16, true); break;
            case MOVW_SABS_G2: ovf = movw(b, at, Op.ABS, place, val, 32, true); break;
            case MOVW_PREL_G0_NC: check = false; ovf = movw(b, at, Op.PREL, place, val, 0, false); break;
            case MOVW_PREL_G0: ovf = movw(b, at, Op.PREL, place, val, 0, true); break;
            case MOVW_PREL_G1_NC: check = false; ovf = movw(b, at, Op.PREL, place, val, 16, false); break;
            case MOVW_PREL_G1: ovf = movw(b, at, Op.PREL, place, val, 16, true); break;
            case MOVW_PREL_G2_NC: check = false; ovf = movw(b, at, Op.PREL, place, val, 32, false); break;
            case MOVW_PREL_G2: ovf = movw(b, at, Op.PREL, place, val, 32, true); break;
            case MOVW_PREL_G3: check = false; ovf = movw(b, at, Op.PREL, place, val, 48, true); break;
            case LD_PREL_LO19: ovf = imm(b, at, Op.PREL, place, val, 2, 19, Imm.IMM19); break;
            case ADR_PREL_LO21: ovf = imm(b, at, Op.PREL, place, val, 0, 21, Imm.ADR); break;
            case ADR_PREL_PG_HI21_NC: check = false; ovf = imm(b, at, Op.PAGE, place, val, 12, 21, Imm.ADR); break;
            case ADR_PREL_PG_HI21: ovf = imm(b, at, Op.PAGE, place, val, 12, 21, Imm.ADR); break;
            case ADD_ABS_LO12_NC: case LDST8_ABS_LO12_NC: check = false; ovf = imm(b, at, Op.ABS, place, val, 0, 12, Imm.IMM12); break;
            case LDST16_ABS_LO12_NC: check = false; ovf = imm(b, at, Op.ABS, place, val, 1, 11, Imm.IMM12); break;
            case LDST32_ABS_LO12_NC: check = false; ovf = imm(b, at, Op.ABS, place, val, 2, 10, Imm.IMM12); break;
            case LDST64_ABS_LO12_NC: check = false; ovf = imm(b, at, Op.ABS, place, val, 3, 9, Imm.IMM12); break;
            case LDST128_ABS_LO12_NC: check = false; ovf = imm(b, at, Op.ABS, place, val, 4, 8, Imm.IMM12); break;
            case TSTBR14: ovf = imm(b, at, Op.PREL, place, val, 2, 14, Imm.IMM14); break;
            case CONDBR19: ovf = imm(b, at, Op.PREL, place, val, 2, 19, Imm.IMM19); break;
            case JUMP26: case CALL26: {
                int saved = b.getInt(at);
                ovf = imm(b, at, Op.PREL, place, val, 2, 26, Imm.IMM26);
                if (ovf) {
                    b.putInt(at, saved);
                    Long veneer = emitPlt(place, val);
                    if (veneer == null) return "no PLT entry left for a branch out of range (the module's .plt is full or missing)";
                    ovf = imm(b, at, Op.PREL, place, veneer, 2, 26, Imm.IMM26);
                }
                break;
            }
            default:
                return "unsupported RELA relocation: " + type;
        }
        if (check && ovf) return String.format("overflow in relocation type %d val %x", type, val);
        return null;
    }

    /** reloc_data: the value, checked to fit {@code len} bits signed or unsigned. */
    private static boolean data(ByteBuffer b, int at, Op op, long place, long val, int len) {
        long s = doReloc(op, place, val);
        switch (len) {
            case 16 -> {
                b.putShort(at, (short) s);
                // ABS: 0 to the unsigned maximum; PREL: signed
                return op == Op.ABS ? s < 0 || s > 0xffff : s < Short.MIN_VALUE || s > Short.MAX_VALUE;
            }
            case 32 -> {
                b.putInt(at, (int) s);
                return op == Op.ABS ? s < 0 || s > 0xffffffffL : s < Integer.MIN_VALUE || s > Integer.MAX_VALUE;
            }
            default -> {
                b.putLong(at, s);
                return false;
            }
        }
    }

    /** reloc_insn_movw: 16 bits of the value at {@code lsb} into a MOVZ/MOVK (MOVN where a signed value is negative). */
    private static boolean movw(ByteBuffer b, int at, Op op, long place, long val, int lsb, boolean signed) {
        long sval = doReloc(op, place, val);
        long imm = sval >> lsb;
        int insn = b.getInt(at);
        if (signed) {
            // AARCH64_INSN_IMM_MOVNZ: MOVZ (opcode 10b) for a positive value, MOVN (00b) of its complement else
            insn &= ~(3 << 29);
            if (sval >= 0) insn |= 2 << 29;
            else imm = ~imm;
        }
        b.putInt(at, encode(Imm.IMM16, insn, imm));
        return Long.compareUnsigned(imm, 0xffff) > 0;
    }

    private enum Imm { IMM26, IMM19, IMM16, IMM14, IMM12, ADR }

    /** reloc_insn_imm: {@code len} bits of the value from {@code lsb} into the instruction's field; true on overflow. */
    private static boolean imm(ByteBuffer b, int at, Op op, long place, long val, int lsb, int len, Imm type) {
        long sval = doReloc(op, place, val) >> lsb;
        long mask = ((1L << (lsb + len)) - 1) >>> lsb;
        long imm = sval & mask;
        b.putInt(at, encode(type, b.getInt(at), imm));
        long upper = (sval & ~(mask >> 1)) >> (len - 1);
        return Long.compareUnsigned(upper + 1, 2) >= 0;
    }

    /** aarch64_insn_encode_immediate. */
    private static int encode(Imm type, int insn, long imm) {
        int mask, shift;
        switch (type) {
            case IMM26: mask = 0x3ffffff; shift = 0; break;
            case IMM19: mask = 0x7ffff; shift = 5; break;
            case IMM16: mask = 0xffff; shift = 5; break;
            case IMM14: mask = 0x3fff; shift = 5; break;
            case IMM12: mask = 0xfff; shift = 10; break;
            default: {   // ADR/ADRP: immlo (2 bits) at 29, immhi (19 bits) at 5
                int lo = (int) (imm & 3), hi = (int) ((imm >> 2) & 0x7ffff);
                insn &= ~((3 << 29) | (0x7ffff << 5));
                return insn | lo << 29 | hi << 5;
            }
        }
        insn &= ~(mask << shift);
        return insn | (int) ((imm & mask) << shift);
    }

    /** module_emit_plt_entry: an entry branching to {@code val}, or the last one if it branches there too; null if none is left. */
    private Long emitPlt(long place, long val) {
        Plt plt = inInit.test(place) ? init : core;
        if (plt == null) return null;
        int i = plt.entries, j = i - 1;
        if ((long) (i + 1) * 12 > plt.bytes.length) return null;
        ByteBuffer b = ByteBuffer.wrap(plt.bytes).order(ByteOrder.LITTLE_ENDIAN);
        long pc = plt.address + 12L * i;
        // adrp x16, dst; add x16, x16, #:lo12:dst; br x16
        long pages = ((val & ~0xfffL) - (pc & ~0xfffL)) >> 12;
        int adrp = encode(Imm.ADR, 0x90000010, pages);
        int add = 0x91000210 | (int) ((val & 0xfff) << 10);
        int br = 0xd61f0200;
        // (written before the duplicate check, as the kernel writes plt[i]: a duplicate leaves its
        // bytes in the next free slot, where the guest's memory shows them)
        b.putInt(12 * i, adrp).putInt(12 * i + 4, add).putInt(12 * i + 8, br);
        if (j >= 0 && target(plt, j) == val) return plt.address + 12L * j;
        plt.entries++;
        return pc;
    }

    /** Where entry {@code j} of a PLT branches to. */
    private static long target(Plt plt, int j) {
        ByteBuffer b = ByteBuffer.wrap(plt.bytes).order(ByteOrder.LITTLE_ENDIAN);
        int adrp = b.getInt(12 * j), add = b.getInt(12 * j + 4);
        long immhi = (adrp >> 5) & 0x7ffff, immlo = (adrp >> 29) & 3;
        long pages = ((immhi << 2) | immlo) << 43 >> 43;   // sign-extend 21 bits
        long pc = plt.address + 12L * j;
        return (pc & ~0xfffL) + (pages << 12) + ((add >> 10) & 0xfff);
    }

    @Override
    public String typeName(int type) {
        return switch (type) {
            case ABS64 -> "R_AARCH64_ABS64"; case ABS32 -> "R_AARCH64_ABS32"; case ABS16 -> "R_AARCH64_ABS16";
            case PREL64 -> "R_AARCH64_PREL64"; case PREL32 -> "R_AARCH64_PREL32"; case PREL16 -> "R_AARCH64_PREL16";
            case ADR_PREL_PG_HI21 -> "R_AARCH64_ADR_PREL_PG_HI21"; case ADR_PREL_PG_HI21_NC -> "R_AARCH64_ADR_PREL_PG_HI21_NC";
            case ADD_ABS_LO12_NC -> "R_AARCH64_ADD_ABS_LO12_NC"; case LDST8_ABS_LO12_NC -> "R_AARCH64_LDST8_ABS_LO12_NC";
            case LDST16_ABS_LO12_NC -> "R_AARCH64_LDST16_ABS_LO12_NC"; case LDST32_ABS_LO12_NC -> "R_AARCH64_LDST32_ABS_LO12_NC";
            case LDST64_ABS_LO12_NC -> "R_AARCH64_LDST64_ABS_LO12_NC"; case LDST128_ABS_LO12_NC -> "R_AARCH64_LDST128_ABS_LO12_NC";
            case CALL26 -> "R_AARCH64_CALL26"; case JUMP26 -> "R_AARCH64_JUMP26"; case CONDBR19 -> "R_AARCH64_CONDBR19";
            case TSTBR14 -> "R_AARCH64_TSTBR14"; case LD_PREL_LO19 -> "R_AARCH64_LD_PREL_LO19"; case ADR_PREL_LO21 -> "R_AARCH64_ADR_PREL_LO21";
            case NONE -> "R_AARCH64_NONE";
            default -> type >= MOVW_UABS_G0 && type <= MOVW_PREL_G3 ? "R_AARCH64_MOVW_" + type : "R_AARCH64_" + type;
        };
    }
}
