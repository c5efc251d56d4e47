package kernelloader.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ByteView;
import kernelloader.image.ImageUnwrapper;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.kallsyms.KallsymsTable;

/**
 * The one entry point of the core: file bytes in, {@link KernelModel} out. The CLI, the Ghidra
 * loader, the analyzer and the scripts all come through here.
 */
public final class KernelReader {
    /** Files beyond this are not kernels (and would not fit a Java array). */
    public static final long MAX_FILE = Integer.MAX_VALUE - 64;

    private KernelReader() {}

    public static KernelModel read(Path file, KallsymsFinder.Hints hints) throws IOException, KernelFormatException {
        return read(file, 0, hints);
    }

    /**
     * Reads the kernel image that starts {@code fileOffset} bytes into the file (a user override
     * for dumps where the image's start is known but nothing marks it).
     */
    public static KernelModel read(Path file, long fileOffset, KallsymsFinder.Hints hints) throws IOException, KernelFormatException {
        return read(file, fileOffset, hints, 0);
    }

    /** As above, taking the {@code table}-th kallsyms table found (0 = the first) when the file holds several kernels. */
    public static KernelModel read(Path file, long fileOffset, KallsymsFinder.Hints hints, int table) throws IOException, KernelFormatException {
        long t0 = System.nanoTime();
        if (!Files.isRegularFile(file)) throw new KernelFormatException(file + ": no such file");
        if (!Files.isReadable(file)) throw new KernelFormatException(file + ": not readable (permissions)");
        long size = Files.size(file);
        if (size > MAX_FILE) throw new KernelFormatException(file + ": " + size + " bytes is larger than any kernel image (limit 2 GiB)");
        if (fileOffset < 0 || fileOffset >= size) {
            throw new KernelFormatException(file + ": file offset 0x" + Long.toHexString(fileOffset) + " is outside the file (" + size + " bytes)");
        }
        byte[] data = Files.readAllBytes(file);
        if (fileOffset > 0) data = java.util.Arrays.copyOfRange(data, (int) fileOffset, data.length);
        long t1 = System.nanoTime();
        KernelModel m = read(file.toString(), data, data.length, hints, table);
        m.timingsMillis().put("read", (t1 - t0) / 1_000_000);
        return m;
    }

    public static KernelModel read(String source, byte[] data, int length, KallsymsFinder.Hints hints) throws KernelFormatException {
        return read(source, data, length, hints, 0);
    }

    /**
     * Reads the {@code table}-th kallsyms table found (0 = the first), in search order: the file
     * as it is, then each container payload and compressed stream in file order, recursively.
     */
    public static KernelModel read(String source, byte[] data, int length, KallsymsFinder.Hints hints, int table) throws KernelFormatException {
        if (table < 0) throw new KernelFormatException("the kallsyms table index must be 0 or more, not " + table);
        Map<String, Long> timings = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        long[] searchNanos = {0};
        List<String> rejected = new ArrayList<>();
        long t0 = System.nanoTime();
        ImageUnwrapper.Result<KallsymsTable> r = null;
        for (KallsymsFinder.Names names : KallsymsFinder.Names.values()) {
            r = ImageUnwrapper.search(data, length, img -> {
                long s = System.nanoTime();
                KallsymsFinder.Outcome o = KallsymsFinder.find(img, hints, names, t -> {
                    if (skipped.size() == table) return true;
                    skipped.add(img.describeLayers() + " (" + t.size() + " symbols)");
                    return false;
                });
                searchNanos[0] += System.nanoTime() - s;
                for (String why : o.rejected()) rejected.add(img.describeLayers() + ": " + why);
                return o.table();
            });
            if (r.value() != null) break;
        }
        long t1 = System.nanoTime();
        timings.put("unwrap", (t1 - t0 - searchNanos[0]) / 1_000_000);
        timings.put("kallsyms", searchNanos[0] / 1_000_000);
        if (r.value() == null && !skipped.isEmpty()) {
            throw new KernelFormatException(source + ": kallsyms table " + table + " asked for, but only " + skipped.size()
                    + " found: " + String.join("; ", skipped));
        }
        if (r.value() == null) {
            throw new KernelFormatException(failure(source, length, r.attempts(), rejected));
        }
        String banner = versionBanner(r.image());
        return new KernelModel(source, length, r.image(), r.value(), banner, r.attempts(), timings);
    }

