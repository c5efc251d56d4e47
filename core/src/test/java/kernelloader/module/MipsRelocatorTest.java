package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import kernelloader.ksymtab.ExportKind;
import kernelloader.ksymtab.KernelExport;

/**
 * MIPS64's relocation entries read and applied, checked against Debian's cross binutils
 * (binutils-mips64el-linux-gnuabi64): {@link #OBJECT} is {@code as -mabi=64 -non_shared
 * -mips64r2} of
 * <pre>
 *     .set noreorder
 *     .text
 *     .globl f
 * f:  lui    $2, %highest(ext+0x10)
 *     daddiu $2, $2, %higher(ext+0x10)
 *     dsll   $2, $2, 16
 *     daddiu $2, $2, %hi(ext+0x10)
 *     dsll   $2, $2, 16
 *     daddiu $2, $2, %lo(ext+0x10)
 *     jal    local
 *     nop
 * local: jr $31
 *     nop
 *     .data
 *     .dword ext
 * </pre>
 * stripped of its debug and MIPS option sections; the expected words are what {@code ld -Ttext=
 * 0xffffffffc0000000 --defsym ext=...} makes of it.
 */
public class MipsRelocatorTest {
    static final String OBJECT = "f0VMRgIBAQAAAAAAAAAAAAEACAABAAAAAAAAAAAAAAAAAAAAAAAAANABAAAAAAAAAQAAgEAAAAAAAEAACQAIAAAAAjwAAEJkOBQC"
            + "AAAAQmQ4FAIAAABCZAAAAAwAAAAACADgAwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            + "AAAAAAAAAwABAAAAAAAAAAAAAAAAAAAAAAABAAAAAAABACAAAAAAAAAAAAAAAAAAAAAHAAAAEAABAAAAAAAAAAAAAAAAAAAAAAAJ"
            + "AAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAbG9jYWwAZgBleHQAAAAAAAAAAAAAAAAEAAAAAAAAHRAAAAAAAAAABAAAAAAAAAAEAAAA"
            + "AAAAHBAAAAAAAAAADAAAAAAAAAAEAAAAAAAABRAAAAAAAAAAFAAAAAAAAAAEAAAAAAAABhAAAAAAAAAAGAAAAAAAAAABAAAAAAAA"
            + "BCAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAEgAAAAAAAAAAAC5zeW10YWIALnN0cnRhYgAuc2hzdHJ0YWIALnJlbGEudGV4dAAucmVs"
            + "YS5kYXRhAC5ic3MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            + "AAAAIAAAAAEAAAAGAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAwAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABsAAAAEAAAA"
            + "QAAAAAAAAAAAAAAAAAAAAAgBAAAAAAAAeAAAAAAAAAAGAAAAAQAAAAgAAAAAAAAAGAAAAAAAAAArAAAAAQAAAAMAAAAAAAAAAAAA"
            + "AAAAAABwAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAJgAAAAQAAABAAAAAAAAAAAAAAAAAAAAAgAEAAAAA"
            + "AAAYAAAAAAAAAAYAAAADAAAACAAAAAAAAAAYAAAAAAAAADEAAAAIAAAAAwAAAAAAAAAAAAAAAAAAAIAAAAAAAAAAAAAAAAAAAAAA"
            + "AAAAAAAAABAAAAAAAAAAAAAAAAAAAAABAAAAAgAAAAAAAAAAAAAAAAAAAAAAAACAAAAAAAAAAHgAAAAAAAAABwAAAAMAAAAIAAAA"
            + "AAAAABgAAAAAAAAACQAAAAMAAAAAAAAAAAAAAAAAAAAAAAAA+AAAAAAAAAANAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAA"
            + "ABEAAAADAAAAAAAAAAAAAAAAAAAAAAAAAJgBAAAAAAAANgAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAA=";
    static final long BASE = 0xffffffffc0000000L;

    static KernelModuleFile object() throws Exception {
        return KernelModuleFile.read("t.ko", Base64.getDecoder().decode(OBJECT));
    }

    /** r_info as Elf64_Mips_Rela has it: r_sym 4 (ext), r_type in the last byte, readelf's list. */
    @Test
    void readsMips64RelocationEntries() throws Exception {
        KernelModuleFile m = object();
        int text = m.section(".text"), data = m.section(".data");
        List<ModuleRelocation> r = m.relocationsOf(text);
        assertEquals(List.of(
                new ModuleRelocation(0x00, MipsRelocator.R_MIPS_HIGHEST, 4, 0x10),
                new ModuleRelocation(0x04, MipsRelocator.R_MIPS_HIGHER, 4, 0x10),
                new ModuleRelocation(0x0c, MipsRelocator.R_MIPS_HI16, 4, 0x10),
                new ModuleRelocation(0x14, MipsRelocator.R_MIPS_LO16, 4, 0x10),
                new ModuleRelocation(0x18, MipsRelocator.R_MIPS_26, 1, 0x20)), r);
        assertEquals("ext", m.symbols().get(4).name());
        assertEquals(".text", m.sections().get(m.symbols().get(1).shndx()).name());
        assertEquals(List.of(new ModuleRelocation(0, MipsRelocator.R_MIPS_64, 4, 0)), m.relocationsOf(data));
        assertTrue(m.rela(text));
    }

    /** The words ld writes, for an address with a carry into every half and for a -msym32 kernel address. */
    @Test
    void linksAsBinutilsLinks() throws Exception {
        assertEquals(List.of(0x3c021235, 0x64428766, 0x00021438, 0x64428766, 0x00021438, 0x64428765, 0x0c000008),
                linkedText(0x1234876587658755L));
        assertEquals(List.of(0x3c020000, 0x64420000, 0x00021438, 0x64428012, 0x00021438, 0x64423460, 0x0c000008),
                linkedText(0xffffffff80123450L));
    }

