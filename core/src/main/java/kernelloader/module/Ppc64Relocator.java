package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * 64-bit PowerPC (ELFv2) module relocations as arch/powerpc/kernel/module_64.c's
 * apply_relocate_add applies them in Linux 6.12, for a kernel without CONFIG_PPC_KERNEL_PCREL
 * (Debian's ppc64el is built for POWER8: no prefixed instructions), with the kernel's range
 * checks and messages:
 * <ul>
 * <li>the TOC pointer r2 of the module (my_r2) is its .toc section's address rounded down to 256
 *     bytes, plus 0x8000 (.stubs' when it has no .toc); "TOC." (the module's undefined .TOC.,
 *     dedotified to SHN_ABS) has that value;</li>
 * <li>an R_PPC64_REL24 to an undefined (or SHN_LIVEPATCH) symbol branches to a stub in the
 *     module's .stubs (stub_for_addr, create_stub: addis r11,r2,HA; addi r11,r11,LO;
 *     std r2,24(r1); ld r12,32(r11); mtctr r12; bctr, the magic "stub" and the callee's address
 *     at 32), made once per callee, and the nop after the bl becomes ld r2,24(r1) (restore_r2);
 *     one to a symbol of the module branches to its local entry point (st_other);</li>
 * <li>R_PPC64_ENTRY turns the large-model prologue ld r2,x(r12); add r2,r2,r12 into
 *     addis r2,r12,HA; addi r2,r2,LO when the TOC is within 2 GiB;</li>
 * <li>ADDR32, ADDR64, TOC, TOC16, TOC16_LO, TOC16_DS, TOC16_LO_DS, TOC16_HA, REL64, REL32,
 *     TOCSAVE (ignored), REL16_HA, REL16_LO; any other type (REL24_NOTOC, PCREL34 and
 *     GOT_PCREL34 are handled only by PCREL kernels; no ADDR16 type is handled at all) is
 *     "Unknown ADD relocation".</li>
 * </ul>
 * Left out: the ftrace stubs of calls to _mcount, ftrace_caller and ftrace_regs_caller
 * (create_ftrace_stub, addressed from the kernel's own TOC, which this relocator is not given:
 * such a call is refused, saying so; Debian's modules use -fpatchable-function-entry and make
 * none); the PCREL kernel's forms (pld stubs, .mygot); ELFv1 (function descriptors, .opd),
 * refused as an ELFv2 kernel refuses it (module_elf_check_arch).
 */
final class Ppc64Relocator implements Relocator {
    static final int NONE = 0, ADDR32 = 1, ADDR16 = 3, ADDR16_LO = 4, ADDR16_HI = 5, ADDR16_HA = 6, REL24 = 10, REL32 = 26,
            ADDR64 = 38, REL64 = 44, TOC16 = 47, TOC16_LO = 48, TOC16_HI = 49, TOC16_HA = 50, TOC = 51, TOC16_DS = 63,
            TOC16_LO_DS = 64, TOCSAVE = 109, REL24_NOTOC = 116, ENTRY = 118, PCREL34 = 132, GOT_PCREL34 = 133,
            REL16 = 249, REL16_LO = 250, REL16_HI = 251, REL16_HA = 252;

    static final int NOP = 0x60000000;
    /** ld r2,24(r1): R2_STACK_OFFSET is 24 in ELFv2. */
    static final int LD_TOC = 0xe8410018;
    static final int STUB_MAGIC = 0x73747562;   // "stub"
    /** ppc64_stub_insns for ELFv2 without PCREL: addis r11,r2,0; addi r11,r11,0; std r2,24(r1); ld r12,32(r11); mtctr r12; bctr. */
    static final int[] STUB_INSNS = {0x3d620000, 0x396b0000, 0xf8410018, 0xe98b0020, 0x7d8903a6, 0x4e800420};
    /** ld r2,0(r12), add r2,r2,r12, addis r2,r12,0, addi r2,r2,0 (PPC_RAW_LD, _ADD, _ADDIS, _ADDI). */
    static final int LD_R2_R12 = 0xe84c0000, ADD_R2_R2_R12 = 0x7c426214, ADDIS_R2_R12 = 0x3c4c0000, ADDI_R2_R2 = 0x38420000;

    private final String module;
    private final ByteOrder order;
    private final List<ModuleSymbol> symbols;
    private final byte[] stubs;
    private final long stubsAddress;
    private final long myR2;
    /** Why the kernel refuses the whole module before relocating (no .stubs, not ELFv2), or null. */
    private final String refusal;

