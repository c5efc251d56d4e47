package kernelloader.kernel;

import java.io.IOException;
import java.io.OutputStream;

import kernelloader.btf.BtfLocator;
import kernelloader.elf.ElfWriter;
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
