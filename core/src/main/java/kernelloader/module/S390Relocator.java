package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * s390x's module relocations, as arch/s390/kernel/module.c applies them (apply_rela,
 * apply_rela_bits; read at the 6.1-era version with core_layout and the 22-byte expoline PLT,
 * torvalds/linux 305a72ef, whose relocation code 6.4 only moved to mod->mem[MOD_TEXT]): every
 * type its switch handles, each range-checked as apply_rela_bits checks it (signed or unsigned
 * field width, and a DBL value's low bit), written big-endian into the place; a 12- or 20-bit
 * displacement keeps the instruction's other bits. GOT entries (the symbol's address) and PLT
 * entries (basr %r1,0; lg %r1,12(%r1); br %r1 and the address; with expolines brcl to the
 * __jump_r1 thunk in the PLT's last entry) are written into the GOT and PLT that
 * {@link S390ModuleSections} reserved at the start of MOD_TEXT, once per symbol, as
 * got_initialized and plt_initialized make the kernel write them. A PLT16DBL or PLT32DBL whose
 * symbol is in reach branches to it directly; every other PLT type goes through the entry.
 * <p>
 * Like the kernel: R_390_PC12DBL, PLT12DBL, PC24DBL, PLT24DBL and the TLS types are not in its
 * switch, so they are refused ("unknown relocation"); COPY, GLOB_DAT, JMP_SLOT and RELATIVE
 * (for modules linked with -shared) are refused. Left out: the bytes 12 and 13 of a PLT entry
 * without expolines, which the kernel copies from an uninitialised stack buffer (never
 * executed: br %r1 ends at byte 10), are zeros here.
 */
final class S390Relocator implements Relocator {
    static final int NONE = 0, R8 = 1, R12 = 2, R16 = 3, R32 = 4, PC32 = 5, GOT12 = 6, GOT32 = 7, PLT32 = 8, COPY = 9,
            GLOB_DAT = 10, JMP_SLOT = 11, RELATIVE = 12, GOTOFF32 = 13, GOTPC = 14, GOT16 = 15, PC16 = 16, PC16DBL = 17,
            PLT16DBL = 18, PC32DBL = 19, PLT32DBL = 20, GOTPCDBL = 21, R64 = 22, PC64 = 23, GOT64 = 24, PLT64 = 25,
            GOTENT = 26, GOTOFF16 = 27, GOTOFF64 = 28, GOTPLT12 = 29, GOTPLT16 = 30, GOTPLT32 = 31, GOTPLT64 = 32,
            GOTPLTENT = 33, PLTOFF16 = 34, PLTOFF32 = 35, PLTOFF64 = 36, R20 = 57, GOT20 = 58, GOTPLT20 = 59;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(NONE, "NONE"), Map.entry(R8, "8"), Map.entry(R12, "12"), Map.entry(R16, "16"), Map.entry(R32, "32"),
            Map.entry(PC32, "PC32"), Map.entry(GOT12, "GOT12"), Map.entry(GOT32, "GOT32"), Map.entry(PLT32, "PLT32"),
            Map.entry(COPY, "COPY"), Map.entry(GLOB_DAT, "GLOB_DAT"), Map.entry(JMP_SLOT, "JMP_SLOT"), Map.entry(RELATIVE, "RELATIVE"),
            Map.entry(GOTOFF32, "GOTOFF32"), Map.entry(GOTPC, "GOTPC"), Map.entry(GOT16, "GOT16"), Map.entry(PC16, "PC16"),
            Map.entry(PC16DBL, "PC16DBL"), Map.entry(PLT16DBL, "PLT16DBL"), Map.entry(PC32DBL, "PC32DBL"), Map.entry(PLT32DBL, "PLT32DBL"),
            Map.entry(GOTPCDBL, "GOTPCDBL"), Map.entry(R64, "64"), Map.entry(PC64, "PC64"), Map.entry(GOT64, "GOT64"),
            Map.entry(PLT64, "PLT64"), Map.entry(GOTENT, "GOTENT"), Map.entry(GOTOFF16, "GOTOFF16"), Map.entry(GOTOFF64, "GOTOFF64"),
            Map.entry(GOTPLT12, "GOTPLT12"), Map.entry(GOTPLT16, "GOTPLT16"), Map.entry(GOTPLT32, "GOTPLT32"),
            Map.entry(GOTPLT64, "GOTPLT64"), Map.entry(GOTPLTENT, "GOTPLTENT"), Map.entry(PLTOFF16, "PLTOFF16"),
            Map.entry(PLTOFF32, "PLTOFF32"), Map.entry(PLTOFF64, "PLTOFF64"), Map.entry(R20, "20"), Map.entry(GOT20, "GOT20"),
            Map.entry(GOTPLT20, "GOTPLT20"), Map.entry(62, "PC12DBL"), Map.entry(63, "PLT12DBL"), Map.entry(64, "PC24DBL"),
            Map.entry(65, "PLT24DBL"));

    /** The types check_rela gives a GOT slot. */
    static boolean isGot(int type) {
        return switch (type) {
            case GOT12, GOT16, GOT20, GOT32, GOT64, GOTENT, GOTPLT12, GOTPLT16, GOTPLT20, GOTPLT32, GOTPLT64, GOTPLTENT -> true;
            default -> false;
        };
    }

    /** The types check_rela gives a PLT entry. */
    static boolean isPlt(int type) {
        return switch (type) {
            case PLT16DBL, PLT32DBL, PLT32, PLT64, PLTOFF16, PLTOFF32, PLTOFF64 -> true;
            default -> false;
        };
    }

    private final String module;
    private final IntFunction<String> symbolName;
    private final S390ModuleSections counts;
    private final byte[] gotPlt;
    private final long base;
    private final boolean[] gotDone, pltDone;

    /**
     * @param module     the module's name (for the kernel's messages)
     * @param symbolName a symbol's name by its index
     * @param counts     the GOT and PLT module_frob_arch_sections counted
     * @param gotPlt     the bytes of the reserved GOT and PLT (null when the module needs neither)
     * @param base       the address of MOD_TEXT, where the GOT and then the PLT start (me->core_layout.base)
     */
    S390Relocator(String module, IntFunction<String> symbolName, S390ModuleSections counts, byte[] gotPlt, long base) {
        this.module = module;
        this.symbolName = symbolName;
        this.counts = counts;
        this.gotPlt = gotPlt;
        this.base = base;
        this.gotDone = new boolean[counts.gotOffset.length];
        this.pltDone = new boolean[counts.pltOffset.length];
        if (counts.expolines && counts.pltSize > 0) writeJumpR1Thunk();
    }

    /** s390's relocator for {@code m}: its GOT and PLT where the layout reserved them, at MOD_TEXT's start. */
    static S390Relocator of(KernelModuleFile m, ModuleLayout layout, Map<Integer, byte[]> bytes) {
        S390ModuleSections counts = S390ModuleSections.of(m);
        byte[] gotPlt = null;
        for (ModuleLayout.Placed p : layout.sections()) {
            if (!p.reserved() || !p.name().equals(S390ModuleSections.NAME)) continue;
            if (p.offset() != 0 || p.type() != ModuleLayout.MemoryType.TEXT) {
                throw new IllegalStateException(m.name() + ": the GOT and PLT are not at the start of MOD_TEXT");
            }
            gotPlt = bytes.get(p.index());
        }
        long[] text = layout.memory().get(ModuleLayout.MemoryType.TEXT);
        return new S390Relocator(m.name(), i -> m.symbols().get(i).name(), counts, gotPlt, text == null ? 0 : text[0]);
    }

    /**
     * module_finalize's __jump_r1 thunk in the PLT's last entry: exrl %r0,.+10; j .; br %r1 (the
     * execute of the br keeps the branch from being predicted). It depends on nothing a
     * relocation writes, so it is written first.
     */
    private void writeJumpR1Thunk() {
        int at = (int) (counts.pltStart() + counts.pltSize - S390ModuleSections.PLT_ENTRY);
        ByteBuffer b = ByteBuffer.wrap(gotPlt).order(ByteOrder.BIG_ENDIAN);
        b.putInt(at, 0xc6000000).putInt(at + 4, 0x0005a7f4).putInt(at + 8, 0x000007f1);
    }

    @Override
    public String apply(byte[] bytes, int at, long place, ModuleRelocation r, long symbolValue, boolean rela) {
        if (!rela) return "REL relocations (no addend) are not what s390 modules use: its apply_relocate_add reads Elf_Rela";
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        int type = r.type();
        long loc = place, a = r.addend(), val = symbolValue;
        if (type != NONE && (at < 0 || at + width(type) > bytes.length)) return String.format("relocation at 0x%x lies outside its section", at);
        boolean ok;
        switch (type) {
            case NONE: return null;
            case R8: case R12: case R16: case R20: case R32: case R64:
                val += a;
                ok = switch (type) {
                    case R8 -> bits(b, at, val, false, 8, 0);
                    case R12 -> bits(b, at, val, false, 12, 0);
                    case R16 -> bits(b, at, val, false, 16, 0);
                    case R20 -> bits(b, at, val, true, 20, 0);
                    case R32 -> bits(b, at, val, false, 32, 0);
                    default -> bits(b, at, val, false, 64, 0);
                };
                break;
            case PC16: case PC16DBL: case PC32DBL: case PC32: case PC64:
                val += a - loc;
                ok = switch (type) {
                    case PC16 -> bits(b, at, val, true, 16, 0);
                    case PC16DBL -> bits(b, at, val, true, 16, 1);
                    case PC32DBL -> bits(b, at, val, true, 32, 1);
                    case PC32 -> bits(b, at, val, true, 32, 0);
                    default -> bits(b, at, val, true, 64, 0);
                };
                break;
            case GOT12: case GOT16: case GOT20: case GOT32: case GOT64: case GOTENT:
            case GOTPLT12: case GOTPLT16: case GOTPLT20: case GOTPLT32: case GOTPLT64: case GOTPLTENT: {
                long slot = counts.gotOffset[r.symbol()];
                if (gotPlt == null || slot < 0) return "no GOT slot for the symbol (module_frob_arch_sections counted none)";
                if (!gotDone[r.symbol()]) {
                    ByteBuffer.wrap(gotPlt).order(ByteOrder.BIG_ENDIAN).putLong((int) (counts.gotStart() + slot), val);
                    gotDone[r.symbol()] = true;
                }
                // the slot's offset from the GOT; for GOTENT from the place, the GOT being at the
                // base (the kernel adds core_layout.base: got_offset is 0)
                val = slot + a;
                ok = switch (type) {
                    case GOT12, GOTPLT12 -> bits(b, at, val, false, 12, 0);
                    case GOT16, GOTPLT16 -> bits(b, at, val, false, 16, 0);
                    case GOT20, GOTPLT20 -> bits(b, at, val, true, 20, 0);
                    case GOT32, GOTPLT32 -> bits(b, at, val, false, 32, 0);
                    case GOT64, GOTPLT64 -> bits(b, at, val, false, 64, 0);
                    default -> {
                        val += base - loc;
                        yield bits(b, at, val, true, 32, 1);
                    }
                };
                break;
            }
            case PLT16DBL: case PLT32DBL: case PLT32: case PLT64: case PLTOFF16: case PLTOFF32: case PLTOFF64: {
                long entry = counts.pltOffset[r.symbol()];
                if (gotPlt == null || entry < 0) return "no PLT entry for the symbol (module_frob_arch_sections counted none)";
                if (!pltDone[r.symbol()]) {
                    writePltEntry((int) (counts.pltStart() + entry), val);
                    pltDone[r.symbol()] = true;
                }
                if (type == PLTOFF16 || type == PLTOFF32 || type == PLTOFF64) {
                    val = counts.pltStart() - counts.gotStart() + entry + a;
                } else {
                    // a branch that reaches its target takes it directly (the symbol's address, before the addend)
                    boolean direct = (type == PLT16DBL && Long.compareUnsigned(val - loc + 0xffffL, 0x1ffffeL) < 0)
                            || (type == PLT32DBL && Long.compareUnsigned(val - loc + 0xffffffffL, 0x1fffffffeL) < 0);
                    if (!direct) val = base + counts.pltStart() + entry;
                    val += a - loc;
                }
                ok = switch (type) {
                    case PLT16DBL -> bits(b, at, val, true, 16, 1);
                    case PLTOFF16 -> bits(b, at, val, false, 16, 0);
                    case PLT32DBL -> bits(b, at, val, true, 32, 1);
                    case PLT32, PLTOFF32 -> bits(b, at, val, false, 32, 0);
                    default -> bits(b, at, val, false, 64, 0);
                };
                break;
            }
            case GOTOFF16: case GOTOFF32: case GOTOFF64:
                val = val + a - (base + counts.gotStart());
                ok = switch (type) {
                    case GOTOFF16 -> bits(b, at, val, false, 16, 0);
                    case GOTOFF32 -> bits(b, at, val, false, 32, 0);
                    default -> bits(b, at, val, false, 64, 0);
                };
                break;
            case GOTPC: case GOTPCDBL:
                val = base + counts.gotStart() + a - loc;
                ok = type == GOTPC ? bits(b, at, val, true, 32, 0) : bits(b, at, val, true, 32, 1);
                break;
            case COPY: case GLOB_DAT: case JMP_SLOT: case RELATIVE:
                return "R_390_" + NAMES.get(type) + " is only needed to load modules linked with -shared, which the kernel does not (-ENOEXEC)";
            default:
                return String.format("module %s: unknown relocation: %d", module, type);
        }
        if (!ok) {
            return String.format("module %s: relocation error for symbol %s (r_type %d, value 0x%x)", module, symbolName.apply(r.symbol()), type, val);
        }
        return null;
    }

    /**
     * Types whose value is S + A alone (direct, PC-relative, GOTOFF). The GOT and PLT types need
     * the relocation's symbol (its slot or entry) and GOTPC its addend apart from the symbol:
     * those go through {@link #apply(byte[], int, long, ModuleRelocation, long, boolean)}.
     */
    @Override
    public String apply(byte[] bytes, int at, long place, long value, int type) {
        if (isGot(type) || isPlt(type) || type == GOTPC || type == GOTPCDBL) {
            return typeName(type) + " needs its relocation's symbol and addend, not only S + A";
        }
        return apply(bytes, at, place, new ModuleRelocation(at, type, 0, 0), value, true);
    }

    /** The bytes a type's field spans (from apply_rela_bits' writes). */
    private static int width(int type) {
        return switch (type) {
            case R8 -> 1;
            case R12, R16, PC16, PC16DBL, PLT16DBL, GOT12, GOT16, GOTPLT12, GOTPLT16, GOTOFF16, PLTOFF16 -> 2;
            case R64, PC64, GOT64, GOTPLT64, PLT64, GOTOFF64, PLTOFF64 -> 8;
            default -> 4;
        };
    }

    /**
     * apply_rela_bits: {@code val} must have its low {@code shift} bits clear and, shifted, fit
     * {@code bits} bits (signed or unsigned); then it is written, big-endian, into the place (a
     * 12-bit field keeps the halfword's top 4 bits; a 20-bit one is DL, the low 12 bits, at bit 16
     * and DH, the high 8, at bit 8 of the word, keeping its other bits). False, writing nothing, if not.
     */
    static boolean bits(ByteBuffer b, int at, long val, boolean sign, int bits, int shift) {
        if ((val & ((1L << shift) - 1)) != 0) return false;
        if (sign) {
            val >>= shift;
            if (bits < 64) {
                long min = -(1L << (bits - 1)), max = (1L << (bits - 1)) - 1;
                if (val < min || val > max) return false;
            }
        } else {
            val >>>= shift;
            if (bits < 64 && Long.compareUnsigned(val, (1L << bits) - 1) > 0) return false;
        }
        switch (bits) {
            case 8 -> b.put(at, (byte) val);
            case 12 -> b.putShort(at, (short) ((val & 0xfff) | (b.getShort(at) & 0xf000)));
            case 16 -> b.putShort(at, (short) val);
            case 20 -> b.putInt(at, (int) ((val & 0xfff) << 16 | (val & 0xff000) >> 4) | (b.getInt(at) & 0xf00000ff));
            case 32 -> b.putInt(at, (int) val);
            default -> b.putLong(at, val);
        }
        return true;
    }

    /** A PLT entry at {@code at} of the GOT and PLT, branching to {@code target}. */
    private void writePltEntry(int at, long target) {
        ByteBuffer b = ByteBuffer.wrap(gotPlt).order(ByteOrder.BIG_ENDIAN);
        b.putInt(at, 0x0d10e310);        // basr %r1,0
        b.putInt(at + 4, 0x100c0004);    // lg %r1,12(%r1): the address at the entry's byte 14
        if (counts.expolines) {
            // brcl 0xf,__jump_r1: the thunk in the last entry, in halfwords from this instruction
            long thunk = counts.pltStart() + counts.pltSize - S390ModuleSections.PLT_ENTRY;
            b.putShort(at + 8, (short) 0xc0f4);
            b.putInt(at + 10, (int) ((thunk - (at + 8)) / 2));
        } else {
            b.putInt(at + 8, 0x07f10000);    // br %r1
        }
        b.putLong(at + 14, target);
    }

    @Override
    public String typeName(int type) {
        String n = NAMES.get(type);
        return "R_390_" + (n != null ? n : Integer.toString(type));
    }
}