    /** One line saying what was tried, so a user knows why nothing came out. */
    private static String failure(String source, int length, List<String> attempts, List<String> rejected) {
        StringBuilder sb = new StringBuilder();
        sb.append(source).append(": no kallsyms table found (searched ").append(length).append(" bytes as a raw image");
        if (attempts.isEmpty()) {
            sb.append(", no compressed stream or ELF inside");
        } else {
            sb.append(", and ").append(attempts.size()).append(" embedded stream(s): ");
            sb.append(String.join("; ", attempts.subList(0, Math.min(4, attempts.size()))));
            if (attempts.size() > 4) sb.append("; ...");
        }
        if (!rejected.isEmpty()) {
            sb.append("; candidate tables rejected: ").append(String.join("; ", rejected.subList(0, Math.min(3, rejected.size()))));
        }
        sb.append("; tried compressed token-table names, 32/64-bit, LE/BE, every layout from 2.6.10 to 7.x")
          .append("; the kernel was probably built without CONFIG_KALLSYMS, or the file is not a kernel)");
        return sb.toString().replace('\n', ' ');
    }

    /**
     * The innermost kernel image of a file, for `unpack`: the one holding kallsyms, or, for a
     * kernel built without them, the deepest layer that could be peeled.
     */
    public static KernelImage innermost(byte[] data, int length) throws KernelFormatException {
        try {
            return read("", data, length, KallsymsFinder.Hints.NONE).image();
        } catch (KernelFormatException e) {
            KernelImage[] deepest = {null};
            ImageUnwrapper.search(data, length, img -> {
                if (deepest[0] == null || img.layers().size() > deepest[0].layers().size()) deepest[0] = img;
                return null;
            });
            if (deepest[0] == null || deepest[0].layers().isEmpty()) {
                throw new KernelFormatException("nothing to unpack: no container, compressed stream or kallsyms found");
            }
            return deepest[0];
        }
    }

    /**
     * The kernel's exported symbols, as `symvers` prints them: RELATIVE relocations applied first
     * (the kernel does that at boot; absolute-pointer tables of relocatable kernels read 0
     * before), then the tables found in the image laid out as {@code layout} says.
     */
    public static kernelloader.ksymtab.ExportTable exports(KernelModel m, kernelloader.layout.KernelLayout layout)
            throws KernelFormatException {
        kernelloader.layout.RelativeRelocations.apply(m.image(), layout);
        return kernelloader.ksymtab.KsymtabFinder.find(m.image(), layout, m.kallsyms(), m.version());
    }

    /**
     * The kernel's BTF (CONFIG_DEBUG_INFO_BTF): the .BTF section, found by ELF section,
     * kallsyms' {@code __start_BTF} or its header. Its absence is normal, so it is an outcome
     * with the reasons, not an error.
     */
    public static kernelloader.btf.BtfLocator.Outcome btf(KernelModel m, kernelloader.layout.KernelLayout layout) {
        return kernelloader.btf.BtfLocator.find(m.image(), layout, m.kallsyms());
    }

    /**
     * BTF in a file where no kallsyms table was found (a bare .BTF blob, a module, a kernel
     * built without KALLSYMS): each image the unwrapper reaches is searched by header. With a
     * {@code base}, the blob is split BTF continuing it (a module's .BTF over vmlinux's).
     */
    public static kernelloader.btf.BtfLocator.Outcome btfWithoutKallsyms(byte[] data, int length, kernelloader.btf.Btf base) {
        List<String> tried = new ArrayList<>();
        ImageUnwrapper.Result<kernelloader.btf.BtfLocator.Found> r = ImageUnwrapper.search(data, length, img -> {
            kernelloader.btf.BtfLocator.Outcome o = kernelloader.btf.BtfLocator.find(img, null, null, base);
            if (o.found() == null) for (String t : o.tried()) tried.add(img.describeLayers() + ": " + t);
            return o.found();
        });
        return new kernelloader.btf.BtfLocator.Outcome(r.value(), tried.subList(0, Math.min(3, tried.size())));
    }

    /** The "Linux version ..." banner (linux_banner), up to its newline. */
    public static String versionBanner(KernelImage img) {
        byte[] needle = "Linux version ".getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        while (true) {
            int p = ByteView.indexOf(img.data(), img.length(), needle, from);
            if (p < 0) return null;
            int end = p;
            while (end < img.length() && end - p < 512 && img.data()[end] != '\n' && img.data()[end] != 0) end++;
            String s = new String(img.data(), p, end - p, StandardCharsets.ISO_8859_1);
            // the real banner continues with a release and a "(user@host)"; format strings such
            // as "Linux version %s" do not
            if (s.length() > 20 && !s.contains("%") && s.contains("(")) return s.trim();
            from = p + 1;
        }
    }
}
