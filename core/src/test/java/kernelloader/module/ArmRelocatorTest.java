package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * ArmRelocator's instruction encodings, against values worked out by hand from the ARM ARM (A1
 * BL: cond 1011 imm24, target PC + 8 + imm24 * 4; T1 BL: 11110 S imm10, 11 J1 1 J2 imm11 with
 * I1 = NOT(J1 XOR S); MOVW/MOVT A2: imm4 at 19:16, imm12 at 11:0; T3: i at 10, imm4 at 3:0 of
 * the first halfword, imm3 at 14:12, imm8 at 7:0 of the second), two branches as Debian's cross
 * binutils link them, and the PLT entries made as get_module_plt makes them.
 */
class ArmRelocatorTest {
    private static final List<ModuleSymbol> SYMBOLS = List.of(
            new ModuleSymbol(0, "", 0, 0, 0, 0, 0, 0),
            new ModuleSymbol(1, "f", 0, 0, 1, ModuleSymbol.STT_FUNC, 0, 0));

    private static ArmRelocator relocator(ArmRelocator.Plt core, boolean thumb2) {
        return new ArmRelocator(core, null, va -> false, new long[] {0xc0313c04L, 0xc0313bf8L}, SYMBOLS, thumb2);
    }

    private static byte[] word(int insn) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(insn).array();
    }

    private static byte[] halves(int upper, int lower) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) upper).putShort((short) lower).array();
    }

    private static int u32(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    private static String apply(ArmRelocator r, byte[] b, long place, int type, long s) {
        return r.apply(b, 0, place, new ModuleRelocation(0, type, 1, 0), s, false);
    }

    @Test
    void armBlTakesItsAddendFromTheInstruction() {
        // bl f as the assembler leaves it: imm24 = -2 (the -8 of the PC bias); 0x100 on: imm24 = (0x100 - 8) / 4
        byte[] b = word(0xebfffffe);
        assertNull(apply(relocator(null, false), b, 0xbf000100L, ArmRelocator.CALL, 0xbf000200L));
        assertEquals(0xeb00003e, u32(b, 0));
        // backwards, and a conditional B (JUMP24) keeps its condition: beq to 0x40 before the place
        b = word(0x0afffffe);
        assertNull(apply(relocator(null, false), b, 0xbf000100L, ArmRelocator.JUMP24, 0xbf0000c0L));
        assertEquals(0x0affffee, u32(b, 0));
    }

    @Test
    void asDebiansCrossBinutilsLinkThem() {
        // arm-linux-gnueabihf-ld (binutils 2.40), .text at 0xbf000100: "bf000100: eb3ffffe bl c0000100 <far>"
        // and, Thumb-2, "bf800100: f000 d800 bl c0000104 <thumbdst>" (a Thumb function: S has bit 0 set)
        byte[] b = word(0xebfffffe);
        assertNull(apply(relocator(null, false), b, 0xbf000100L, ArmRelocator.CALL, 0xc0000100L));
        assertEquals(0xeb3ffffe, u32(b, 0));
        b = halves(0xf7ff, 0xfffe);
        assertNull(apply(relocator(null, true), b, 0xbf800100L, ArmRelocator.THM_CALL, 0xc0000105L));
        assertEquals(0xd800f000, u32(b, 0));
    }

    @Test
    void anArmBranchOutOfReachGoesThroughThePlt() {
        byte[] plt = new byte[256];
        ArmRelocator r = relocator(new ArmRelocator.Plt(plt, 0xf0001000L), false);
        // printk from the vmalloc area: 0x2f... away, past ±32 MiB; the PLT's first group holds
        // the fixed entries (ftrace_caller, __gnu_mcount_nc) first, printk's literal is the third
        byte[] b = word(0xebfffffe);
        assertNull(apply(r, b, 0xf0000000L, ArmRelocator.CALL, 0xc0d0f048L));
        assertEquals(0xeb000000 | ((0xf0001008 - 0xf0000000 - 8) >> 2), u32(b, 0));
        for (int i = 0; i < 16; i++) assertEquals(0xe59ff038, u32(plt, 4 * i), "ldr pc, [pc, #56]");
        assertEquals(0xc0313c04, u32(plt, 64));
        assertEquals(0xc0313bf8, u32(plt, 68));
        assertEquals(0xc0d0f048, u32(plt, 72));
        // __gnu_mcount_nc: its fixed entry; printk again: the entry made last
        b = word(0xebfffffe);
        assertNull(apply(r, b, 0xf0000010L, ArmRelocator.CALL, 0xc0313bf8L));
        assertEquals(0xeb000000 | ((0xf0001004 - 0xf0000010 - 8) >> 2), u32(b, 0));
        b = word(0xebfffffe);
        assertNull(apply(r, b, 0xf0000020L, ArmRelocator.CALL, 0xc0d0f048L));
        assertEquals(0xeb000000 | ((0xf0001008 - 0xf0000020 - 8) >> 2), u32(b, 0));
        // without a PLT it is the kernel's refusal
        assertTrue(apply(relocator(null, false), word(0xebfffffe), 0xf0000000L, ArmRelocator.CALL, 0xc0d0f048L).contains("PLT"));
    }

    @Test
    void movwAndMovtTakeTheHalvesOfTheAddress() {
        // movw r0, #0 / movt r0, #0; printk at 0xc0d0f048: movw r0, #0xf048, movt r0, #0xc0d0
        byte[] lo = word(0xe3000000), hi = word(0xe3400000);
        assertNull(apply(relocator(null, false), lo, 0xbf000000L, ArmRelocator.MOVW_ABS_NC, 0xc0d0f048L));
        assertNull(apply(relocator(null, false), hi, 0xbf000004L, ArmRelocator.MOVT_ABS, 0xc0d0f048L));
        assertEquals(0xe30f0048, u32(lo, 0));
        assertEquals(0xe34c00d0, u32(hi, 0));
        // the addend in the instruction, signed: movw r3, #0xfffc (-4) on 0xc0d0f048
        byte[] a = word(0xe30f3ffc);
        assertNull(apply(relocator(null, false), a, 0xbf000000L, ArmRelocator.MOVW_ABS_NC, 0xc0d0f048L));
        assertEquals(0xe30f3044, u32(a, 0), "movw r3, #0xf044");
    }

    @Test
    void thumb2BlAndMovwOnAThumb2Kernel() {
        // bl f as assembled: S=1, imm10=0x3ff, J1=J2=1, imm11=0x7fe (-4, the PC bias); f (Thumb) 0x1000 on
        byte[] b = halves(0xf7ff, 0xfffe);
        assertNull(apply(relocator(null, true), b, 0x1000, ArmRelocator.THM_CALL, 0x2001));
        assertEquals(0xf000, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xffff);
        assertEquals(0xfffe, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(2) & 0xffff);
        // 4 MiB back, to 0x400000 from 0x800000: PC + offset with offset -0x400004 = S:I1:I2 110,
        // imm10 0x3ff, imm11 0x7fe; J1 = NOT(I1) XOR S = 1, J2 = NOT(I2) XOR S = 0: f7ff f7fe
        b = halves(0xf7ff, 0xfffe);
        assertNull(apply(relocator(null, true), b, 0x800000, ArmRelocator.THM_CALL, 0x400001));
        assertEquals(0xf7ff, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xffff);
        assertEquals(0xf7fe, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(2) & 0xffff);
        // an ARM function (Thumb bit clear) is the kernel's refused interworking
        assertTrue(apply(relocator(null, true), halves(0xf7ff, 0xfffe), 0x1000, ArmRelocator.THM_CALL, 0x2000).contains("Thumb -> ARM"));
        // movw r0, #0 (T3: f240 0000) on 0xc0d0f048: imm4 = 0xf, i = 0, imm3 = 0, imm8 = 0x48
        byte[] m = halves(0xf240, 0x0000);
        assertNull(apply(relocator(null, true), m, 0x1000, ArmRelocator.THM_MOVW_ABS_NC, 0xc0d0f048L));
        assertEquals(0xf24f, ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xffff);
        assertEquals(0x0048, ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getShort(2) & 0xffff);
        // movt r0, #0 (f2c0 0000) on 0xc0d0f048: 0xc0d0: imm4 = 0xc, i = 0, imm3 = 0, imm8 = 0xd0
        m = halves(0xf2c0, 0x0000);
        assertNull(apply(relocator(null, true), m, 0x1000, ArmRelocator.THM_MOVT_ABS, 0xc0d0f048L));
        assertEquals(0xf2cc, ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xffff);
        assertEquals(0x00d0, ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getShort(2) & 0xffff);
    }

    @Test
    void whatTheKernelRefuses() {
        ArmRelocator arm = relocator(null, false);
        // the 5.10 armmp kernel (ARM, not Thumb-2) knows neither REL32 nor the Thumb types
        assertEquals("unknown relocation: 3", apply(arm, word(0), 0x1000, ArmRelocator.REL32, 0x2000));
        assertEquals("unknown relocation: 10", apply(arm, halves(0xf7ff, 0xfffe), 0x1000, ArmRelocator.THM_CALL, 0x2001));
        assertEquals("unknown relocation: 45", apply(arm, word(0xe3000000), 0x1000, ArmRelocator.MOVW_PREL_NC, 0x2000));
        assertTrue(apply(arm, word(0xebfffffe), 0x1000, ArmRelocator.CALL, 0x2002).contains("ARM -> Thumb"));
        // PREL31 beyond ±1 GiB
        assertTrue(apply(arm, word(0), 0x10000000L, ArmRelocator.PREL31, 0x60000000L).contains("out of range"));
        byte[] p = word(0x80000000);
        assertNull(apply(arm, p, 0xbf000000L, ArmRelocator.PREL31, 0xbf000100L));
        assertEquals(0x80000100, u32(p, 0), "the top bit kept, the offset below it");
        assertTrue(arm.apply(new byte[4], 0, 0, new ModuleRelocation(0, ArmRelocator.ABS32, 1, 0), 0, true).contains("REL relocation unsupported"));
        assertTrue(arm.apply(new byte[4], 2, 0, new ModuleRelocation(2, ArmRelocator.ABS32, 1, 0), 0, false).contains("out of bounds"));
    }

    @Test
    void theKernelsHeapSortOrdersByTypeThenSymbol() {
        List<ModuleRelocation> v = new ArrayList<>();
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < 500; i++) v.add(new ModuleRelocation(4L * i, random.nextBoolean() ? 28 : 2, random.nextInt(40), 0));
        List<ModuleRelocation> sorted = new ArrayList<>(v);
        ArmModuleSections.heapSort(sorted);
        assertEquals(new java.util.HashSet<>(v), new java.util.HashSet<>(sorted));
        for (int i = 1; i < sorted.size(); i++) {
            ModuleRelocation a = sorted.get(i - 1), b = sorted.get(i);
            assertTrue(a.type() < b.type() || a.type() == b.type() && a.symbol() <= b.symbol(), i + ": " + a + " " + b);
        }
    }
}
