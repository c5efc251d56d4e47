package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * riscv64's module relocations, as arch/riscv/kernel/module.c applies them (apply_relocate_add
 * and its reloc_handlers table, the 6.9+ version with the accumulated ADD/SUB/SET/ULEB128
 * relocations and PLT32 through module_emit_plt_entry, as the kernel index holds it; nothing
 * there changed for 7.x as far as the index shows), with the kernel's checks and messages:
 * <ul>
 * <li>R_RISCV_PCREL_LO12_I/S name as their symbol the label of the AUIPC that holds their
 *     R_RISCV_PCREL_HI20 or R_RISCV_GOT_HI20: that HI20 relocation is found in the same
 *     relocation section (searched round from where the last one was found, as the kernel does),
 *     and the low 12 bits of ITS target minus its place are filled in.</li>
 * <li>ADD/SUB 8/16/32/64, SUB6, SET6/8/16/32 and SET/SUB_ULEB128 are not applied in place: the
 *     kernel gathers them per place and, after the section's other relocations, runs each
 *     place's handlers over a zeroed long buffer in order and stores the buffer with the last
 *     one's accumulate handler (range checked; ULEB128 re-encoded). {@link #order} therefore
 *     puts them after the rest, grouped by place in the order each place first occurs (the
 *     kernel's hash order among places only matters for overlapping places, which compilers do
 *     not emit); the group's last relocation stores it.</li>
 * <li>R_RISCV_GOT_HI20 always takes a .got entry; R_RISCV_CALL_PLT and R_RISCV_PLT32 take a
 *     .plt entry (auipc t0; ld t1, .got.plt slot; jr t1) when the target is out of the
 *     auipc+jalr reach [-2^31 - 2^11, 2^31 - 2^11). That needs CONFIG_MODULE_SECTIONS, which a
 *     module tells by carrying .plt/.got/.got.plt ({@link RiscvModuleSections}); without them
 *     these are the kernel's refusals.</li>
 * <li>R_RISCV_ALIGN is always refused, R_RISCV_RELAX is nothing to do, dynamic-linking and TLS
 *     types are refused in the kernel's words, types the table does not have (R_RISCV_NONE among
 *     them) are "Unknown relocation type".</li>
 * </ul>
 * Left out: CONFIG_CMODEL_MEDLOW kernels' refusal of R_RISCV_HI20 (this follows medany, which
 * Debian builds); 32-bit riscv. The kernel stops at a section's first error; this says every one.
 */
final class RiscvRelocator implements Relocator {
    static final int NONE = 0, R32 = 1, R64 = 2, RELATIVE = 3, COPY = 4, JUMP_SLOT = 5, TLS_DTPMOD32 = 6, TLS_DTPMOD64 = 7,
            TLS_DTPREL32 = 8, TLS_DTPREL64 = 9, TLS_TPREL32 = 10, TLS_TPREL64 = 11, BRANCH = 16, JAL = 17, CALL = 18,
            CALL_PLT = 19, GOT_HI20 = 20, TLS_GOT_HI20 = 21, TLS_GD_HI20 = 22, PCREL_HI20 = 23, PCREL_LO12_I = 24,
            PCREL_LO12_S = 25, HI20 = 26, LO12_I = 27, LO12_S = 28, TPREL_HI20 = 29, TPREL_LO12_I = 30, TPREL_LO12_S = 31,
            TPREL_ADD = 32, ADD8 = 33, ADD16 = 34, ADD32 = 35, ADD64 = 36, SUB8 = 37, SUB16 = 38, SUB32 = 39, SUB64 = 40,
            ALIGN = 43, RVC_BRANCH = 44, RVC_JUMP = 45, RELAX = 51, SUB6 = 52, SET6 = 53, SET8 = 54, SET16 = 55, SET32 = 56,
            PCREL32 = 57, IRELATIVE = 58, PLT32 = 59, SET_ULEB128 = 60, SUB_ULEB128 = 61;

