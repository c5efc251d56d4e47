package kernelloader.ksymtab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Test;

import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.KernelVersion;
import kernelloader.layout.Architecture;

/**
 * Export tables of the eras no Debian kernel here covers, laid out as each era's export.h and
 * vmlinux.lds.h did: the finder is told nothing but the memory map, and every line of
 * Module.symvers (CRC, name, kind, namespace, columns) must come back.
 */
class KsymtabErasTest {

    private static ExportTable check(SyntheticKsymtab s, KernelVersion v, String format, CrcStorage crcs) throws Exception {
        KernelImage img = s.image(1 << 22);
        ExportTable t = KsymtabFinder.find(img, s.layout(), null, v);
        assertEquals(format, t.format().describe());
        assertEquals(crcs, t.crcs());
        ModuleSymvers.Columns cols = ModuleSymvers.Columns.of(v);
        List<String> expected = s.tableOrder().stream()
                .map(e -> ModuleSymvers.line(new KernelExport(e.name(), 0, e.kind(), e.namespace(), crcs == CrcStorage.NONE ? 0 : e.crc()), cols))
                .toList();
        List<String> got = t.exports().stream().map(e -> ModuleSymvers.line(e, cols)).toList();
        assertEquals(expected, got);
        return t;
    }

    @Test
    void before410_absolute64BigEndian_unsignedLongCrcs_fiveSections() throws Exception {
        // 4.9 on a 64-bit big-endian kernel: (value, name) pointers, CRCs as unsigned long,
        // all five sections (unused and GPL-future kinds were removed in 5.12)
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.bits = 64;
        s.order = ByteOrder.BIG_ENDIAN;
        s.arch = Architecture.S390X;
        s.relative = false;
        s.namespaces = false;
        s.crcs = CrcStorage.ULONG;
        for (ExportKind k : ExportKind.values()) s.add(k, 150 + 10 * k.ordinal(), null, k.ordinal());
        ExportTable t = check(s, KernelVersion.of(4, 9), "absolute 64-bit pointers (value, name)", CrcStorage.ULONG);
        assertEquals(5, t.countsByKind().size());
        assertTrue(ModuleSymvers.line(t.exports().get(0), ModuleSymvers.Columns.of(KernelVersion.of(4, 9))).matches("0x[0-9a-f]{8}\t\\S+\tvmlinux\tEXPORT_SYMBOL"));
    }

    @Test
    void v419_prel32_withoutNamespace() throws Exception {
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.namespaces = false;
        s.add(ExportKind.EXPORT_SYMBOL, 400, null, 1).add(ExportKind.EXPORT_SYMBOL_GPL, 300, null, 2);
        check(s, KernelVersion.of(4, 19), "PREL32 offsets (value, name)", CrcStorage.U32);
    }

    @Test
    void v54_prel32_nullNamespace_namespaceThirdColumn() throws Exception {
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.nullNamespace = true;
        s.add(ExportKind.EXPORT_SYMBOL, 400, "USB_STORAGE", 3).add(ExportKind.EXPORT_SYMBOL_GPL, 300, "CXL", 4);
        ExportTable t = check(s, KernelVersion.of(5, 4), "PREL32 offsets (value, name, namespace)", CrcStorage.U32);
        KernelExport ns = t.exports().stream().filter(e -> !e.namespace().isEmpty()).findFirst().orElseThrow();
        assertTrue(ModuleSymvers.line(ns, ModuleSymvers.Columns.of(KernelVersion.of(5, 4))).matches("0x[0-9a-f]{8}\t\\S+\t(USB_STORAGE|CXL)\tvmlinux\tEXPORT_SYMBOL(_GPL)?"));
    }

    @Test
    void ppc64_moduleRelCrcs() throws Exception {
        // 4.10 to 5.18 on ppc64: __kcrctab holds offsets to the CRC values in .rodata
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.arch = Architecture.POWERPC;
        s.crcs = CrcStorage.RELATIVE;
        s.add(ExportKind.EXPORT_SYMBOL, 300, null, 5).add(ExportKind.EXPORT_SYMBOL_GPL, 300, "DMA_BUF", 6);
        check(s, KernelVersion.of(5, 10), "PREL32 offsets (value, name, namespace)", CrcStorage.RELATIVE);
    }

    @Test
    void flagsBesideGplSections_absolute32() throws Exception {
        // the first step of the 2026 series: __kflagstab added while __ksymtab_gpl still exists
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.bits = 32;
        s.arch = Architecture.ARM;
        s.relative = false;
        s.flags = true;
        s.add(ExportKind.EXPORT_SYMBOL, 500, null, 7).add(ExportKind.EXPORT_SYMBOL_GPL, 500, "IOMMUFD", 8);
        ExportTable t = check(s, KernelVersion.of(7, 0), "absolute 32-bit pointers (value, name, namespace)", CrcStorage.U32);
        assertTrue(t.boundaries().contains("__kflagstab"), t.boundaries());
    }

    @Test
    void oneTableWithFlags_withAndWithoutModversions() throws Exception {
        for (CrcStorage crcs : new CrcStorage[] {CrcStorage.U32, CrcStorage.NONE}) {
            SyntheticKsymtab s = new SyntheticKsymtab();
            s.flags = true;
            s.oneTable = true;
            s.crcs = crcs;
            s.add(ExportKind.EXPORT_SYMBOL, 500, null, 9).add(ExportKind.EXPORT_SYMBOL_GPL, 500, "CXL", 10);
            ExportTable t = check(s, KernelVersion.of(7, 2), "PREL32 offsets (value, name, namespace)", crcs);
            assertEquals(500, t.countsByKind().get(ExportKind.EXPORT_SYMBOL_GPL));
        }
    }

    @Test
    void noExportTable_saysWhatWasSearched() {
        SyntheticKsymtab s = new SyntheticKsymtab();
        KernelImage img = s.image(1 << 22);  // no exports: random bytes only
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> KsymtabFinder.find(img, s.layout(), null, null));
        assertTrue(e.getMessage().contains("no exported-symbol table (__ksymtab) found"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void tablesCutOff_sayWhere() {
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.add(ExportKind.EXPORT_SYMBOL, 600, null, 11).add(ExportKind.EXPORT_SYMBOL_GPL, 600, null, 12);
        KernelImage whole = s.image(1 << 22);
        // cut in the middle of __ksymtab_strings: the later names are gone
        int cut = 0x20000 + 1200 * 12 + 1200 * 4 + 9000;
        KernelImage cutImage = new KernelImage(whole.data(), cut, List.of(), null);
        KernelFormatException e = assertThrows(KernelFormatException.class,
                () -> KsymtabFinder.find(cutImage, s.layout(), null, KernelVersion.of(6, 1)));
        assertTrue(e.getMessage().contains("is not followed by __kcrctab") && e.getMessage().contains("cut off"), e.getMessage());
    }
}
