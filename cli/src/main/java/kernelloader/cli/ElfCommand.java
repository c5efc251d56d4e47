package kernelloader.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.elf.ElfWriter;
import kernelloader.image.KernelFormatException;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.RelativeRelocations;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kallsyms elf FILE OUT.elf}: the kernel as an ELF with its memory map and symbols. */
@Command(name = "elf", mixinStandardHelpOptions = true,
        description = "Write an ELF of the kernel: program headers and sections per region, .symtab with every kallsyms symbol.")
final class ElfCommand implements Callable<Integer> {
    @CommandLine.Mixin
    KallsymsCli.KernelOptionsMixin opts;

    @Parameters(index = "1", paramLabel = "OUT")
    Path out;

    @picocli.CommandLine.Option(names = "--no-relocations",
            description = "leave R_*_RELATIVE relocations unapplied (data pointers of arm64 RELA kernels stay 0)")
    boolean noRelocations;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KernelModel m = opts.read();
        KernelLayout layout = opts.layout(m);
        if (layout.arch() == null) {
            throw new KernelFormatException(opts.file + ": the architecture could not be inferred (no ELF or boot header,"
                    + " no architecture-specific symbol names): give it with --arch");
        }
        // BTF first: it holds no pointers, but it is read from the image as shipped
        kernelloader.btf.BtfLocator.Found btf = KernelReader.btf(m, layout).found();
        RelativeRelocations.Applied relocs = noRelocations ? null : RelativeRelocations.apply(m.image(), layout);
        if (relocs != null) {
            spec.commandLine().getErr().printf("kallsyms: applied %d RELATIVE relocations (table at image offset 0x%x)%n",
                    relocs.count(), relocs.tableOffset());
        }
        ElfWriter writer = new ElfWriter(m.image(), m.kallsyms(), layout);
        if (btf != null) writer.withBtf(btf.offset(), btf.btf().byteSize());
        int n = writer.write(out);
        spec.commandLine().getErr().printf("kallsyms: wrote %s: %s %d-bit, base 0x%x, %d regions, %d symbols%s%n", out,
                layout.arch().value().displayName(), layout.bits(), layout.base().value(), layout.regions().size(), n,
                btf == null ? "" : ", .BTF (" + btf.btf().types().size() + " types)");
        return 0;
    }
}
