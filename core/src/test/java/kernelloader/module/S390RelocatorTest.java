package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * s390x relocations against encodings from Debian's cross binutils 2.40
 * (s390x-linux-gnu-as, then ld -Ttext=0x1000, of brasl/larl/lgrl to a target at 0x3000,
 * lg %r1,0x12345(%r2) and l %r3,0xabc(%r4)), and PLT entries as the kernel builds them
 * (objdump -b binary -m s390:64-bit reads them as basr %r1,%r0; lg %r1,12(%r1); br %r1, and the
 * thunk as exrl %r0,.+10; j .; br %r1).
 */
class S390RelocatorTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final long GOT_PLT = 0x3ff7fd00000L;   // MOD_TEXT's start: the GOT, then the PLT
    private static final String[] NAMES = {"", "target", "printk", "jiffies", "odd"};

    private static byte[] hex(String s) { return HEX.parseHex(s.replace(" ", "")); }

    private static S390Relocator relocator(S390ModuleSections counts, byte[] gotPlt) {
        return new S390Relocator("m", i -> NAMES[i], counts, gotPlt, GOT_PLT);
    }

    @Test
    void pcRelativeDoubledAndDisplacementsAreWhatLdWrites() {
        // brasl %r14; larl %r1 (to 0x3000, from 0x1000 and 0x1006); lg %r1,0(%r2); l %r3,0(%r4)
        byte[] text = hex("c0e5 00000000 c010 00000000 e310 2000 0004 5830 4000");
        S390Relocator r = relocator(S390ModuleSections.count(NAMES.length, List.of(), false), null);
        assertNull(r.apply(text, 2, 0x1002, new ModuleRelocation(2, S390Relocator.PC32DBL, 1, 2), 0x3000, true));
        assertNull(r.apply(text, 8, 0x1008, new ModuleRelocation(8, S390Relocator.PC32DBL, 1, 2), 0x3000, true));
        assertNull(r.apply(text, 14, 0x100e, new ModuleRelocation(14, S390Relocator.R20, 0, 0x12345), 0, true));
        assertNull(r.apply(text, 20, 0x1014, new ModuleRelocation(20, S390Relocator.R12, 0, 0xabc), 0, true));
        assertEquals("c0e500001000" + "c01000000ffd" + "e31023451204" + "58304abc", HEX.formatHex(text));
    }

    @Test
    void aCallOutOfReachGoesThroughOnePltEntryPerSymbol() {
        // two brasl to printk (the kernel, 4 TiB below), one to a target in reach
        List<ModuleRelocation> rel = List.of(new ModuleRelocation(2, S390Relocator.PLT32DBL, 2, 2),
                new ModuleRelocation(8, S390Relocator.PLT32DBL, 2, 2), new ModuleRelocation(14, S390Relocator.PLT32DBL, 1, 2));
        S390ModuleSections counts = S390ModuleSections.count(NAMES.length, rel, false);
        assertEquals(0, counts.gotSize);
        assertEquals(2 * 22, counts.pltSize);   // an entry per symbol: the target in reach gets one too
        byte[] gotPlt = new byte[(int) counts.pltSize];
        S390Relocator r = relocator(counts, gotPlt);
        long text = GOT_PLT + 0x100;
        byte[] code = hex("c0e5 00000000 c0e5 00000000 c0e5 00000000");
        for (ModuleRelocation x : rel) {
            long s = x.symbol() == 2 ? 0x100000L : text + 0x2000;
            assertNull(r.apply(code, (int) x.offset(), text + x.offset(), x, s, true));
        }
        ByteBuffer c = ByteBuffer.wrap(code);
        // printk's entry is the PLT's first (PLT offset 0): both calls branch to it
        assertEquals((GOT_PLT - text) / 2, c.getInt(2));
        assertEquals((GOT_PLT - (text + 6)) / 2, c.getInt(8));
        assertEquals(0x2000 - 12 >> 1, c.getInt(14));   // in reach: directly
        assertEquals("0d10e310" + "100c0004" + "07f10000" + "0000" + "0000000000100000", HEX.formatHex(gotPlt, 0, 22));
        // the near target's entry is written too (plt_initialized), though no call uses it
        assertEquals(text + 0x2000, ByteBuffer.wrap(gotPlt).getLong(22 + 14));
    }

    @Test
    void withExpolinesThePltBranchesThroughTheJumpR1Thunk() {
        List<ModuleRelocation> rel = List.of(new ModuleRelocation(2, S390Relocator.PLT32DBL, 2, 2));
        S390ModuleSections counts = S390ModuleSections.count(NAMES.length, rel, true);
        assertEquals(2 * 22, counts.pltSize);   // the entry and the thunk
        byte[] gotPlt = new byte[(int) counts.pltSize];
        S390Relocator r = relocator(counts, gotPlt);
        assertNull(r.apply(hex("c0e5 00000000"), 2, GOT_PLT + 0x102, rel.get(0), 0x100000L, true));
        // brcl 0xf to the thunk 22 bytes on, from the entry's byte 8: 7 halfwords
        assertEquals("0d10e310" + "100c0004" + "c0f400000007" + "0000000000100000", HEX.formatHex(gotPlt, 0, 22));
        assertEquals("c6000000" + "0005a7f4" + "000007f1" + "00000000000000000000", HEX.formatHex(gotPlt, 22, 44));
    }

    @Test
    void gotEntIsTheSlotFromThePlaceAndTheSlotHoldsTheAddress() {
        // lgrl %r1,jiffies@GOTENT, twice; jiffies then printk get slots 0 and 8
        List<ModuleRelocation> rel = List.of(new ModuleRelocation(2, S390Relocator.GOTENT, 3, 2),
                new ModuleRelocation(8, S390Relocator.GOTENT, 3, 2), new ModuleRelocation(14, S390Relocator.GOTENT, 2, 2));
        S390ModuleSections counts = S390ModuleSections.count(NAMES.length, rel, false);
        assertEquals(16, counts.gotSize);
        byte[] gotPlt = new byte[16];
        S390Relocator r = relocator(counts, gotPlt);
        long text = GOT_PLT + 0x100;
        byte[] code = hex("c418 00000000 c418 00000000 c418 00000000");
        for (ModuleRelocation x : rel) {
            assertNull(r.apply(code, (int) x.offset(), text + x.offset(), x, x.symbol() == 3 ? 0x1234560L : 0x100000L, true));
        }
        ByteBuffer c = ByteBuffer.wrap(code);
        assertEquals((GOT_PLT - text) / 2, c.getInt(2));            // lgrl at text: its slot at GOT + 0
        assertEquals((GOT_PLT - (text + 6)) / 2, c.getInt(8));
        assertEquals((GOT_PLT + 8 - (text + 12)) / 2, c.getInt(14));
        assertEquals("0000000001234560" + "0000000000100000", HEX.formatHex(gotPlt));
    }

    @Test
    void whatTheKernelRefusesIsRefusedInItsWords() {
        S390Relocator r = relocator(S390ModuleSections.count(NAMES.length, List.of(), false), null);
        byte[] code = hex("c0e5 00000000 0000");
        // an odd target (the low bit a DBL relocation drops), and one out of the ±4 GiB of brasl
        assertEquals("module m: relocation error for symbol odd (r_type 19, value 0xfff)",
                r.apply(code, 2, 0x1002, new ModuleRelocation(2, S390Relocator.PC32DBL, 4, 2), 0x1fff, true));
        assertEquals("module m: relocation error for symbol printk (r_type 19, value 0xfffffc0080400000)",
                r.apply(code, 2, GOT_PLT + 2, new ModuleRelocation(2, S390Relocator.PC32DBL, 2, 2), 0x100000L, true));
        assertEquals("c0e500000000", HEX.formatHex(code, 0, 6));   // nothing written
        assertEquals("module m: relocation error for symbol jiffies (r_type 3, value 0x10000)",
                r.apply(code, 6, 0x1006, new ModuleRelocation(6, S390Relocator.R16, 3, 0), 0x10000, true));
        assertEquals("module m: unknown relocation: 62", r.apply(code, 2, 0x1002, new ModuleRelocation(2, 62, 1, 0), 0x3000, true));
        assertEquals("R_390_PC12DBL", r.typeName(62));
        // a 32-bit PC-relative value may be negative; a 32-bit absolute one may not
        assertNull(r.apply(code, 2, 0x2000, new ModuleRelocation(2, S390Relocator.PC32, 1, 0), 0x1000, true));
        assertEquals("fffff000", HEX.formatHex(code, 2, 6));
        assertEquals("module m: relocation error for symbol target (r_type 4, value 0xffffffffffffffff)",
                r.apply(code, 2, 0x2000, new ModuleRelocation(2, S390Relocator.R32, 1, -1), 0, true));
    }

    @Test
    void aModuleWithoutGotOrPltRelocationsReservesNothing() {
        S390ModuleSections counts = S390ModuleSections.count(NAMES.length,
                List.of(new ModuleRelocation(0, S390Relocator.R64, 1, 0), new ModuleRelocation(8, S390Relocator.PC32DBL, 1, 2)), true);
        assertEquals(List.of(), counts.reserved());   // no PLT: no thunk either
        assertArrayEquals(new long[] {-1, -1, -1, -1, -1}, counts.pltOffset);
    }
}