    /**
     * @param symbols      the module's symbols after dedotify
     * @param stubs        the bytes of its .stubs (sized by {@link Ppc64ModuleSections#stubsSize}), null without
     * @param stubsAddress where .stubs is
     * @param myR2         the module's TOC pointer (my_r2)
     * @param refusal      why the kernel would refuse the module as a whole, or null
     */
    Ppc64Relocator(String module, ByteOrder order, List<ModuleSymbol> symbols, byte[] stubs, long stubsAddress, long myR2,
                   String refusal) {
        this.module = module;
        this.order = order;
        this.symbols = symbols;
        this.stubs = stubs;
        this.stubsAddress = stubsAddress;
        this.myR2 = myR2;
        this.refusal = refusal;
    }

    /**
     * ppc64's relocator for {@code m} laid out by {@code layout}: its .stubs among {@code bytes};
     * sets "TOC."'s value in {@code values} to my_r2, as apply_relocate_add's first call does.
     */
    static Ppc64Relocator of(KernelModuleFile m, ModuleLayout layout, Map<Integer, byte[]> bytes, long[] values) {
        List<ModuleSymbol> syms = Ppc64ModuleSections.dedotified(m);
        int stubsIndex = m.section(".stubs"), tocIndex = m.section(".toc");
        String refusal = null;
        long flags = m.data().length >= 52 ? ByteBuffer.wrap(m.data()).order(m.elf().order()).getInt(48) & 0xffffffffL : 0;
        if (m.elf().bits() != 64 || (flags & 3) != 2) {
            // module_elf_check_arch: an ELFv2 kernel takes only e_flags ABI level 2
            refusal = "Invalid architecture in ELF header: " + m.elf().machine() + " (e_flags ABI level " + (flags & 3)
                    + "; this follows the ELFv2 kernel, which loads only ELFv2 modules)";
        } else if (stubsIndex <= 0 || !bytes.containsKey(stubsIndex)) {
            refusal = m.name() + ": doesn't contain .stubs.";
        }
        byte[] stubs = stubsIndex > 0 ? bytes.get(stubsIndex) : null;
        long stubsAddress = stubs != null ? layout.addressOf(m, stubsIndex) : 0;
        // no .toc: .stubs stands for it ("We need to set r2 to some reasonable value")
        Long tocAddress = tocIndex > 0 && bytes.containsKey(tocIndex) ? layout.addressOf(m, tocIndex) : null;
        long r2 = ((tocAddress != null ? tocAddress : stubsAddress) & ~0xffL) + 0x8000;
        ModuleSymbol toc = Ppc64ModuleSections.dotToc(syms);
        if (toc != null) values[toc.index()] = r2;
        return new Ppc64Relocator(m.name(), m.elf().order(), syms, stubs, stubsAddress, r2, refusal);
    }

    /** The module's TOC pointer. */
    long myR2() { return myR2; }

    @Override
    public List<ModuleRelocation> order(KernelModuleFile m, int target) {
        return Ppc64ModuleSections.ordered(m, target);
    }

    @Override
    public String apply(byte[] bytes, int at, long place, ModuleRelocation r, long symbolValue, boolean rela) {
        if (!rela) return "REL relocations (no addend) are not what ppc64 modules use";
        return relocate(bytes, at, place, symbolValue + r.addend(), r.type(), symbols.get(r.symbol()));
    }

    /** A relocation without its symbol: every type but REL24, which needs to know where the symbol is defined. */
    @Override
    public String apply(byte[] bytes, int at, long place, long value, int type) {
        if (type == REL24) return "an R_PPC64_REL24 needs its symbol (a stub for an undefined one, the local entry of a defined one)";
        return relocate(bytes, at, place, value, type, null);
    }

    private static int width(int type) {
        return switch (type) {
            case ADDR64, TOC, REL64, ENTRY -> 8;
            case ADDR32, REL32, REL24 -> 4;
            case TOCSAVE -> 0;
            default -> 2;
        };
    }

