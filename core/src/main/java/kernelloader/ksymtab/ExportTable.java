package kernelloader.ksymtab;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Every symbol a kernel exports to modules, read from its __ksymtab* sections, with how they were
 * stored (what `symvers` and Ghidra report as evidence).
 *
 * @param ksymtabAddress the first entry (__start___ksymtab)
 * @param crcAddress     __start___kcrctab, or -1 without CRCs
 * @param flagsAddress   __start___kflagstab (2026 layout: one table, a flag byte per symbol), or -1
 * @param boundaries     how the GPL-only entries were told apart (section symbols, sort order, flags)
 * @param warnings       what could not be read the usual way, for the user to see
 */
public record ExportTable(List<KernelExport> exports, SymbolEntryFormat format, CrcStorage crcs,
                          long ksymtabAddress, long crcAddress, long flagsAddress, long stringsAddress,
                          String boundaries, List<String> warnings) {

    public boolean hasCrcs() { return crcs != CrcStorage.NONE; }

    public Map<ExportKind, Integer> countsByKind() {
        Map<ExportKind, Integer> m = new EnumMap<>(ExportKind.class);
        for (KernelExport e : exports) m.merge(e.kind(), 1, Integer::sum);
        return m;
    }
}
