package kernelloader.kallsyms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Test;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kallsyms.SyntheticKallsyms.Era;

/**
 * Every kallsyms layout era, encoding, word size and byte order that the real Debian corpus
 * (5.10-7.2) does not cover, on tables built the way that era's scripts/kallsyms.c built them.
 * Each test decodes the whole table and compares every symbol.
 */
class KallsymsErasTest {
    private static final long X86_64_TEXT = 0xffffffff81000000L;
    private static final long ARM64_TEXT = 0xffff000008080000L;
    private static final long ARM_TEXT = 0xc0008000L;

    private static SyntheticKallsyms kernel(Era era, int bits, ByteOrder order) {
        SyntheticKallsyms k = new SyntheticKallsyms();
        k.era = era;
        k.bits = bits;
        k.order = order;
        return k;
    }

    /** Builds, wraps in a raw image, decodes, and checks every symbol; returns the table. */
    private static KallsymsTable roundTrip(SyntheticKallsyms k, List<SyntheticKallsyms.Symbol> syms, int pointers) throws Exception {
        SyntheticKallsyms.Built built = k.build(syms);
        SyntheticImage img = SyntheticImage.raw(built, k, 7, pointers);
        return check(img.bytes, k, syms);
    }

    private static KallsymsTable check(byte[] image, SyntheticKallsyms k, List<SyntheticKallsyms.Symbol> syms) throws Exception {
        Kernel m = Kernel.read("synthetic", image, image.length, KernelOptions.DEFAULT);
        KallsymsTable t = m.kallsyms().get();
        assertEquals(k.bits, t.bits(), "word size");
        assertEquals(k.order, t.order(), "byte order");
        assertEquals(syms.size(), t.size(), "symbol count");
        long mask = k.bits == 64 ? -1L : 0xffffffffL;
        for (int i = 0; i < syms.size(); i++) {
            SyntheticKallsyms.Symbol s = syms.get(i);
            String where = "symbol " + i + " " + s.name();
            assertEquals(s.name(), t.name(i), where);
            assertEquals(s.type(), t.type(i), where);
            assertEquals(Long.toHexString(s.address() & mask), Long.toHexString(t.address(i)), where);
        }
        return t;
    }

    @Test
    void v4_20_followedByZeroPadding_isNotReadAs7_0() throws Exception {
        // zeros after the token index read as a sorted 7.0 self-relative array (a symbol every 4
        // bytes); found by fuzzing on a seed whose table ended in a page of zeros
        SyntheticKallsyms k = kernel(Era.V4_20, 32, ByteOrder.LITTLE_ENDIAN);
        List<SyntheticKallsyms.Symbol> syms = SyntheticKallsyms.symbols(21, 1200, ARM_TEXT, false, false);
        byte[] table = k.build(syms).bytes();
        byte[] image = new byte[SyntheticImage.TEXT + table.length + 8192];
        for (int i = 0; i < SyntheticImage.TEXT; i++) image[i] = (byte) (i * 7 + (i >> 5));
        SyntheticImage.functionPointers(image, 0x20000, syms, 4, k.order, 5);
        System.arraycopy(table, 0, image, SyntheticImage.TEXT, table.length);
        KallsymsTable t = check(image, k, syms);
        assertEquals(AddressEncoding.RELATIVE_BASE, t.layout().encoding());
    }

    @Test
    void v2_6_10_absoluteAddresses_32bitLittleEndian() throws Exception {
        SyntheticKallsyms k = kernel(Era.V2_6_10, 32, ByteOrder.LITTLE_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(1, 3000, 0xc0100000L, false, false), 0);
        assertEquals(AddressEncoding.ABSOLUTE, t.layout().encoding());
        assertEquals(4, t.layout().markerWidth());
    }

    @Test
    void v2_6_10_absoluteAddresses_64bitBigEndian_ppc64() throws Exception {
        SyntheticKallsyms k = kernel(Era.V2_6_10, 64, ByteOrder.BIG_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(2, 3000, 0xc000000000008000L, false, false), 0);
        assertEquals(AddressEncoding.ABSOLUTE, t.layout().encoding());
        assertEquals(8, t.layout().markerWidth());
        assertEquals("2.6.10-6.3", t.layout().era());
    }

    @Test
    void x86_64SmpBefore4_6_absoluteAddressesWithPerCpuSymbolsFromZero() throws Exception {
        // RHEL/CentOS 7's 3.10, Debian 8's 3.16, Ubuntu 16.04's 4.4: kallsyms_addresses holds the
        // zero-based per-cpu symbols (irq_stack_union at 0) before the text at 0xffffffff81000000
        SyntheticKallsyms k = kernel(Era.V2_6_10, 64, ByteOrder.LITTLE_ENDIAN);
        List<SyntheticKallsyms.Symbol> syms = SyntheticKallsyms.symbols(22, 4000, X86_64_TEXT, true, false);
        assertEquals(0, syms.get(0).address());
        KallsymsTable t = roundTrip(k, syms, 2000);
        assertEquals(AddressEncoding.ABSOLUTE, t.layout().encoding());
        // the per-cpu symbols typed as data, as that era's nm typed them: the image is still at the text
        List<SyntheticKallsyms.Symbol> asData = syms.stream().map(x -> x.address() < (1L << 20)
                ? new SyntheticKallsyms.Symbol(x.address(), 'D', x.name()) : x).toList();
        byte[] img = SyntheticImage.raw(k.build(asData), k, 7, 2000).bytes;
        Kernel m = Kernel.read("x86-64 3.10", img, img.length, KernelOptions.DEFAULT);
        assertEquals(Long.toHexString(X86_64_TEXT), Long.toHexString(m.layout().get().base().value()), m.layout().get().base().evidence());
    }