    private String relocate(byte[] bytes, int at, long place, long value, int type, ModuleSymbol sym) {
        if (refusal != null) return refusal;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(order);
        if (at < 0 || at + width(type) > bytes.length) return String.format("relocation at 0x%x lies outside its section", at);
        switch (type) {
            case ADDR32 -> b.putInt(at, (int) value);
            case ADDR64 -> b.putLong(at, value);
            case TOC -> b.putLong(at, myR2);
            case TOC16 -> {
                value -= myR2;
                if (Long.compareUnsigned(value + 0x8000, 0xffff) > 0) return String.format("%s: bad TOC16 relocation (0x%x)", module, value);
                b.putShort(at, (short) value);
            }
            case TOC16_LO -> b.putShort(at, (short) (value - myR2));
            case TOC16_DS -> {
                value -= myR2;
                if ((value & 3) != 0 || Long.compareUnsigned(value + 0x8000, 0xffff) > 0) {
                    return String.format("%s: bad TOC16_DS relocation (0x%x)", module, value);
                }
                b.putShort(at, (short) ((b.getShort(at) & ~0xfffc) | (value & 0xfffc)));
            }
            case TOC16_LO_DS -> {
                value -= myR2;
                if ((value & 3) != 0) return String.format("%s: bad TOC16_LO_DS relocation (0x%x)", module, value);
                b.putShort(at, (short) ((b.getShort(at) & ~0xfffc) | (value & 0xfffc)));
            }
            case TOC16_HA -> b.putShort(at, (short) ((value - myR2 + 0x8000) >>> 16));
            case REL24 -> { return rel24(b, at, place, value, sym); }
            case REL64 -> b.putLong(at, value - place);
            case REL32 -> {
                value -= place;
                if (Long.compareUnsigned(value + 0x80000000L, 0xffffffffL) > 0) return String.format("%s: REL32 %d out of range!", module, value);
                b.putInt(at, (int) value);
            }
            case TOCSAVE -> { }   // "Marker reloc indicates we don't have to save r2. That would only save us one instruction"
            case ENTRY -> entry(b, at, place);
            case REL16_HA -> b.putShort(at, (short) ((value - place + 0x8000) >>> 16));
            case REL16_LO -> b.putShort(at, (short) (value - place));
            default -> { return String.format("%s: Unknown ADD relocation: %d", module, type); }
        }
        return null;
    }

    /** R_PPC64_REL24: a bl/b to a module symbol's local entry, or to an undefined one's stub. */
    private String rel24(ByteBuffer b, int at, long place, long value, ModuleSymbol sym) {
        if (sym.shndx() == ModuleSymbol.SHN_UNDEF || sym.shndx() == ModuleSymbol.SHN_LIVEPATCH) {
            if (isFtraceCall(sym.name())) {
                return "a call to " + sym.name() + " goes through an ftrace stub addressed from the kernel's TOC (create_ftrace_stub), not made here";
            }
            Stub stub = stubFor(value);
            if (stub.refusal() != null) return stub.refusal();
            String why = restoreR2(b, at);
            if (why != null) return why;
            value = stub.address();
        } else {
            value += localEntryOffset(sym.other());
        }
        value -= place;
        if (Long.compareUnsigned(value + 0x2000000, 0x3ffffff) > 0 || (value & 3) != 0) {
            return String.format("%s: REL24 %d out of range!", module, value);
        }
        // only bits 2 to 25 (PPC_LI_MASK): the opcode, AA and LK stay
        b.putInt(at, (b.getInt(at) & ~0x03fffffc) | (int) (value & 0x03fffffc));
        return null;
    }

    /** PPC64_LOCAL_ENTRY_OFFSET: bits 5-7 of st_other give the distance from global to local entry. */
    static int localEntryOffset(int other) {
        return ((1 << ((other & 0xe0) >> 5)) >> 2) << 2;
    }

    /** is_mprofile_ftrace_call (CONFIG_ARCH_USING_PATCHABLE_FUNCTION_ENTRY, DYNAMIC_FTRACE, WITH_REGS). */
    static boolean isFtraceCall(String name) {
        return name.equals("_mcount") || name.equals("ftrace_caller") || name.equals("ftrace_regs_caller");
    }

    /** A stub's address, or why there is none (the kernel's words). */
    private record Stub(long address, String refusal) {}

    /**
     * stub_for_addr: the stub already made for {@code addr}, else one made (create_stub) in the
     * first free entry; an entry is free while its function address is 0.
     */
    private Stub stubFor(long addr) {
        ByteBuffer s = ByteBuffer.wrap(stubs).order(order);
        int n = stubs.length / Ppc64ModuleSections.STUB_ENTRY;
        int i = 0;
        for (;; i++) {
            if (i >= n) return new Stub(0, "no free entry left in .stubs (stub_for_addr's WARN_ON: -ENOENT)");
            long func = s.getLong(i * Ppc64ModuleSections.STUB_ENTRY + 32);
            if (func == 0) break;
            if (func == addr) return new Stub(stubsAddress + (long) i * Ppc64ModuleSections.STUB_ENTRY, null);
        }
        long entry = stubsAddress + (long) i * Ppc64ModuleSections.STUB_ENTRY;
        if (entry % 8 != 0) return new Stub(0, module + ": Address of stub entry is not 8-byte aligned");
        long reladdr = entry - myR2;
        if (reladdr > 0x7fffffffL || reladdr < -0x80000000L) {
            return new Stub(0, String.format("%s: Address 0x%x of stub out of range of 0x%x.", module, reladdr, myR2));
        }
        int o = i * Ppc64ModuleSections.STUB_ENTRY;
        for (int k = 0; k < STUB_INSNS.length; k++) s.putInt(o + 4 * k, STUB_INSNS[k]);
        s.putInt(o, STUB_INSNS[0] | ha(reladdr));
        s.putInt(o + 4, STUB_INSNS[1] | lo(reladdr));
        s.putInt(o + 28, STUB_MAGIC);
        s.putLong(o + 32, addr);
        return new Stub(entry, null);
    }

