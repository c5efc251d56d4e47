package kernelloader.btf;

import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ElfSectionHeader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.KernelLayout;

/**
 * Finds the kernel's .BTF blob (CONFIG_DEBUG_INFO_BTF) in an image, most certain way first:
 * an ELF's .BTF section; the {@code __start_BTF}/{@code __stop_BTF} symbols kallsyms carries
 * when it lists data; else the header itself, searched at every offset (bookworm's arm64 .BTF
 * starts at an address ending in 0x4cc, so no alignment can be assumed).
 */
public final class BtfLocator {
    /** Where the blob was found, and by which of the three ways. */
    public record Found(Btf btf, int offset, String how) {}

    /** What {@link #find} saw: the blob, or why there is none. */
    public record Outcome(Found found, List<String> tried) {
        /** A one-line reason for "no BTF", naming what was searched. */
        public String failure(String source) {
            return source + ": no BTF found (" + String.join("; ", tried)
                    + "; the kernel was probably built without CONFIG_DEBUG_INFO_BTF)";
        }
    }

    private BtfLocator() {}

    /** Finds the BTF of {@code img}; {@code layout} and {@code kallsyms} may be null. */
    public static Outcome find(KernelImage img, KernelLayout layout, KallsymsTable kallsyms) {
        return find(img, layout, kallsyms, null);
    }

    /** As above, for split BTF continuing {@code base} (null: the image's own, complete BTF). */
    public static Outcome find(KernelImage img, KernelLayout layout, KallsymsTable kallsyms, Btf base) {
        List<String> tried = new ArrayList<>();
        if (img.elf() != null) {
            for (ElfSectionHeader s : img.elf().sections()) {
                if (s.name().equals(".BTF") && s.type() != ElfSectionHeader.SHT_NOBITS) {
                    Found f = attempt(img, s.offset(), s.size(), "ELF section .BTF", base, tried);
                    if (f != null) return new Outcome(f, tried);
                }
            }
        }
        if (kallsyms != null && layout != null) {
            Long start = kallsyms.addressOf("__start_BTF"), stop = kallsyms.addressOf("__stop_BTF");
            if (start != null && stop != null && Long.compareUnsigned(stop, start) > 0) {
                long off = layout.fileOffsetOf(start);
                Found f = attempt(img, off, stop - start, "kallsyms __start_BTF", base, tried);
                if (f != null) return new Outcome(f, tried);
            }
        }
        return new Outcome(scan(img, base, tried), tried);
    }

    /** The largest blob whose header and every type parse, anywhere in the image. */
    private static Found scan(KernelImage img, Btf base, List<String> tried) {
        byte[] d = img.data();
        int n = img.length();
        Found best = null;
        int candidates = 0;
        String lastError = null;
        for (int p = 0; p + BtfHeader.MIN_LENGTH <= n; p++) {
            // magic 9f eb (LE) or eb 9f (BE), then version 1: test the rare byte first
            if (d[p + 2] != 1 || BtfHeader.orderAt(d, n, p) == null) continue;
            candidates++;
            try {
                Btf btf = Btf.parse(d, n, p, n - p, base);
                if (best == null || btf.byteSize() > best.btf().byteSize()) best = new Found(btf, p, "header search");
                p += btf.byteSize() - 1;
            } catch (KernelFormatException e) {
                lastError = e.getMessage();
            }
        }
        if (best == null) {
            tried.add("searched " + n + " bytes for a BTF header: " + candidates + " magic(s)"
                    + (lastError == null ? "" : ", none valid (last: " + lastError + ")"));
        }
        return best;
    }

    private static Found attempt(KernelImage img, long off, long size, String how, Btf base, List<String> tried) {
        if (off < 0 || off >= img.length()) {
            tried.add(how + " points outside the image");
            return null;
        }
        try {
            Btf btf = Btf.parse(img.data(), img.length(), (int) off, Math.min(size, img.length() - off), base);
            return new Found(btf, (int) off, how);
        } catch (KernelFormatException e) {
            tried.add(how + " at 0x" + Long.toHexString(off) + ": " + e.getMessage());
            return null;
        }
    }
}
