package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * riscv64 relocations against instructions Debian's riscv64-linux-gnu-as 2.40 (binutils) encodes:
 * each zero-immediate instruction, relocated to an offset, must become what the assembler makes
 * of the same instruction with that offset (objdump -d -M no-aliases of it, quoted).
 */
class RiscvRelocatorTest {
    static final long PLACE = 0xffffffff02400000L;

    private static byte[] insns(int... words) {
        ByteBuffer b = ByteBuffer.allocate(4 * words.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) b.putInt(w);
        return b.array();
    }

    private static int word(byte[] b, int at) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at); }

    private static int half(byte[] b, int at) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(at) & 0xffff; }

    private static int relocated(int insn, int type, long offset) {
        byte[] b = insns(insn);
        assertNull(new RiscvRelocator(new long[1], null, null, null, null).apply(b, 0, PLACE, PLACE + offset, type));
        return word(b, 0);
    }

    private static int relocatedRvc(int insn, int type, long offset) {
        byte[] b = insns(insn);   // the high half stays as it is
        assertNull(new RiscvRelocator(new long[1], null, null, null, null).apply(b, 0, PLACE, PLACE + offset, type));
        assertEquals(insn >>> 16, half(b, 2));
        return half(b, 0);
    }

    @Test
    void branchesAndJumps() {
        assertEquals(0x1ab502e3, relocated(0x00b50063, RiscvRelocator.BRANCH, 0x9a4));      // beq a0,a1,.+0x9a4
        assertEquals(0xa8d61ae3, relocated(0x00d61063, RiscvRelocator.BRANCH, -0x56c));     // bne a2,a3,.-0x56c
        assertEquals(0x34e8f0ef, relocated(0x000000ef, RiscvRelocator.JAL, 0x8f34e));       // jal ra,.+0x8f34e
        assertEquals(0x8d28006f, relocated(0x0000006f, RiscvRelocator.JAL, -0x7ff2e));      // jal zero,.-0x7ff2e
        assertEquals(0xcd4d, relocatedRvc(0xc101, RiscvRelocator.RVC_BRANCH, 0xba));        // c.beqz a0,.+0xba
        assertEquals(0xf789, relocatedRvc(0xe381, RiscvRelocator.RVC_BRANCH, -0xf6));       // c.bnez a5,.-0xf6
        assertEquals(0xb14d, relocatedRvc(0xa001, RiscvRelocator.RVC_JUMP, -0x35e));        // c.j .-0x35e
        assertEquals(0xaffd, relocatedRvc(0xa001, RiscvRelocator.RVC_JUMP, 0x7fe));         // c.j .+0x7fe
    }

    @Test
    void callsAndTheirReach() {
        RiscvRelocator r = new RiscvRelocator(new long[1], null, null, null, null);
        // auipc ra,0x12346; jalr ra,-1348(ra): a call to .+0x12345abc
        byte[] b = insns(0x00000097, 0x000080e7);
        assertNull(r.apply(b, 0, PLACE, PLACE + 0x12345abc, RiscvRelocator.CALL_PLT));
        assertEquals(0x12346097, word(b, 0));
        assertEquals(0xabc080e7, word(b, 4));
        // [-2^31 - 2^11, 2^31 - 2^11): the last one in reach, the first one out
        long last = (1L << 31) - (1L << 11) - 1, first = -(1L << 31) - (1L << 11);
        assertNull(r.apply(insns(0x97, 0x80e7), 0, PLACE, PLACE + last, RiscvRelocator.CALL));
        assertNull(r.apply(insns(0x97, 0x80e7), 0, PLACE, PLACE + first, RiscvRelocator.CALL));
        String why = r.apply(insns(0x97, 0x80e7), 0, PLACE, PLACE + last + 1, RiscvRelocator.CALL_PLT);
        assertEquals(String.format("target %016x can not be addressed by the 32-bit offset from PC = 0x%x", PLACE + last + 1, PLACE), why);
        assertTrue(r.apply(insns(0x97), 0, PLACE, PLACE + first - 1, RiscvRelocator.PCREL_HI20).contains("can not be addressed"));
    }

    @Test
    void absoluteHi20AndLo12() {
        // lui a0,0x81234 (%hi(0x812347ff): its low 12 bits are positive, nothing to round up) and
        // lw t0,2047(t1) / sw s0,2047(s1); then %hi(0x81234800) = 0x81235 with -2048 after it
        assertEquals(0x81235537, relocated(0x00000537, RiscvRelocator.HI20, 0x81234800L - PLACE));
        assertEquals(0x80032283, relocated(0x00032283, RiscvRelocator.LO12_I, 0x81234800L - PLACE));
        assertEquals(0x81234537, relocated(0x00000537, RiscvRelocator.HI20, 0x812347ffL - PLACE));
        assertEquals(0x7ff32283, relocated(0x00032283, RiscvRelocator.LO12_I, 0x812347ffL - PLACE));
        assertEquals(0x7e84afa3, relocated(0x0084a023, RiscvRelocator.LO12_S, 0x812347ffL - PLACE));
        String why = new RiscvRelocator(new long[1], null, null, null, null).apply(insns(0), 0, PLACE, 0x1_0000_0000L, RiscvRelocator.R32);
        assertEquals("value 0000000100000000 out of range for 32-bit field", why);
    }

    /** auipc a0; ld a0,lo(a1); sd a2,lo(a3), with the LO12s naming the auipc's label: the HI20's target is what they add up to. */
    @Test
    void pcrelLo12TakesItsHi20sTarget() {
        long[] values = {0, PLACE + 0x12345aac, PLACE};   // symbol 1 the target (addend 0x10), 2 the label at the auipc
        List<ModuleRelocation> rel = List.of(
                new ModuleRelocation(8, RiscvRelocator.PCREL_LO12_S, 2, 0),   // before its HI20: found round the section
                new ModuleRelocation(0, RiscvRelocator.PCREL_HI20, 1, 0x10),
                new ModuleRelocation(0, RiscvRelocator.RELAX, 0, 0),
                new ModuleRelocation(4, RiscvRelocator.PCREL_LO12_I, 2, 0));
        byte[] b = insns(0x00000517, 0x0005b503, 0x00c6b023);
        RiscvRelocator r = new RiscvRelocator(values, null, null, null, null);
        for (ModuleRelocation x : r.order(rel)) assertNull(r.apply(b, (int) x.offset(), PLACE + x.offset(), x, values[x.symbol()], true));
        assertEquals(0x12346517, word(b, 0));   // auipc a0,0x12346
        assertEquals(0xabc5b503, word(b, 4));   // ld a0,-1348(a1)
        assertEquals(0xaac6be23, word(b, 8));   // sd a2,-1348(a3)

        List<ModuleRelocation> alone = List.of(new ModuleRelocation(4, RiscvRelocator.PCREL_LO12_I, 2, 0));
        r.order(alone);
        assertEquals("Can not find HI20 relocation information", r.apply(b, 4, PLACE + 4, alone.get(0), PLACE, true));
    }

    /** ADD/SUB/SET/ULEB128 are gathered per place, after the rest, and stored from a zeroed buffer with the last one's handler. */
    @Test
    void accumulatedRelocations() {
        long[] values = {0, 0x1000, 0x0f00, 0x25, 0x07, 0x300, 0x100};
        List<ModuleRelocation> rel = List.of(
                new ModuleRelocation(0, RiscvRelocator.ADD32, 1, 0x34),
                new ModuleRelocation(8, RiscvRelocator.R64, 1, 0),
                new ModuleRelocation(0, RiscvRelocator.SUB32, 2, 0),
                new ModuleRelocation(4, RiscvRelocator.SET6, 3, 0),
                new ModuleRelocation(4, RiscvRelocator.SUB6, 4, 0),
                new ModuleRelocation(16, RiscvRelocator.SET_ULEB128, 5, 0),
                new ModuleRelocation(16, RiscvRelocator.SUB_ULEB128, 6, 0));
        RiscvRelocator r = new RiscvRelocator(values, null, null, null, null);
        List<ModuleRelocation> order = r.order(rel);
        assertEquals(List.of(rel.get(1), rel.get(0), rel.get(2), rel.get(3), rel.get(4), rel.get(5), rel.get(6)), order);
        byte[] b = new byte[24];
        b[0] = 0x55;                 // what is in the place: the kernel's stored buffer replaces it
        b[4] = (byte) 0xc0;          // a 6-bit place keeps its top two bits
        b[18] = 0x77;                // past the ULEB128's two bytes: left as it is
        for (ModuleRelocation x : order) assertNull(r.apply(b, (int) x.offset(), PLACE + x.offset(), x, values[x.symbol()], true));
        assertEquals(0x134, word(b, 0));
        assertEquals(0xc0 | (0x25 - 0x07), b[4] & 0xff);
        assertEquals(0x80, b[16] & 0xff);   // 0x200 as ULEB128: 0x80 0x04
        assertEquals(0x04, b[17]);
        assertEquals(0x77, b[18]);
        assertEquals(0x1000, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(8));

        // the range is checked on the buffer, with the last relocation's handler
        List<ModuleRelocation> over = List.of(new ModuleRelocation(0, RiscvRelocator.ADD16, 1, 0x234),
                new ModuleRelocation(0, RiscvRelocator.SET6, 3, 0));
        r.order(over);
        assertNull(r.apply(b, 0, PLACE, over.get(0), values[1], true));
        assertEquals("value 4645 out of range for 6-bit relocation.", r.apply(b, 0, PLACE, over.get(1), values[3], true));
    }

    /** A far CALL_PLT through a .plt entry (auipc t0; ld t1, its .got.plt slot; jr t1); GOT_HI20 through a .got entry. */
    @Test
    void pltAndGotEntries() {
        long plt = PLACE + 0x10000, gotPlt = plt + 0x1010, got = gotPlt + 0x40, far = PLACE + 0x1_2000_0000L;
        RiscvRelocator.Table pltT = new RiscvRelocator.Table(new byte[24], plt, 1);
        RiscvRelocator.Table gotPltT = new RiscvRelocator.Table(new byte[16], gotPlt, 1);
        RiscvRelocator.Table gotT = new RiscvRelocator.Table(new byte[16], got, 1);
        long[] values = {0, far, PLACE + 8, PLACE + 0x20};
        List<ModuleRelocation> rel = List.of(new ModuleRelocation(0, RiscvRelocator.CALL_PLT, 1, 0),
                new ModuleRelocation(8, RiscvRelocator.GOT_HI20, 3, 0), new ModuleRelocation(12, RiscvRelocator.PCREL_LO12_I, 2, 0),
                new ModuleRelocation(16, RiscvRelocator.CALL_PLT, 1, 0), new ModuleRelocation(24, RiscvRelocator.CALL_PLT, 3, far - PLACE));
        RiscvRelocator r = new RiscvRelocator(values, pltT, gotT, gotPltT, null);
        byte[] b = insns(0x97, 0x80e7, 0x517, 0x0005b503, 0x97, 0x80e7, 0x97, 0x80e7);
        List<ModuleRelocation> order = r.order(rel);
        for (int i = 0; i < 4; i++) {
            ModuleRelocation x = order.get(i);
            assertNull(r.apply(b, (int) x.offset(), PLACE + x.offset(), x, values[x.symbol()], true));
        }
        // the call lands on the entry: auipc ra,0x10; jalr ra,0(ra)
        assertEquals(0x00010097, word(b, 0));
        assertEquals(0x000080e7, word(b, 4));
        // auipc t0,0x1; ld t1,16(t0); jalr zero,0(t1)
        assertArrayEquals(new int[] {0x00001297, 0x0102b303, 0x00030067}, new int[] {word(pltT.bytes, 0), word(pltT.bytes, 4), word(pltT.bytes, 8)});
        assertEquals(far, gotPltT.slot(0));
        // the second call to it takes the same entry (0x10000 - 0x10 away)
        assertEquals(0x00010097, word(b, 16));
        assertEquals(0xff0080e7, word(b, 20));
        // GOT_HI20 and its LO12: the .got entry holding the symbol, 0x11048 from the auipc
        assertEquals(PLACE + 0x20, gotT.slot(0));
        assertEquals(0x00011517, word(b, 8));
        assertEquals(0x0485b503, word(b, 12));
        // a second far target: more entries than were counted
        ModuleRelocation x = order.get(4);
        assertTrue(r.apply(b, 24, PLACE + 24, x, values[3], true).startsWith("BUG: more PLT entries"));

        RiscvRelocator none = new RiscvRelocator(values, null, null, null, null);
        assertEquals(String.format("can not generate the GOT entry for symbol = %016x from PC = 0x%x", PLACE + 0x20, PLACE + 8),
                none.apply(insns(0, 0, 0x517), 8, PLACE + 8, PLACE + 0x20, RiscvRelocator.GOT_HI20));
    }

    @Test
    void theKernelsRefusals() {
        RiscvRelocator r = new RiscvRelocator(new long[1], null, null, null, null);
        byte[] b = insns(0);
        assertEquals(String.format("The unexpected relocation type 'R_RISCV_ALIGN' from PC = 0x%x", PLACE), r.apply(b, 0, PLACE, 0, RiscvRelocator.ALIGN));
        assertEquals(String.format("Thread local storage not supported in kernel modules PC = 0x%x", PLACE), r.apply(b, 0, PLACE, 0, RiscvRelocator.TPREL_HI20));
        assertEquals(String.format("Dynamic linking not supported in kernel modules PC = 0x%x", PLACE), r.apply(b, 0, PLACE, 0, RiscvRelocator.JUMP_SLOT));
        List<ModuleRelocation> rel = List.of(new ModuleRelocation(0, RiscvRelocator.NONE, 0, 0), new ModuleRelocation(0, 46, 0, 0));
        r.order(rel);
        assertEquals("Unknown relocation type 0", r.apply(b, 0, PLACE, rel.get(0), 0, true));   // the kernel's table has no R_RISCV_NONE
        assertEquals("Unknown relocation type 46", r.apply(b, 0, PLACE, rel.get(1), 0, true));  // nor R_RISCV_RVC_LUI
        assertNull(r.apply(b, 0, PLACE, 0, RiscvRelocator.RELAX));
    }

    /** module_frob_arch_sections' count: one entry per distinct (symbol, type, addend). */
    @Test
    void entriesCounted() {
        List<ModuleRelocation> rel = List.of(new ModuleRelocation(0, RiscvRelocator.CALL_PLT, 3, 0),
                new ModuleRelocation(8, RiscvRelocator.GOT_HI20, 3, 0), new ModuleRelocation(16, RiscvRelocator.CALL_PLT, 3, 0),
                new ModuleRelocation(24, RiscvRelocator.PLT32, 3, 0), new ModuleRelocation(32, RiscvRelocator.GOT_HI20, 3, 8),
                new ModuleRelocation(40, RiscvRelocator.PCREL_HI20, 3, 0), new ModuleRelocation(48, RiscvRelocator.CALL_PLT, 4, 0));
        assertArrayEquals(new int[] {3, 2}, RiscvModuleSections.maxEntries(rel));
    }
}