    /**
     * restore_r2: after a call (a relative branch with link) through a stub, the nop that follows
     * becomes ld r2,24(r1), which reloads the caller's TOC the stub saved; a sibling call (no
     * link) needs none, and one already restored (livepatch) is left.
     */
    private String restoreR2(ByteBuffer b, int at) {
        int branch = b.getInt(at);
        if (!isRelativeLinkBranch(branch)) return null;
        if (at + 8 > b.capacity()) return String.format("%s: the instruction after the call at 0x%x lies outside its section", module, at);
        int next = b.getInt(at + 4);
        if (next == LD_TOC) return null;
        if (next != NOP) return String.format("%s: Expected nop after call, got %08x at +0x%x", module, next, at + 4);
        b.putInt(at + 4, LD_TOC);
        return null;
    }

    /** instr_is_relative_link_branch: b (opcode 18) or bc (16), AA clear, LK set. */
    static boolean isRelativeLinkBranch(int insn) {
        int op = insn >>> 26;
        return (op == 18 || op == 16) && (insn & 2) == 0 && (insn & 1) != 0;
    }

    /** R_PPC64_ENTRY: the ELFv2 large-model prologue made the small model's when the TOC is within 2 GiB of it. */
    private void entry(ByteBuffer b, int at, long place) {
        long value = myR2 - place;
        if (Long.compareUnsigned(value + 0x80008000L, 0xffffffffL) > 0) return;
        if ((b.getInt(at) & ~0xfffc) != LD_R2_R12) return;
        if (b.getInt(at + 4) != ADD_R2_R2_R12) return;
        b.putInt(at, ADDIS_R2_R12 | ha(value));
        b.putInt(at + 4, ADDI_R2_R2 | lo(value));
    }

    /** PPC_HA: the high 16 bits, adjusted for the low 16 bits' being added signed. */
    static int ha(long v) { return (int) (((v + 0x8000) >> 16) & 0xffff); }

    static int lo(long v) { return (int) (v & 0xffff); }

    @Override
    public String typeName(int type) {
        return switch (type) {
            case NONE -> "R_PPC64_NONE"; case ADDR32 -> "R_PPC64_ADDR32"; case ADDR16 -> "R_PPC64_ADDR16";
            case ADDR16_LO -> "R_PPC64_ADDR16_LO"; case ADDR16_HI -> "R_PPC64_ADDR16_HI"; case ADDR16_HA -> "R_PPC64_ADDR16_HA";
            case REL24 -> "R_PPC64_REL24"; case REL32 -> "R_PPC64_REL32"; case ADDR64 -> "R_PPC64_ADDR64"; case REL64 -> "R_PPC64_REL64";
            case TOC16 -> "R_PPC64_TOC16"; case TOC16_LO -> "R_PPC64_TOC16_LO"; case TOC16_HI -> "R_PPC64_TOC16_HI";
            case TOC16_HA -> "R_PPC64_TOC16_HA"; case TOC -> "R_PPC64_TOC"; case TOC16_DS -> "R_PPC64_TOC16_DS";
            case TOC16_LO_DS -> "R_PPC64_TOC16_LO_DS"; case TOCSAVE -> "R_PPC64_TOCSAVE"; case REL24_NOTOC -> "R_PPC64_REL24_NOTOC";
            case ENTRY -> "R_PPC64_ENTRY"; case PCREL34 -> "R_PPC64_PCREL34"; case GOT_PCREL34 -> "R_PPC64_GOT_PCREL34";
            case REL16 -> "R_PPC64_REL16"; case REL16_LO -> "R_PPC64_REL16_LO"; case REL16_HI -> "R_PPC64_REL16_HI";
            case REL16_HA -> "R_PPC64_REL16_HA";
            default -> "R_PPC64_" + type;
        };
    }
}
