package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * 32-bit arm's module relocations: apply_relocate of arch/arm/kernel/module.c, with the PLTs of
 * arch/arm/kernel/module-plts.c (get_module_plt), as Linux 5.10 has them in Debian's bullseye
 * armmp kernel (5.10.223: the source read is the 5.10-era file, and the kernel's own compiled
 * apply_relocate and get_module_plt were checked against it; in that kernel R_ARM_REL32,
 * R_ARM_MOVW_PREL_NC and R_ARM_MOVT_PREL are not yet handled, PREL31 has its ±1 GiB check, and
 * each PLT starts with the two fixed ftrace entries). REL only: the addend is in the place, read
 * per type as the kernel reads it; a RELA section is refused as arm's kernel refuses it.
 * <p>
 * Handled: NONE, ABS32 and TARGET1 (the word plus S), PC24/CALL/JUMP24 (±32 MiB, the kernel's
 * bounds; out of them through a PLT entry, CONFIG_ARM_MODULE_PLTS, as Debian's kernel has it;
 * a target with either of its low two bits set is the kernel's refused interworking), V4BX
 * (made MOV PC, Rm), PREL31, MOVW_ABS_NC/MOVT_ABS; with {@code thumb2Kernel} (CONFIG_THUMB2_KERNEL)
 * also THM_CALL/THM_JUMP24 (±16 MiB, PLTs of Thumb-2 ldr.w pc) and THM_MOVW_ABS_NC/THM_MOVT_ABS.
 * Every other type is the kernel's "unknown relocation". Left out: what module_finalize does after
 * the relocations (.pv_table's phys-to-virt patching, .alt.smp.init's SMP-on-UP fixups, the unwind
 * tables): they depend on the machine the kernel runs on, not on the link.
 */
final class ArmRelocator implements Relocator {
    static final int NONE = 0, PC24 = 1, ABS32 = 2, REL32 = 3, THM_CALL = 10, CALL = 28, JUMP24 = 29, THM_JUMP24 = 30,
            TARGET1 = 38, V4BX = 40, PREL31 = 42, MOVW_ABS_NC = 43, MOVT_ABS = 44, MOVW_PREL_NC = 45, MOVT_PREL = 46,
            THM_MOVW_ABS_NC = 47, THM_MOVT_ABS = 48, THM_MOVW_PREL_NC = 49, THM_MOVT_PREL = 50;

    /** PLT_ENT_LDR: ldr pc, [pc, #(PLT_ENT_STRIDE - 8)], the literal 64 bytes on (ARM); Thumb-2's ldr.w pc, [pc, #60]. */
    static final int PLT_ENT_LDR_ARM = 0xe59ff000 | (ArmModuleSections.L1_CACHE_BYTES - 8);
    static final int PLT_ENT_LDR_THUMB = 0xf8dff000 | (ArmModuleSections.L1_CACHE_BYTES - 4);

    /** A module's PLT (struct mod_plt_sec): its bytes, address and plt_count. */
    static final class Plt {
        final byte[] bytes;
        final long address;
        int count;

        Plt(byte[] bytes, long address) {
            this.bytes = bytes;
            this.address = address;
        }
    }

    private final Plt core, init;
    private final LongPredicate inInit;
    private final long[] fixedPlts;
    private final List<ModuleSymbol> symbols;
    private final boolean thumb2Kernel;

    /**
     * @param core         the module's .plt (null without)
     * @param init         its .init.plt (null without)
     * @param inInit       whether a place is in the module's init memory (within_module_init)
     * @param fixedPlts    the kernel's fixed_plts: FTRACE_ADDR (ftrace_caller) and MCOUNT_ADDR
     *                     (__gnu_mcount_nc); null where they are not known (then a PLT entry is
     *                     refused: the kernel's PLT would start with them)
     * @param symbols      the module's symbols (a Thumb branch checks the target's type)
     * @param thumb2Kernel whether the kernel is CONFIG_THUMB2_KERNEL (Thumb relocations and PLTs)
     */
    ArmRelocator(Plt core, Plt init, LongPredicate inInit, long[] fixedPlts, List<ModuleSymbol> symbols, boolean thumb2Kernel) {
        this.core = core;
        this.init = init;
        this.inInit = inInit;
        this.fixedPlts = fixedPlts;
        this.symbols = symbols;
        this.thumb2Kernel = thumb2Kernel;
    }

    /**
     * arm's relocator for {@code m}: its .plt and .init.plt, init places told from the layout; the
     * fixed PLT entries from {@code ftraceCaller} and the module's import of __gnu_mcount_nc (every
     * module built with ftrace calls it). An ARM (not Thumb-2) kernel, as Debian's armmp is: nothing
     * in a module says which the kernel was.
     */
    static ArmRelocator of(KernelModuleFile m, ModuleLayout layout, Map<Integer, byte[]> bytes, long[] values, Long ftraceCaller) {
        int core = m.section(".plt"), init = m.section(".init.plt");
        Plt corePlt = bytes.containsKey(core) ? new Plt(bytes.get(core), layout.addressOf(m, core)) : null;
        Plt initPlt = bytes.containsKey(init) ? new Plt(bytes.get(init), layout.addressOf(m, init)) : null;
        LongPredicate inInit = va -> {
            for (Map.Entry<ModuleLayout.MemoryType, long[]> e : layout.memory().entrySet()) {
                if (e.getKey().name().startsWith("INIT") && Long.compareUnsigned(va - e.getValue()[0], e.getValue()[1]) < 0) return true;
            }
            return false;
        };
        Long mcount = null;
        for (ModuleSymbol s : m.symbols()) if (s.undefined() && s.name().equals("__gnu_mcount_nc")) mcount = values[s.index()];
        long[] fixed = ftraceCaller != null && mcount != null ? new long[] {ftraceCaller, mcount} : null;
        return new ArmRelocator(corePlt, initPlt, inInit, fixed, m.symbols(), false);
    }

    @Override
    public List<ModuleRelocation> order(KernelModuleFile m, int target) {
        return ArmModuleSections.ordered(m, target);
    }

    @Override
    public String apply(byte[] bytes, int at, long place, ModuleRelocation r, long symbolValue, boolean rela) {
        if (rela) return "REL relocation unsupported";   // moduleloader.h's apply_relocate_add: arm has none
        // r_offset > dstsec->sh_size - sizeof(u32), unsigned as the kernel compares it
        if (Integer.toUnsignedLong(at) > bytes.length - 4L || r.offset() != Integer.toUnsignedLong(at)) {
            return String.format("out of bounds relocation, offset %d size %d", (int) r.offset(), bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int loc = (int) place, sym = (int) symbolValue;
        int type = r.type();
        switch (type) {
            case NONE:
                return null;
            case ABS32: case TARGET1:
                b.putInt(at, b.getInt(at) + sym);
                return null;
            case PC24: case CALL: case JUMP24:
                return armBranch(b, at, loc, sym, type);
            case V4BX:
                // keeps Rm and the condition: MOV PC, Rm
                b.putInt(at, (b.getInt(at) & 0xf000000f) | 0x01a0f000);
                return null;
            case PREL31: {
                int offset = (b.getInt(at) << 1 >> 1) + sym - loc;   // the 31-bit addend sign-extended
                if (offset >= 0x40000000 || offset < -0x40000000) return outOfRange(type, loc, sym);
                b.putInt(at, (b.getInt(at) & 0x80000000) | (offset & 0x7fffffff));
                return null;
            }
            case MOVW_ABS_NC: case MOVT_ABS: {
                int insn = b.getInt(at);
                int offset = (short) (((insn & 0xf0000) >> 4) | (insn & 0xfff));   // imm4:imm12, signed 16 bits
                offset += sym;
                if (type == MOVT_ABS) offset >>= 16;
                b.putInt(at, (insn & 0xfff0f000) | ((offset & 0xf000) << 4) | (offset & 0x0fff));
                return null;
            }
            case THM_CALL: case THM_JUMP24:
                if (!thumb2Kernel) break;
                return thumbBranch(b, at, loc, sym, type, symbols.get(r.symbol()));
            case THM_MOVW_ABS_NC: case THM_MOVT_ABS: {
                if (!thumb2Kernel) break;
                int upper = b.getShort(at) & 0xffff, lower = b.getShort(at + 2) & 0xffff;
                // imm16 = imm4:i:imm3:imm8 (i = upper[10], imm4 = upper[3:0], imm3 = lower[14:12], imm8 = lower[7:0])
                int offset = (short) (((upper & 0x000f) << 12) | ((upper & 0x0400) << 1) | ((lower & 0x7000) >> 4) | (lower & 0x00ff));
                offset += sym;
                if (type == THM_MOVT_ABS) offset >>= 16;
                upper = (upper & 0xfbf0) | ((offset & 0xf000) >> 12) | ((offset & 0x0800) >> 1);
                lower = (lower & 0x8f00) | ((offset & 0x0700) << 4) | (offset & 0x00ff);
                b.putShort(at, (short) upper).putShort(at + 2, (short) lower);
                return null;
            }
            default:
                break;
        }
        return "unknown relocation: " + type;
    }

    /** PC24, CALL, JUMP24: B/BL's signed 24-bit word offset from PC (the place + 8). */
    private String armBranch(ByteBuffer b, int at, int loc, int sym, int type) {
        if ((sym & 3) != 0) return "unsupported interworking call (ARM -> Thumb)";
        int insn = b.getInt(at);
        int offset = (insn & 0x00ffffff) << 8 >> 6;   // the addend, sign-extended from 26 bits
        offset += sym - loc;
        // out of reach: through a PLT entry ('offset + loc + 8' is the target, S + A)
        if (offset <= (int) 0xfe000000 || offset >= 0x02000000) {
            Long plt = modulePlt(loc, offset + loc + 8, PLT_ENT_LDR_ARM, false);
            if (plt == null) return pltMissing();
            offset = (int) (long) plt - loc - 8;
        }
        if (offset <= (int) 0xfe000000 || offset >= 0x02000000) return outOfRange(type, loc, sym);
        b.putInt(at, (insn & 0xff000000) | ((offset >> 2) & 0x00ffffff));
        return null;
    }

    /**
     * THM_CALL, THM_JUMP24: Thumb-2 BL and B.W, S:I1:I2:imm10:imm11:0 (25 bits signed) from PC
     * (the place + 4), with I1 = ~(J1 ^ S), I2 = ~(J2 ^ S).
     */
    private String thumbBranch(ByteBuffer b, int at, int loc, int sym, int type, ModuleSymbol s) {
        // a function must be a Thumb one (no interworking); other symbols are taken as they are
        if (s.type() == ModuleSymbol.STT_FUNC && (sym & 1) == 0) return "unsupported interworking call (Thumb -> ARM)";
        int upper = b.getShort(at) & 0xffff, lower = b.getShort(at + 2) & 0xffff;
        int sign = (upper >> 10) & 1, j1 = (lower >> 13) & 1, j2 = (lower >> 11) & 1;
        int offset = (sign << 24) | ((~(j1 ^ sign) & 1) << 23) | ((~(j2 ^ sign) & 1) << 22)
                | ((upper & 0x03ff) << 12) | ((lower & 0x07ff) << 1);
        if ((offset & 0x01000000) != 0) offset -= 0x02000000;
        offset += sym - loc;
        if (offset <= (int) 0xff000000 || offset >= 0x01000000) {
            Long plt = modulePlt(loc, offset + loc + 4, PLT_ENT_LDR_THUMB, true);
            if (plt == null) return pltMissing();
            offset = (int) (long) plt - loc - 4;
        }
        if (offset <= (int) 0xff000000 || offset >= 0x01000000) return outOfRange(type, loc, sym);
        sign = (offset >> 24) & 1;
        j1 = sign ^ (~(offset >> 23) & 1);
        j2 = sign ^ (~(offset >> 22) & 1);
        upper = (upper & 0xf800) | (sign << 10) | ((offset >> 12) & 0x03ff);
        lower = (lower & 0xd000) | (j1 << 13) | (j2 << 11) | ((offset >> 1) & 0x07ff);
        b.putShort(at, (short) upper).putShort(at + 2, (short) lower);
        return null;
    }

    private static String outOfRange(int type, int loc, int sym) {
        return String.format("relocation %d out of range (%#x -> %#x)", type, loc, sym);
    }

    private String pltMissing() {
        return fixedPlts == null
                ? "a branch out of reach needs a PLT entry, and the kernel's fixed PLT entries (ftrace_caller, __gnu_mcount_nc) are not known"
                : "a branch out of reach needs a PLT entry, and the module's PLT is full or missing (kernel BUG in get_module_plt)";
    }

    /**
     * get_module_plt: the address of the PLT entry (an ldr pc of its literal) that branches to
     * {@code val}, in .init.plt for a place in init memory, else in .plt. The first use fills the
     * fixed entries (prealloc_fixed: all 16 ldrs of the first group, the literals FTRACE_ADDR and
     * MCOUNT_ADDR); a target that is one of them, or the literal made last (the relocations are
     * sorted), is reused; else the next literal is taken, a new group of 16 ldrs begun when the
     * last is full. Null where there is no room (the kernel's BUG_ON) or the fixed values are unknown.
     */
    private Long modulePlt(int loc, int val, int ldr, boolean thumb) {
        Plt plt = inInit.test(Integer.toUnsignedLong(loc)) ? init : core;
        if (plt == null || fixedPlts == null) return null;
        ByteBuffer p = ByteBuffer.wrap(plt.bytes).order(ByteOrder.LITTLE_ENDIAN);
        // __opcode_to_mem_thumb32: the first halfword first
        int word = thumb ? (ldr >>> 16) | (ldr << 16) : ldr;
        int group = ArmModuleSections.PLT_ENTRIES_SIZE, lits = ArmModuleSections.L1_CACHE_BYTES, n = ArmModuleSections.PLT_ENT_COUNT;
        if (plt.count == 0) {
            if (plt.bytes.length < group) return null;
            plt.count = ArmModuleSections.FIXED_PLTS;
            for (int i = 0; i < n; i++) p.putInt(4 * i, word);
            for (int i = 0; i < fixedPlts.length; i++) p.putInt(lits + 4 * i, (int) fixedPlts[i]);
        }
        for (int i = 0; i < ArmModuleSections.FIXED_PLTS; i++) {
            if (p.getInt(lits + 4 * i) == val) return plt.address + 4L * i;
        }
        int at = (plt.count - 1) / n * group, idx = (plt.count - 1) % n;
        if (p.getInt(at + lits + 4 * idx) == val) return plt.address + at + 4L * idx;
        idx = (idx + 1) % n;
        if (idx == 0) at += group;
        plt.count++;
        if ((long) plt.count * ArmModuleSections.PLT_ENT_SIZE > plt.bytes.length) return null;
        if (idx == 0) {
            // a new group: 16 ldrs, the first literal val, the others 0
            for (int i = 0; i < n; i++) p.putInt(at + 4 * i, word).putInt(at + lits + 4 * i, 0);
        }
        p.putInt(at + lits + 4 * idx, val);
        return plt.address + at + 4L * idx;
    }

    @Override
    public String apply(byte[] bytes, int at, long place, long value, int type) {
        return "REL relocation unsupported";
    }

    @Override
    public String typeName(int type) {
        return switch (type) {
            case NONE -> "R_ARM_NONE"; case PC24 -> "R_ARM_PC24"; case ABS32 -> "R_ARM_ABS32"; case REL32 -> "R_ARM_REL32";
            case THM_CALL -> "R_ARM_THM_CALL"; case CALL -> "R_ARM_CALL"; case JUMP24 -> "R_ARM_JUMP24";
            case THM_JUMP24 -> "R_ARM_THM_JUMP24"; case TARGET1 -> "R_ARM_TARGET1"; case V4BX -> "R_ARM_V4BX";
            case PREL31 -> "R_ARM_PREL31"; case MOVW_ABS_NC -> "R_ARM_MOVW_ABS_NC"; case MOVT_ABS -> "R_ARM_MOVT_ABS";
            case MOVW_PREL_NC -> "R_ARM_MOVW_PREL_NC"; case MOVT_PREL -> "R_ARM_MOVT_PREL";
            case THM_MOVW_ABS_NC -> "R_ARM_THM_MOVW_ABS_NC"; case THM_MOVT_ABS -> "R_ARM_THM_MOVT_ABS";
            case THM_MOVW_PREL_NC -> "R_ARM_THM_MOVW_PREL_NC"; case THM_MOVT_PREL -> "R_ARM_THM_MOVT_PREL";
            default -> "R_ARM_" + type;
        };
    }
}
