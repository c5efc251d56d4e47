package kernelloader.code;

import java.util.ArrayList;
import java.util.List;

import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KernelExport;

/**
 * How long each global data object may be, for a program to give it a size (kallsyms has none).
 * A data symbol of kallsyms runs to the next symbol, kallsyms' or an export's: an object ends
 * before the next one starts, and a kernel built with CONFIG_KALLSYMS_ALL names every global, so
 * that is the object plus its alignment padding. An exported object kallsyms does not name (a
 * kernel without KALLSYMS_ALL: the exports are then its only data names) gets at most one word:
 * the next name may lie past many unnamed globals, and a longer size would make them look like
 * members of this one.
 */
public final class DataObjects {
    /** One object: where it starts and how many bytes it may span. */
    public record DataObject(String name, long address, long length) {}

    /** Beyond this, the next symbol is too far to say where an object ends: no size is given. */
    public static final long MAX_LENGTH = 1 << 20;

    private DataObjects() {}

    public static List<DataObject> of(KallsymsTable t, ExportTable exports, int wordBytes) {
        List<Long> exportOnly = new ArrayList<>();
        List<String> exportOnlyNames = new ArrayList<>();
        if (exports != null) {
            for (KernelExport e : exports.exports()) {
                if (e.value() != 0 && t.addressOf(e.name()) == null) {
                    exportOnly.add(e.value());
                    exportOnlyNames.add(e.name());
                }
            }
        }
        long[] extra = new long[exportOnly.size()];
        for (int i = 0; i < extra.length; i++) extra[i] = exportOnly.get(i);
        FunctionExtents extents = FunctionExtents.of(t, extra);
        List<DataObject> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            char c = Character.toLowerCase(t.type(i));
            if (c != 'd' && c != 'b' && c != 'r' && c != 'g' && c != 's') continue;
            long len = extents.extent(t.address(i), MAX_LENGTH + 1);
            if (len > 0 && len <= MAX_LENGTH) out.add(new DataObject(t.name(i), t.address(i), len));
        }
        for (int i = 0; i < extra.length; i++) {
            long len = Math.min(extents.extent(extra[i], wordBytes), wordBytes);
            if (len > 0) out.add(new DataObject(exportOnlyNames.get(i), extra[i], len));
        }
        return out;
    }
}
