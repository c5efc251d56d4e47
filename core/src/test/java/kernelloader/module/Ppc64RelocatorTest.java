package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * ppc64's encodings against Debian's cross binutils (powerpc64le-linux-gnu-as -a64 -mlittle,
 * then objdump -d): bl .+0x108 is 0x48000109; addis r11,r2,-1 0x3d62ffff; addi r11,r11,-32768
 * 0x396b8000; std r2,24(r1) 0xf8410018; ld r12,32(r11) 0xe98b0020; mtctr r12 0x7d8903a6; bctr
 * 0x4e800420; ld r2,24(r1) 0xe8410018; ld r2,-8(r12) 0xe84cfff8; add r2,r2,r12 0x7c426214;
 * addis r2,r12,1 0x3c4c0001; addi r2,r2,-0x100 0x3842ff00; addis r9,r2,1 0x3d220001;
 * ld r9,-0x7ff8(r9) 0xe9298008.
 */
class Ppc64RelocatorTest {
    static final long TEXT = 0xc008000000000000L, STUBS = 0xc008000000010000L;
    /** The TOC pointer: 0x18000 above .stubs, so the first stub's r2-relative address is -0x18000 (addis -1, addi -32768). */
    static final long R2 = STUBS + 0x18000;
    static final long PRINTK = 0xc0000000001fa994L, KFREE = 0xc0000000004a1230L;

    static final List<ModuleSymbol> SYMS = List.of(
            new ModuleSymbol(0, "", 0, 0, 0, 0, 0, 0),
            new ModuleSymbol(1, "_printk", 0, 0, ModuleSymbol.STB_GLOBAL, ModuleSymbol.STT_NOTYPE, ModuleSymbol.SHN_UNDEF, 0),
            new ModuleSymbol(2, "kfree", 0, 0, ModuleSymbol.STB_GLOBAL, ModuleSymbol.STT_NOTYPE, ModuleSymbol.SHN_UNDEF, 0),
            // a function of the module whose local entry is 8 bytes in (st_other 3 << 5)
            new ModuleSymbol(3, "local", 0x120, 0, ModuleSymbol.STB_LOCAL, ModuleSymbol.STT_FUNC, 1, 0x60),
            new ModuleSymbol(4, "far", 0x2000100, 0, ModuleSymbol.STB_LOCAL, ModuleSymbol.STT_FUNC, 1, 0));

    final byte[] stubs = new byte[5 * Ppc64ModuleSections.STUB_ENTRY];
    final Ppc64Relocator r = new Ppc64Relocator("m", ByteOrder.LITTLE_ENDIAN, SYMS, stubs, STUBS, R2, null);

