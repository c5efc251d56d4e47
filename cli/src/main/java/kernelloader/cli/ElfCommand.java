package kernelloader.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import kernelloader.btf.BtfLocator;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOutputs;
import kernelloader.layout.KernelLayout;
import kernelloader.reloc.Relocations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kallsyms elf FILE OUT.elf}: the kernel as an ELF with its memory map and symbols. */
@Command(name = "elf", mixinStandardHelpOptions = true,
        description = "Write an ELF of the kernel (- for standard output): program headers and sections per region,"
                + " .symtab with every kallsyms symbol, the kernel's .BTF.")
final class ElfCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Parameters(index = "1", paramLabel = "OUT")
    Path out;

    @Option(names = "--no-relocations",
            description = "leave R_*_RELATIVE relocations unapplied: the data pointers of arm64 RELA kernels stay 0, as in the image")
    boolean noRelocations;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Kernel k = opts.read(!noRelocations);
        int[] n = {0};
        Output.write(out, o -> n[0] = KernelOutputs.elf(k, o));
        KernelLayout layout = k.layout().get();
        Relocations relocs = k.relocationsToApply().orNull();
        if (relocs != null) {
            spec.commandLine().getErr().printf("kallsyms: applied %d RELATIVE relocations (table at image offset 0x%x)%n",
                    relocs.count(), relocs.tableStart());
        }
        BtfLocator.Found btf = k.btf().orNull();
        spec.commandLine().getErr().printf("kallsyms: wrote %s: %s %d-bit, base 0x%x, %d regions, %d symbols%s%n", out,
                layout.arch().value().displayName(), layout.bits(), layout.base().value(), layout.regions().size(), n[0],
                btf == null ? "" : ", .BTF (" + btf.btf().types().size() + " types)");
        return 0;
    }
}