    @Test
    void v3_x_arm_zeroWordsBeforeTheTableAreNotARelativeBase() throws Exception {
        // phones of 2010-2016 (2.6.32, 3.0, 3.10): absolute kallsyms_addresses after zero words,
        // zero padding before kallsyms_num_syms (.align 4 = 16 bytes on ARM). Read one word
        // early, the zeros and addresses look like 4.6's offsets from 0 with the last address as
        // the relative base: every address wrong. Offsets from a base must stay in 32 bits.
        SyntheticKallsyms k = kernel(Era.V2_6_10, 32, ByteOrder.LITTLE_ENDIAN);
        k.align = 16;
        List<SyntheticKallsyms.Symbol> syms = SyntheticKallsyms.symbols(23, 3000, ARM_TEXT, false, false);
        byte[] table = k.build(syms).bytes();
        byte[] image = new byte[SyntheticImage.TEXT + 64 + table.length + 4096];
        new java.util.Random(4).nextBytes(image);
        SyntheticImage.functionPointers(image, 0x20000, syms, 4, k.order, 5);
        java.util.Arrays.fill(image, SyntheticImage.TEXT, SyntheticImage.TEXT + 64, (byte) 0);
        System.arraycopy(table, 0, image, SyntheticImage.TEXT + 64, table.length);
        KallsymsTable t = check(image, k, syms);
        assertEquals(AddressEncoding.ABSOLUTE, t.layout().encoding());
    }

    @Test
    void v3_x_arm_oldAlignDirective16Bytes() throws Exception {
        // GNU as on ARM reads ".align 4" as 2^4 bytes: 16-byte padding between arrays
        SyntheticKallsyms k = kernel(Era.V2_6_10, 32, ByteOrder.LITTLE_ENDIAN);
        k.align = 16;
        roundTrip(k, SyntheticKallsyms.symbols(3, 2500, ARM_TEXT, false, false), 0);
    }