    private static final Map<Integer, String> NAMES = new LinkedHashMap<>();
    static {
        String[] n = {"NONE", "32", "64", "RELATIVE", "COPY", "JUMP_SLOT", "TLS_DTPMOD32", "TLS_DTPMOD64", "TLS_DTPREL32",
            "TLS_DTPREL64", "TLS_TPREL32", "TLS_TPREL64"};
        for (int i = 0; i < n.length; i++) NAMES.put(i, n[i]);
        String[] m = {"BRANCH", "JAL", "CALL", "CALL_PLT", "GOT_HI20", "TLS_GOT_HI20", "TLS_GD_HI20", "PCREL_HI20", "PCREL_LO12_I",
            "PCREL_LO12_S", "HI20", "LO12_I", "LO12_S", "TPREL_HI20", "TPREL_LO12_I", "TPREL_LO12_S", "TPREL_ADD", "ADD8", "ADD16",
            "ADD32", "ADD64", "SUB8", "SUB16", "SUB32", "SUB64"};
        for (int i = 0; i < m.length; i++) NAMES.put(BRANCH + i, m[i]);
        NAMES.put(ALIGN, "ALIGN"); NAMES.put(RVC_BRANCH, "RVC_BRANCH"); NAMES.put(RVC_JUMP, "RVC_JUMP"); NAMES.put(RELAX, "RELAX");
        String[] s = {"SUB6", "SET6", "SET8", "SET16", "SET32", "32_PCREL", "IRELATIVE", "PLT32", "SET_ULEB128", "SUB_ULEB128"};
        for (int i = 0; i < s.length; i++) NAMES.put(SUB6 + i, s[i]);
    }

    /** One of the module's .plt, .got, .got.plt: its bytes, address and the entries made so far (struct mod_section). */
    static final class Table {
        final byte[] bytes;
        final long address;
        final int max;
        int entries;

        Table(byte[] bytes, long address, int max) {
            this.bytes = bytes;
            this.address = address;
            this.max = max;
        }

        long slot(int i) { return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(8 * i); }
    }

    private final long[] values;
    private final Table plt, got, gotPlt;
    /** The kernel's refusal of the whole module (module_frob_arch_sections), or null. */
    private final String refusal;

    // the section being relocated: its relocations as the file has them (where LO12s find their
    // HI20s), in the order applied, and how far the application has got
    private List<ModuleRelocation> file = List.of(), applied = List.of();
    private int cursor, hi20From;
    private long buffer;   // the accumulating place's buffer

    /**
     * @param values the module's symbols' linked values (what a LO12's HI20 names)
     * @param plt    .plt, {@code got} .got, {@code gotPlt} .got.plt; all null for a kernel without CONFIG_MODULE_SECTIONS
     * @param refusal why the kernel refuses the module before relocating it (null: it does not)
     */
    RiscvRelocator(long[] values, Table plt, Table got, Table gotPlt, String refusal) {
        this.values = values;
        this.plt = plt;
        this.got = got;
        this.gotPlt = gotPlt;
        this.refusal = refusal;
    }

    /** riscv's relocator for {@code m}: with its .plt, .got and .got.plt where it has them (CONFIG_MODULE_SECTIONS). */
    static RiscvRelocator of(KernelModuleFile m, ModuleLayout layout, Map<Integer, byte[]> bytes, long[] values) {
        if (!RiscvModuleSections.present(m)) return new RiscvRelocator(values, null, null, null, null);
        String missing = RiscvModuleSections.missing(m);
        if (missing != null) return new RiscvRelocator(values, null, null, null, missing);
        int[] max = RiscvModuleSections.maxEntries(m);
        int p = m.section(".plt"), g = m.section(".got"), gp = m.section(".got.plt");
        return new RiscvRelocator(values, new Table(bytes.get(p), layout.addressOf(m, p), max[0]),
                new Table(bytes.get(g), layout.addressOf(m, g), max[1]), new Table(bytes.get(gp), layout.addressOf(m, gp), max[0]), null);
    }

    static boolean accumulates(int type) {
        return type >= ADD8 && type <= SUB64 || type >= SUB6 && type <= SET32 || type == SET_ULEB128 || type == SUB_ULEB128;
    }