    static ByteBuffer le(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN); }

    String rel(byte[] code, long base, int at, int type, int sym, long symbolValue, long addend) {
        return r.apply(code, at, base + at, new ModuleRelocation(at, type, sym, addend), symbolValue, true);
    }

    @Test
    void aBlToTheModuleGoesToTheLocalEntry() {
        byte[] code = new byte[64];
        le(code).putInt(0x20, 0x48000001);
        assertNull(rel(code, TEXT, 0x20, Ppc64Relocator.REL24, 3, TEXT + 0x120, 0));
        assertEquals(0x48000109, le(code).getInt(0x20));   // bl .+0x108: 0x120 + 8 - 0x20
    }

    @Test
    void callsToTheKernelGoThroughOneStubPerCallee() {
        byte[] code = new byte[64];
        ByteBuffer c = le(code);
        c.putInt(0, 0x48000001).putInt(4, Ppc64Relocator.NOP);
        c.putInt(8, 0x48000001).putInt(12, Ppc64Relocator.NOP);
        c.putInt(16, 0x48000001).putInt(20, Ppc64Relocator.NOP);
        c.putInt(24, 0x48000000).putInt(28, 0x7c0802a6);   // a sibling call (b): no r2 to restore
        assertNull(rel(code, TEXT, 0, Ppc64Relocator.REL24, 1, PRINTK, 0));
        assertNull(rel(code, TEXT, 8, Ppc64Relocator.REL24, 1, PRINTK, 0));
        assertNull(rel(code, TEXT, 16, Ppc64Relocator.REL24, 2, KFREE, 0));
        assertNull(rel(code, TEXT, 24, Ppc64Relocator.REL24, 1, PRINTK, 0));
        assertEquals(0x48010001, c.getInt(0));    // bl to stub 0, 0x10000 on
        assertEquals(0xe8410018, c.getInt(4));    // ld r2,24(r1)
        assertEquals(0x4800fff9, c.getInt(8));    // the same stub
        assertEquals(0xe8410018, c.getInt(12));
        assertEquals(0x48010019, c.getInt(16));   // stub 1, 40 bytes on
        assertEquals(0x4800ffe8, c.getInt(24));   // b to stub 0
        assertEquals(0x7c0802a6, c.getInt(28));
        ByteBuffer s = le(stubs);
        int[] stub0 = {0x3d62ffff, 0x396b8000, 0xf8410018, 0xe98b0020, 0x7d8903a6, 0x4e800420, 0};
        for (int i = 0; i < 7; i++) assertEquals(stub0[i], s.getInt(4 * i), "stub 0 word " + i);
        assertEquals(0x73747562, s.getInt(28));   // "stub"
        assertEquals(PRINTK, s.getLong(32));
        // stub 1 is at -0x18000 + 40 from r2: addis r11,r2,-1; addi r11,r11,-32728
        assertEquals(0x3d62ffff, s.getInt(40));
        assertEquals(0x396b8028, s.getInt(44));
        assertEquals(KFREE, s.getLong(72));
        assertEquals(0, s.getLong(112));          // the rest stays free
    }

    @Test
    void whatTheKernelRefusesIsRefusedInItsWords() {
        byte[] code = new byte[64];
        le(code).putInt(0, 0x48000001).putInt(4, 0x7c0802a6).putInt(8, 0x48000001);
        assertEquals("m: Expected nop after call, got 7c0802a6 at +0x4", rel(code, TEXT, 0, Ppc64Relocator.REL24, 1, PRINTK, 0));
        assertEquals("m: REL24 33554680 out of range!", rel(code, TEXT, 8, Ppc64Relocator.REL24, 4, TEXT + 0x2000100, 0));
        assertEquals("m: Unknown ADD relocation: 6", rel(code, TEXT, 16, Ppc64Relocator.ADDR16_HA, 3, TEXT, 0));
        assertEquals("m: Unknown ADD relocation: 132", rel(code, TEXT, 16, Ppc64Relocator.PCREL34, 3, TEXT, 0));
        assertEquals("m: bad TOC16_LO_DS relocation (0x8006)", rel(code, TEXT, 16, Ppc64Relocator.TOC16_LO_DS, 3, R2 + 0x8006, 0));
        assertEquals("m: bad TOC16 relocation (0x8000)", rel(code, TEXT, 16, Ppc64Relocator.TOC16, 3, R2 + 0x8000, 0));
        assertEquals("m: REL32 2147483648 out of range!", rel(code, TEXT, 16, Ppc64Relocator.REL32, 3, TEXT + 16 + 0x80000000L, 0));
        Ppc64Relocator none = new Ppc64Relocator("m", ByteOrder.LITTLE_ENDIAN, SYMS, null, 0, 0x8000, "m: doesn't contain .stubs.");
        assertEquals("m: doesn't contain .stubs.", none.apply(code, 0, TEXT, 0x10, Ppc64Relocator.ADDR64));
    }

    @Test
    void tocRelativeLoadsAndTheLargeModelEntry() {
        byte[] code = new byte[16];
        ByteBuffer c = le(code);
        c.putInt(0, 0x3d220000).putInt(4, 0xe9290000);   // addis r9,r2,0; ld r9,0(r9)
        assertNull(rel(code, TEXT, 0, Ppc64Relocator.TOC16_HA, 3, R2 + 0x8008, 0));
        assertNull(rel(code, TEXT, 4, Ppc64Relocator.TOC16_LO_DS, 3, R2 + 0x8008, 0));
        assertEquals(0x3d220001, c.getInt(0));
        assertEquals(0xe9298008, c.getInt(4));

        // ld r2,-8(r12); add r2,r2,r12 at 0xff00 below r2: addis r2,r12,1; addi r2,r2,-0x100
        byte[] entry = new byte[8];
        le(entry).putInt(0, 0xe84cfff8).putInt(4, 0x7c426214);
        assertNull(rel(entry, R2 - 0xff00, 0, Ppc64Relocator.ENTRY, 0, 0, 0));
        assertEquals(0x3c4c0001, le(entry).getInt(0));
        assertEquals(0x3842ff00, le(entry).getInt(4));

        byte[] words = new byte[24];
        assertNull(rel(words, TEXT, 0, Ppc64Relocator.TOC, 0, 0, 0));
        assertNull(rel(words, TEXT, 8, Ppc64Relocator.REL64, 3, R2, -8));   // .TOC. - 8 before a function
        assertEquals(R2, le(words).getLong(0));
        assertEquals(R2 - 8 - (TEXT + 8), le(words).getLong(8));
    }

    @Test
    void stubsAreCountedAsGetStubsSizeCountsThem() {
        List<ModuleRelocation> rs = new ArrayList<>(List.of(
                new ModuleRelocation(0, Ppc64Relocator.REL24, 3, -8), new ModuleRelocation(4, Ppc64Relocator.REL24, 5, 0),
                new ModuleRelocation(8, Ppc64Relocator.REL24, 5, 4), new ModuleRelocation(12, Ppc64Relocator.REL24, 3, 0),
                new ModuleRelocation(16, Ppc64Relocator.ADDR64, 3, 0), new ModuleRelocation(20, Ppc64Relocator.REL24, 5, 0),
                new ModuleRelocation(24, Ppc64Relocator.REL24, 3, -8)));
        rs.sort(Ppc64ModuleSections.RELACMP);
        // largest r_info first: symbol 5's, then symbol 3's ADDR64 before its REL24s; addends largest first
        assertEquals(List.of(8L, 4L, 20L, 16L, 12L), rs.subList(0, 5).stream().map(ModuleRelocation::offset).toList());
        // (5,4) (5,0) (3,0) (3,-8), and (3,-8) again: the kernel keeps the last addend in an
        // unsigned int, which never equals a negative one
        assertEquals(5, Ppc64ModuleSections.countRelocs(rs, Ppc64Relocator.REL24));
        assertEquals(8, Ppc64Relocator.localEntryOffset(0x60));
        assertEquals(0, Ppc64Relocator.localEntryOffset(0x20));
        assertEquals(4, Ppc64Relocator.localEntryOffset(0x40));
    }
}