    private static List<Integer> linkedText(long ext) throws Exception {
        KernelModuleFile m = object();
        ModuleLayout layout = ModuleLayout.of(m, BASE, 0, Map.of());
        ModuleLinker.Exports exports = new ModuleLinker.Exports().add("vmlinux",
                List.of(new KernelExport("ext", ext, ExportKind.EXPORT_SYMBOL, "", -1)), false);
        ModuleLinker.Linked l = ModuleLinker.link(m, layout, exports);
        assertTrue(l.loads(), l.refusals() + " " + l.unresolved());
        assertEquals(BASE, layout.addressOf(m, m.section(".text")));
        ByteBuffer t = ByteBuffer.wrap(l.sections().get(m.section(".text"))).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer d = ByteBuffer.wrap(l.sections().get(m.section(".data"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(ext, d.getLong(0), "R_MIPS_64");
        return List.of(t.getInt(0), t.getInt(4), t.getInt(8), t.getInt(12), t.getInt(16), t.getInt(20), t.getInt(24));
    }

    private static final MipsRelocator R = new MipsRelocator("t", ByteOrder.LITTLE_ENDIAN);

    private static int applied(int insn, long place, long value, int type) {
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, insn).array();
        assertNull(R.apply(b, 0, place, value, type));
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    }

    private static String refused(int insn, long place, long value, int type) {
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, insn).array();
        return R.apply(b, 0, place, value, type);
    }

    /** A jal keeps the top 4 bits of its delay slot's address (of the low 32, as the kernel masks). */
    @Test
    void jalStaysInIts256MiBSegment() {
        // jal 0xffffffffc0123458 from 0xffffffffc0000000: (0x...c0123458 >> 2) & 0x3ffffff = 0x48d16
        assertEquals(0x0c048d16, applied(0x0c000000, BASE, 0xffffffffc0123458L, MipsRelocator.R_MIPS_26));
        // a module in CKSSEG calling the kernel in CKSEG0 directly: what -mlong-calls is there for
        assertEquals("module t: relocation overflow", refused(0x0c000000, BASE, 0xffffffff80b3e1dcL, MipsRelocator.R_MIPS_26));
        assertEquals("module t: dangerous R_MIPS_26 relocation", refused(0x0c000000, BASE, BASE + 6, MipsRelocator.R_MIPS_26));
        // the delay slot decides: a jal in the segment's last word reaches the next segment
        assertEquals(0x0c000000, applied(0x0c000000, 0xffffffffcffffffcL, 0xffffffffd0000000L, MipsRelocator.R_MIPS_26));
    }

    /** PC-relative (R6's PC21_S2/PC26_S2, and PC16): word offsets from the place, signed, checked. */
    @Test
    void pcRelativeBranchesFitTheirFields() {
        // beqz-style 16 bits: back 4 words -> 0xfffc
        assertEquals(0x1000fffc, applied(0x10000000, BASE + 0x100, BASE + 0xf0, MipsRelocator.R_MIPS_PC16));
        assertEquals("module t: relocation overflow", refused(0x10000000, BASE, BASE + (1L << 17), MipsRelocator.R_MIPS_PC16));
        assertEquals(0x10000000 | 0x7fff, applied(0x10000000, BASE, BASE + (0x7fffL << 2), MipsRelocator.R_MIPS_PC16));
        assertEquals("module t: dangerous R_MIPS_PC21 relocation", refused(0, BASE, BASE + 2, MipsRelocator.R_MIPS_PC21_S2));
        assertEquals(0xd8000000 | 0x100000, applied(0xd8000000, BASE + (1L << 22), BASE, MipsRelocator.R_MIPS_PC21_S2));
        assertEquals(0xc8000000 | 0x3ffffff, applied(0xc8000000, BASE + 4, BASE, MipsRelocator.R_MIPS_PC26_S2));
        assertEquals("module t: relocation overflow", refused(0xc8000000, BASE, BASE - (1L << 28) - 4, MipsRelocator.R_MIPS_PC26_S2));
    }

    @Test
    void refusesWhatModuleCDoesNotApply() {
        assertEquals("t: Unknown relocation type 7", refused(0, BASE, 0, 7));   // R_MIPS_GPREL16
        // R_MIPS_GPREL32 / R_MIPS_64 / R_MIPS_NONE: the kernel would apply the GPREL32 alone
        String why = refused(0, BASE, 0, 12 | MipsRelocator.R_MIPS_64 << 8);
        assertTrue(why.startsWith("R_MIPS_12 is a composed relocation (r_type2 R_MIPS_64"), why);
        assertEquals("R_MIPS_12/R_MIPS_64/R_MIPS_NONE", R.typeName(12 | MipsRelocator.R_MIPS_64 << 8));
        // 32-bit modules' REL, with HI16s waiting for their LO16: not emulated, refused
        String rel = R.apply(new byte[4], 0, BASE, new ModuleRelocation(0, MipsRelocator.R_MIPS_32, 1, 0), 0, false);
        assertTrue(rel.startsWith("REL relocations"), rel);
    }

    /** R_MIPS_32 is truncated, unchecked, as module.c writes it. */
    @Test
    void r32IsTheLow32Bits() {
        assertEquals(0x80123450, applied(0x12345678, BASE, 0xffffffff80123450L, MipsRelocator.R_MIPS_32));
    }
}