    /** The section's relocations as the kernel applies them: the accumulated ones last, grouped by place. */
    @Override
    public List<ModuleRelocation> order(KernelModuleFile m, int target) {
        return order(m.relocationsOf(target));
    }

    /** {@link #order(KernelModuleFile, int)} of a section whose relocations are {@code relocations}, as the file has them. */
    List<ModuleRelocation> order(List<ModuleRelocation> relocations) {
        file = relocations;
        List<ModuleRelocation> out = new ArrayList<>(file.size());
        Map<Long, List<ModuleRelocation>> byPlace = new LinkedHashMap<>();
        for (ModuleRelocation r : file) {
            if (accumulates(r.type())) byPlace.computeIfAbsent(r.offset(), k -> new ArrayList<>()).add(r);
            else out.add(r);
        }
        for (List<ModuleRelocation> l : byPlace.values()) out.addAll(l);
        applied = out;
        cursor = 0;
        hi20From = 0;
        return out;
    }

    @Override
    public String apply(byte[] bytes, int at, long place, ModuleRelocation r, long symbolValue, boolean rela) {
        int i = cursor++;
        if (i >= applied.size() || applied.get(i) != r) throw new IllegalStateException("riscv relocations are applied in the order order() gives");
        if (refusal != null) return refusal;
        if (!rela) return "REL relocations (no addend) are not what this architecture's modules use";
        int type = r.type();
        if (!NAMES.containsKey(type) || type == NONE) {   // (the kernel's table has no R_RISCV_NONE)
            return "Unknown relocation type " + type;
        }
        long v = symbolValue + r.addend();
        if (type == PCREL_LO12_I || type == PCREL_LO12_S) {
            Long lo12 = lo12(place - r.offset(), symbolValue);
            if (lo12 == null) return "Can not find HI20 relocation information";
            v = lo12;
        }
        if (accumulates(type)) {
            if (!samePlace(i - 1, r)) buffer = 0;   // the place's first
            buffer = handle(buffer, type, v);
            boolean last = !samePlace(i + 1, r);
            return last ? store(bytes, at, type, buffer) : null;
        }
        return apply(bytes, at, place, v, type);
    }

    /** Whether relocation {@code i} of the applied order is accumulated at {@code r}'s place too. */
    private boolean samePlace(int i, ModuleRelocation r) {
        return i >= 0 && i < applied.size() && accumulates(applied.get(i).type()) && applied.get(i).offset() == r.offset();
    }

    /**
     * The low 12 bits a PCREL_LO12 fills in: of its HI20's target (a .got entry for a GOT_HI20)
     * minus the HI20's place, the HI20 being the relocation of this section at {@code label}
     * (the LO12's symbol); null if there is none.
     */
    private Long lo12(long sectionBase, long label) {
        int n = file.size();
        if (n == 0) return null;
        int j = hi20From;
        do {
            ModuleRelocation h = file.get(j);
            long hi20Place = sectionBase + h.offset();
            if (hi20Place == label && (h.type() == PCREL_HI20 || h.type() == GOT_HI20)) {
                hi20From = j;
                long target = values[h.symbol()] + h.addend();
                if (h.type() == GOT_HI20 && got != null) {
                    Long entry = emitGot(target);
                    if (entry == null) return null;
                    target = entry;
                }
                long offset = target - hi20Place;
                return offset - ((offset + 0x800) & 0xfffff000L);
            }
            j = j + 1 == n ? 0 : j + 1;
        } while (j != hi20From);
        return null;
    }

    /** riscv_insn_valid_32bit_offset: what auipc with a 12-bit signed immediate after it reaches. */
    static boolean valid32(long offset) {
        return -(1L << 31) - (1L << 11) <= offset && offset < (1L << 31) - (1L << 11);
    }

    private static String unaddressable(long v, long place) {
        return String.format("target %016x can not be addressed by the 32-bit offset from PC = 0x%x", v, place);
    }

