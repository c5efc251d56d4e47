package kernelloader.ksymtab;

import java.nio.ByteOrder;
import java.util.Arrays;

/** Memory holding export tables laid out as real kernels lay them out, for fuzz seeds (kernelloader.fuzz). */
public final class SeedTables {
    private SeedTables() {}

    /** 6.x arm64: PREL32 entries with namespace, u32 CRCs, GPL section after the plain one. */
    public static byte[] prel32WithCrcs() {
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.add(ExportKind.EXPORT_SYMBOL, 120, null, 1).add(ExportKind.EXPORT_SYMBOL_GPL, 100, "CXL", 2);
        return trimmed(s);
    }

    /** 2026 single table with __kflagstab and no CRCs (a kernel built without MODVERSIONS), big-endian pointers. */
    public static byte[] absoluteFlagsBigEndian() {
        SyntheticKsymtab s = new SyntheticKsymtab();
        s.order = ByteOrder.BIG_ENDIAN;
        s.relative = false;
        s.flags = true;
        s.oneTable = true;
        s.crcs = CrcStorage.NONE;
        s.add(ExportKind.EXPORT_SYMBOL, 120, null, 3).add(ExportKind.EXPORT_SYMBOL_GPL, 100, "DMA_BUF", 4);
        return trimmed(s);
    }

    /** The first 160 KiB of the image: 128 KiB of filler, then the tables and strings (about 10 KiB), then filler. */
    private static byte[] trimmed(SyntheticKsymtab s) {
        return Arrays.copyOf(s.image(1 << 20).data(), 0x28000);
    }
}
