package kernelloader.kernel;

import java.io.IOException;
import java.io.OutputStream;

import kernelloader.btf.BtfLocator;
import kernelloader.dump.RunningKernel;
import kernelloader.elf.ElfWriter;
import kernelloader.isf.IsfWriter;
import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.ModuleSymvers;
import kernelloader.layout.KernelLayout;

/**
 * The files a kernel gives, each from its facets, for every face that writes one (the CLI's
 * commands, the Ghidra exporters and scripts, the tests): the same bytes whoever asks.
 */
public final class KernelOutputs {
    private KernelOutputs() {}

    /** The /proc/kallsyms listing (as root, without KASLR); returns the symbol count. */
    public static int procKallsyms(Kernel k, Appendable out) throws IOException, KernelFormatException {
        KallsymsTable t = k.kallsyms().get();
        t.writeProcKallsyms(out);
        return t.size();
    }

    /** The vmlinux lines of Module.symvers, in the column order of the kernel's era; returns the export count. */
    public static int moduleSymvers(Kernel k, Appendable out) throws IOException, KernelFormatException {
        ExportTable t = k.exports().get();
        ModuleSymvers.write(t, ModuleSymvers.Columns.of(k.version().orNull()), out);
        return t.exports().size();
    }

    /**
     * The kernel's Volatility 3 symbol table (ISF JSON) from its BTF and kallsyms: at link-time
     * addresses, a dump's slide taken off where it is known (see {@link kernelloader.isf.IsfWriter}).
     * {@code producerVersion} is the tool's version (x.y.z) for the metadata.
     */
    public static IsfWriter.Summary isf(Kernel k, java.io.Writer out, String producerVersion) throws IOException, KernelFormatException {
        KallsymsTable t = k.kallsyms().get();
        BtfLocator.Found btf = k.btf().get();
        KernelLayout layout = k.layout().get();
        RunningKernel rk = k.running().orNull();
        long slide = rk != null && rk.slide() != null ? rk.slide().value() : 0;
        String file = java.nio.file.Path.of(k.source()).getFileName() == null ? k.source()
                : java.nio.file.Path.of(k.source()).getFileName().toString();
        IsfWriter w = new IsfWriter(btf.btf(), t, slide, bannerBytes(k, t, layout),
                new IsfWriter.Source("kallsyms of " + file, null), new IsfWriter.Source(".BTF of " + file, null), producerVersion);
        return w.write(out);
    }

    /** linux_banner's bytes up to its NUL, included (what Volatility matches memory against); null where kallsyms has none. */
    static byte[] bannerBytes(Kernel k, KallsymsTable t, KernelLayout layout) {
        Long at = t.addressOf("linux_banner");
        if (at == null) return null;
        long off = layout.fileOffsetOf(at);
        byte[] d = k.image().data();
        if (off < 0 || off >= k.image().length()) return null;
        int end = (int) off;
        while (end < k.image().length() && end - off < 1024 && d[end] != 0) end++;
        if (end >= k.image().length() || d[end] != 0) return null;
        return java.util.Arrays.copyOfRange(d, (int) off, end + 1);
    }

    /**
     * The kernel as an ELF: a PT_LOAD and a section per region, its bytes relocated as they are
     * written unless the options say not (no copy of the image), every kallsyms symbol, and the
     * kernel's .BTF where it has one. Returns the symbol count.
     */
    public static int elf(Kernel k, OutputStream out) throws IOException, KernelFormatException {
        KernelLayout layout = k.layout().get();
        if (layout.arch() == null) {
            throw new KernelFormatException(k.source() + ": the architecture could not be inferred (no ELF or boot header,"
                    + " no architecture-specific symbol names): give the architecture (--arch; the loader's Architecture option)");
        }
        ElfWriter w = new ElfWriter(k.image(), k.kallsyms().get(), layout);
        if (k.relocationsToApply().present()) w.withRelocations(k.relocationsToApply().orNull());
        BtfLocator.Found btf = k.btf().orNull();
        if (btf != null) w.withBtf(btf.offset(), btf.btf().byteSize());
        return w.write(out);
    }
}