    /** Applies one relocation that is not accumulated; {@code v} is S + A, for a PCREL_LO12 the low 12 bits. */
    @Override
    public String apply(byte[] bytes, int at, long place, long v, int type) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int need = switch (type) {
            case R64 -> 8;
            case RVC_BRANCH, RVC_JUMP -> 2;
            case CALL, CALL_PLT -> 8;
            case RELAX, ALIGN -> 0;
            default -> 4;
        };
        if (at < 0 || at + need > bytes.length) return String.format("relocation at 0x%x lies outside its section", at);
        long offset = v - place;
        switch (type) {
            case R32:
                if (v != (v & 0xffffffffL)) return String.format("value %016x out of range for 32-bit field", v);
                b.putInt(at, (int) v);
                return null;
            case R64:
                b.putLong(at, v);
                return null;
            case BRANCH:
                rmw(b, at, 0x1fff07f, bType(offset));
                return null;
            case JAL:
                rmw(b, at, 0xfff, jType(offset));
                return null;
            case RVC_BRANCH:
                b.putShort(at, (short) ((b.getShort(at) & 0xe383) | cbType(offset)));
                return null;
            case RVC_JUMP:
                b.putShort(at, (short) ((b.getShort(at) & 0xe003) | cjType(offset)));
                return null;
            case PCREL_HI20:
                if (!valid32(offset)) return unaddressable(v, place);
                rmw(b, at, 0xfff, (int) ((offset + 0x800) & 0xfffff000L));
                return null;
            case PCREL_LO12_I:
            case LO12_I:
                rmw(b, at, 0xfffff, (int) (lo12Of(type, v) & 0xfff) << 20);
                return null;
            case PCREL_LO12_S:
            case LO12_S:
                rmw(b, at, 0x1fff07f, sImm(lo12Of(type, v)));
                return null;
            case HI20:
                // (a CONFIG_CMODEL_MEDLOW kernel refuses this; Debian's are medany)
                rmw(b, at, 0xfff, ((int) v + 0x800) & 0xfffff000);
                return null;
            case GOT_HI20: {
                if (got == null) return String.format("can not generate the GOT entry for symbol = %016x from PC = 0x%x", v, place);
                Long entry = emitGot(v);
                if (entry == null) return "BUG: more GOT entries than module_frob_arch_sections counted";
                rmw(b, at, 0xfff, (int) ((entry - place + 0x800) & 0xfffff000L));
                return null;
            }
            case CALL_PLT:
            case CALL: {
                if (!valid32(offset)) {
                    if (type == CALL || plt == null) return unaddressable(v, place);
                    Long entry = emitPlt(v);
                    if (entry == null) return "BUG: more PLT entries than module_frob_arch_sections counted";
                    offset = entry - place;
                }
                long hi20 = (offset + 0x800) & 0xfffff000L;
                rmw(b, at, 0xfff, (int) hi20);
                rmw(b, at + 4, 0xfffff, (int) ((offset - hi20) & 0xfff) << 20);
                return null;
            }
            case RELAX:
                return null;
            case ALIGN:
                return String.format("The unexpected relocation type 'R_RISCV_ALIGN' from PC = 0x%x", place);
            case PCREL32:
                b.putInt(at, (int) offset);
                return null;
            case PLT32:
                if (!valid32(offset)) {
                    if (plt == null) return unaddressable(v, place);
                    Long entry = emitPlt(v);
                    if (entry == null) return "BUG: more PLT entries than module_frob_arch_sections counted";
                    offset = entry - place;
                }
                b.putInt(at, (int) offset);
                return null;
            case RELATIVE: case COPY: case JUMP_SLOT: case TLS_DTPMOD32: case TLS_DTPMOD64: case TLS_DTPREL32: case TLS_DTPREL64:
            case TLS_TPREL32: case TLS_TPREL64: case IRELATIVE:
                return String.format("Dynamic linking not supported in kernel modules PC = 0x%x", place);
            case TLS_GOT_HI20: case TLS_GD_HI20: case TPREL_HI20: case TPREL_LO12_I: case TPREL_LO12_S: case TPREL_ADD:
                return String.format("Thread local storage not supported in kernel modules PC = 0x%x", place);
            default:
                return "Unknown relocation type " + type;
        }
    }

    /** A LO12's value: a PCREL_LO12's is given; an absolute LO12's is v minus its HI20's rounding. */
    private static long lo12Of(int type, long v) {
        if (type == PCREL_LO12_I || type == PCREL_LO12_S) return v;
        int hi20 = ((int) v + 0x800) & 0xfffff000;
        return (int) v - hi20;
    }

    /** riscv_insn_rmw: the instruction (two little-endian parcels) masked with {@code keep}, {@code set} or-ed in. */
    private static void rmw(ByteBuffer b, int at, int keep, int set) {
        b.putInt(at, (b.getInt(at) & keep) | set);
    }

    /** B-type immediate: imm[12|10:5] at 31:25, imm[4:1|11] at 11:7. */
    static int bType(long offset) {
        return (int) ((offset & 0x1000) << (31 - 12) | (offset & 0x800) >> (11 - 7) | (offset & 0x7e0) << (30 - 10)
                | (offset & 0x1e) << (11 - 4));
    }

    /** J-type immediate: imm[20|10:1|11|19:12] at 31:12. */
    static int jType(long offset) {
        return (int) ((offset & 0x100000) << (31 - 20) | (offset & 0xff000) | (offset & 0x800) << (20 - 11) | (offset & 0x7fe) << (30 - 10));
    }

    /** S-type immediate: imm[11:5] at 31:25, imm[4:0] at 11:7. */
    static int sImm(long v) {
        return (int) ((v & 0xfe0) << (31 - 11) | (v & 0x1f) << (11 - 4));
    }

    /** CB-format (c.beqz/c.bnez) offset: [8|4:3] at 12:10, [7:6|2:1|5] at 6:2. */
    static int cbType(long offset) {
        return (int) ((offset & 0x100) << (12 - 8) | (offset & 0xc0) >> (6 - 5) | (offset & 0x20) >> (5 - 2)
                | (offset & 0x18) << (12 - 5) | (offset & 0x6) << (12 - 10)) & 0xffff;
    }

    /** CJ-format (c.j/c.jal) offset: [11|4|9:8|10|6|7|3:1|5] at 12:2. */
    static int cjType(long offset) {
        return (int) ((offset & 0x800) << (12 - 11) | (offset & 0x400) >> (10 - 8) | (offset & 0x300) << (12 - 11)
                | (offset & 0x80) >> (7 - 6) | (offset & 0x40) << (12 - 11) | (offset & 0x20) >> (5 - 2)
                | (offset & 0x10) << (12 - 5) | (offset & 0xe) << (12 - 10)) & 0xffff;
    }

    /** An accumulated relocation's reloc_handler run on the buffer (a little-endian long: the 8/16/32-bit ones touch its low bytes). */
    static long handle(long buffer, int type, long v) {
        return switch (type) {
            case ADD8 -> low(buffer, buffer + v, 0xffL);
            case ADD16 -> low(buffer, buffer + v, 0xffffL);
            case ADD32 -> low(buffer, buffer + v, 0xffffffffL);
            case ADD64 -> buffer + v;
            case SUB8 -> low(buffer, buffer - v, 0xffL);
            case SUB16 -> low(buffer, buffer - v, 0xffffL);
            case SUB32 -> low(buffer, buffer - v, 0xffffffffL);
            case SUB64 -> buffer - v;
            case SUB6 -> low(buffer, ((buffer & 0xff) - (v & 0x3f)) & 0x3f, 0xffL);
            case SET6 -> low(buffer, (buffer & 0xc0) | (v & 0x3f), 0xffL);
            case SET8 -> low(buffer, v, 0xffL);
            case SET16 -> low(buffer, v, 0xffffL);
            case SET32 -> low(buffer, v, 0xffffffffL);
            case SET_ULEB128 -> v;
            case SUB_ULEB128 -> buffer - v;
            default -> throw new IllegalArgumentException("not accumulated: " + type);
        };
    }

    private static long low(long buffer, long value, long mask) {
        return (buffer & ~mask) | (value & mask);
    }

    /** The accumulate_handler of the place's last relocation: the buffer stored, range checked (signed, as the kernel compares). */
    static String store(byte[] bytes, int at, int type, long buffer) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int width = switch (type) {
            case ADD8, SUB8, SET8, SUB6, SET6 -> 1;
            case ADD16, SUB16, SET16 -> 2;
            case ADD32, SUB32, SET32 -> 4;
            case ADD64, SUB64 -> 8;
            default -> 0;   // ULEB128: as many bytes as it takes
        };
        if (at < 0 || at + Math.max(width, 1) > bytes.length) return String.format("relocation at 0x%x lies outside its section", at);
        switch (type) {
            case SUB6, SET6 -> {
                if (buffer > 0x3f) return String.format("value %d out of range for 6-bit relocation.", buffer);
                bytes[at] = (byte) ((bytes[at] & 0xc0) | (buffer & 0x3f));
            }
            case ADD8, SUB8, SET8 -> {
                if (buffer > 0xff) return String.format("value %d out of range for 8-bit relocation.", buffer);
                bytes[at] = (byte) buffer;
            }
            case ADD16, SUB16, SET16 -> {
                if (buffer > 0xffff) return String.format("value %d out of range for 16-bit relocation.", buffer);
                b.putShort(at, (short) buffer);
            }
            case ADD32, SUB32, SET32 -> {
                if (buffer > 0xffffffffL) return String.format("value %d out of range for 32-bit relocation.", buffer);
                b.putInt(at, (int) buffer);
            }
            case ADD64, SUB64 -> b.putLong(at, buffer);
            default -> {
                // apply_uleb128_accumulation: 7 bits a byte while anything is left (nothing for 0);
                // the kernel's loop would not end for a negative value (an arithmetic shift)
                if (buffer < 0) return String.format("value %d is negative: its ULEB128 encoding would not end", buffer);
                int p = at;
                while (buffer != 0) {
                    if (p >= bytes.length) return String.format("ULEB128 at 0x%x runs past its section", at);
                    int value = (int) (buffer & 0x7f);
                    buffer >>= 7;
                    bytes[p++] = (byte) (value | (buffer != 0 ? 0x80 : 0));
                }
            }
        }
        return null;
    }

    /** module_emit_got_entry: the .got entry holding {@code val} (the one made before, else a new one); null past the count. */
    private Long emitGot(long val) {
        for (int i = 0; i < got.entries; i++) if (got.slot(i) == val) return got.address + 8L * i;
        int i = got.entries;
        if (i + 1 > got.max) return null;   // the kernel's BUG_ON
        ByteBuffer.wrap(got.bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(8 * i, val);
        got.entries++;
        return got.address + 8L * i;
    }

    /**
     * module_emit_plt_entry: the .plt entry jumping to {@code val} (found by its .got.plt slot),
     * else a new one: the slot set to val and auipc t0, %hi(slot); ld t1, %lo(slot)(t0); jr t1.
     */
    private Long emitPlt(long val) {
        for (int i = 0; i < gotPlt.entries; i++) if (gotPlt.slot(i) == val) return plt.address + 12L * i;
        int i = plt.entries;
        if (i + 1 > plt.max) return null;   // the kernel's BUG_ON
        ByteBuffer.wrap(gotPlt.bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(8 * i, val);
        long entry = plt.address + 12L * i, slot = gotPlt.address + 8L * i;
        int[] insns = pltEntry(entry, slot);
        ByteBuffer p = ByteBuffer.wrap(plt.bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < 3; k++) p.putInt(12 * i + 4 * k, insns[k]);
        plt.entries++;
        gotPlt.entries++;
        return entry;
    }

    /** emit_plt_entry (arch/riscv/include/asm/module.h): the three instructions of the entry at {@code at} loading its slot. */
    static int[] pltEntry(long at, long slot) {
        long offset = slot - at;
        int hi20 = (int) ((offset + 0x800) & 0xfffff000L);
        int lo12 = (int) (offset - hi20);
        final int auipc = 0x17, ld = 0x3003, jalr = 0x67, t0 = 5, t1 = 6;
        return new int[] {auipc | t0 << 7 | hi20, ld | lo12 << 20 | t0 << 15 | t1 << 7, jalr | t1 << 15};
    }

    @Override
    public String typeName(int type) {
        String n = NAMES.get(type);
        return "R_RISCV_" + (n != null ? n : Integer.toString(type));
    }
}