    @Test
    void v4_6_relativeBase_arm64_oldAlignDirective256Bytes() throws Exception {
        // ".align 8" on arm64 is 256 bytes
        SyntheticKallsyms k = kernel(Era.V4_6, 64, ByteOrder.LITTLE_ENDIAN);
        k.align = 256;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(4, 3000, ARM64_TEXT, false, false), 0);
        assertEquals(AddressEncoding.RELATIVE_BASE, t.layout().encoding());
        assertEquals(8, t.layout().markerWidth());
        assertEquals("4.6-4.19", t.layout().era());
    }

    @Test
    void v4_6_absolutePercpu_x86_64() throws Exception {
        SyntheticKallsyms k = kernel(Era.V4_6, 64, ByteOrder.LITTLE_ENDIAN);
        k.absolutePercpu = true;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(5, 3000, X86_64_TEXT, true, false), 0);
        assertEquals(AddressEncoding.ABSOLUTE_PERCPU, t.layout().encoding());
        assertEquals('A', t.type(0));
    }

    @Test
    void v4_6_relativeBase_32bitBigEndian_mips() throws Exception {
        SyntheticKallsyms k = kernel(Era.V4_6, 32, ByteOrder.BIG_ENDIAN);
        roundTrip(k, SyntheticKallsyms.symbols(6, 3000, 0x80100000L, false, false), 0);
    }

    @Test
    void v4_20_u32Markers_64bitBigEndian_s390x() throws Exception {
        SyntheticKallsyms k = kernel(Era.V4_20, 64, ByteOrder.BIG_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(7, 3000, 0x100000L, false, false), 4000);
        assertEquals(4, t.layout().markerWidth());
        assertEquals("4.6-6.0", t.layout().era());
    }

    @Test
    void v4_20_relocatableArm64_relativeBaseLeftZero_baseFromPointers() throws Exception {
        SyntheticKallsyms k = kernel(Era.V4_20, 64, ByteOrder.LITTLE_ENDIAN);
        k.zeroRelativeBase = true;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(8, 3000, 0xffff800010000000L, false, false), 4000);
        assertTrue(t.baseEvidence().contains("voted"), t.baseEvidence());
    }

    @Test
    void v6_1_uleb128NameLengths() throws Exception {
        SyntheticKallsyms k = kernel(Era.V6_1, 64, ByteOrder.LITTLE_ENDIAN);
        List<SyntheticKallsyms.Symbol> syms = SyntheticKallsyms.symbols(9, 3000, X86_64_TEXT, false, true);
        assertTrue(syms.stream().anyMatch(s -> s.name().length() > 127), "test needs names over 127 bytes");
        KallsymsTable t = roundTrip(k, syms, 0);
        assertTrue(t.layout().lengthsUleb128());
        assertEquals("6.1", t.layout().era());
    }

    @Test
    void v6_2rc_seqsOfNamesAsU32() throws Exception {
        SyntheticKallsyms k = kernel(Era.V6_2_RC, 64, ByteOrder.LITTLE_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(10, 3000, X86_64_TEXT, false, false), 0);
        assertTrue(t.layout().seqsOfNames() > 0);
    }

    @Test
    void v6_2_seqsOfNamesThreeBytes_32bit() throws Exception {
        SyntheticKallsyms k = kernel(Era.V6_2, 32, ByteOrder.LITTLE_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(11, 3000, ARM_TEXT, false, true), 0);
        assertEquals("6.2-6.3", t.layout().era());
    }

    @Test
    void v6_4_newArrayOrder_relativeBase() throws Exception {
        SyntheticKallsyms k = kernel(Era.V6_4, 64, ByteOrder.LITTLE_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(12, 3000, X86_64_TEXT, false, true), 0);
        assertTrue(t.layout().addressesAfterTokenIndex());
        assertEquals("6.4-6.19", t.layout().era());
    }

    @Test
    void v6_4_absoluteAddresses_32bitBigEndian() throws Exception {
        // 6.4-6.10 still wrote kallsyms_addresses for architectures without base-relative tables
        SyntheticKallsyms k = kernel(Era.V6_4, 32, ByteOrder.BIG_ENDIAN);
        k.baseRelative = false;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(13, 3000, 0x80100000L, false, false), 0);
        // on 32-bit these bytes are the same as a 7.0 absolute table: the era says both
        assertEquals(AddressEncoding.ABSOLUTE_32, t.layout().encoding());
        assertEquals("6.4-6.10 or 7.0+", t.layout().era());
    }

    @Test
    void v6_4_absolutePercpu_x86_64_until6_14() throws Exception {
        SyntheticKallsyms k = kernel(Era.V6_4, 64, ByteOrder.LITTLE_ENDIAN);
        k.absolutePercpu = true;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(14, 3000, X86_64_TEXT, true, false), 0);
        assertEquals(AddressEncoding.ABSOLUTE_PERCPU, t.layout().encoding());
    }

    @Test
    void v7_0_selfRelativeOffsets_placedByElfHeaders() throws Exception {
        SyntheticKallsyms k = kernel(Era.V7_0, 64, ByteOrder.LITTLE_ENDIAN);
        long base = 0xffffffff81000000L;
        k.regionAddress = base + SyntheticImage.regionOffset();
        List<SyntheticKallsyms.Symbol> syms = SyntheticKallsyms.symbols(15, 3000, base, false, false);
        SyntheticKallsyms.Built built = k.build(syms);
        SyntheticImage raw = SyntheticImage.raw(built, k, 15, 0);
        byte[] elf = SyntheticImage.elf(raw.bytes, 64, ByteOrder.LITTLE_ENDIAN, base, 62);
        KallsymsTable t = check(elf, k, syms);
        assertEquals(AddressEncoding.SELF_RELATIVE, t.layout().encoding());
        assertTrue(t.baseEvidence().contains("ELF"), t.baseEvidence());
    }

    @Test
    void v7_0_selfRelativeOffsets_rawImage_baseFromPointers_bigEndian() throws Exception {
        SyntheticKallsyms k = kernel(Era.V7_0, 64, ByteOrder.BIG_ENDIAN);
        long base = 0x3ffe0000000L;
        k.regionAddress = base + SyntheticImage.regionOffset();
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(16, 3000, base, false, false), 4000);
        assertTrue(t.baseEvidence().contains("voted"), t.baseEvidence());
        assertEquals("7.0+", t.layout().era());
    }

    @Test
    void v7_0_absoluteU32_32bitNonRelocatable() throws Exception {
        SyntheticKallsyms k = kernel(Era.V7_0, 32, ByteOrder.LITTLE_ENDIAN);
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(17, 3000, ARM_TEXT, false, false), 2000);
        assertEquals(AddressEncoding.ABSOLUTE_32, t.layout().encoding());
    }

    @Test
    void openwrtUncompressedNames_4_14_mips32BigEndian() throws Exception {
        SyntheticKallsyms k = kernel(Era.V4_6, 32, ByteOrder.BIG_ENDIAN);
        k.uncompressed = true;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(18, 3000, 0x80060000L, false, false), 0);
        assertEquals(-1, t.layout().tokenTable());
    }

    @Test
    void openwrtUncompressedNames_6_6_newOrder() throws Exception {
        SyntheticKallsyms k = kernel(Era.V6_4, 32, ByteOrder.LITTLE_ENDIAN);
        k.uncompressed = true;
        KallsymsTable t = roundTrip(k, SyntheticKallsyms.symbols(19, 3000, 0x80060000L, false, false), 0);
        assertTrue(t.layout().addressesAfterTokenIndex());
    }
}
