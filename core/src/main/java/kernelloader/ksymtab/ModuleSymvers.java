package kernelloader.ksymtab;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import kernelloader.image.KernelVersion;

/**
 * The vmlinux lines of Module.symvers, in the column order modpost's write_dump() used in the
 * kernel's own era:
 * <ul>
 * <li>before 5.4: {@code 0xCRC  symbol  vmlinux  EXPORT_SYMBOL}</li>
 * <li>5.4 and 5.5: {@code 0xCRC  symbol  namespace  vmlinux  EXPORT_SYMBOL} (namespaces arrive)</li>
 * <li>5.6 on: {@code 0xCRC  symbol  vmlinux  EXPORT_SYMBOL  namespace} ("modpost: move the
 * namespace field in Module.symvers last"), the namespace column empty but present</li>
 * </ul>
 */
public final class ModuleSymvers {
    private ModuleSymvers() {}

    /** The era's column order; the newest when the version is unknown. */
    public enum Columns {
        BEFORE_NAMESPACES, NAMESPACE_THIRD, NAMESPACE_LAST;

        public static Columns of(KernelVersion v) {
            if (v == null || v.atLeast(5, 6)) return NAMESPACE_LAST;
            return v.atLeast(5, 4) ? NAMESPACE_THIRD : BEFORE_NAMESPACES;
        }
    }

    public static void write(ExportTable t, Columns columns, Appendable out) throws IOException {
        for (String l : lines(t, columns)) out.append(l).append('\n');
    }

    /** One line per export, in table order (the finder already keeps one entry per name, as modpost does). */
    public static List<String> lines(ExportTable t, Columns columns) {
        List<String> out = new ArrayList<>(t.exports().size());
        for (KernelExport e : t.exports()) out.add(line(e, columns));
        return out;
    }

    public static String line(KernelExport e, Columns columns) {
        String crc = String.format("0x%08x", e.crc());
        return switch (columns) {
            case BEFORE_NAMESPACES -> crc + '\t' + e.name() + "\tvmlinux\t" + e.kind().name();
            case NAMESPACE_THIRD -> crc + '\t' + e.name() + '\t' + e.namespace() + "\tvmlinux\t" + e.kind().name();
            case NAMESPACE_LAST -> crc + '\t' + e.name() + "\tvmlinux\t" + e.kind().name() + '\t' + e.namespace();
        };
    }
}
