package kernelloader.cli;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import kernelloader.image.KernelVersion;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOutputs;
import kernelloader.ksymtab.ExportTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code kallsyms symvers FILE}: the kernel's own lines of Module.symvers, from its __ksymtab tables. */
@Command(name = "symvers", mixinStandardHelpOptions = true,
        description = "Print the vmlinux lines of Module.symvers (CRC, symbol, vmlinux, export kind, namespace) in the column order of the kernel's era.")
final class SymversCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Kernel k = opts.read();
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.ISO_8859_1), 1 << 16));
        KernelOutputs.moduleSymvers(k, out);
        out.flush();
        ExportTable t = k.exports().get();
        KernelVersion version = k.version().orNull();
        StringBuilder kinds = new StringBuilder();
        t.countsByKind().forEach((kind, c) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(c).append(' ').append(kind.name()));
        PrintWriter err = spec.commandLine().getErr();
        err.printf("kallsyms: %d exports (%s) at 0x%x, %s; CRCs: %s; kinds from %s; columns of %s%n", t.exports().size(), kinds,
                t.ksymtabAddress(), t.format().describe(), t.crcs().description, t.boundaries(),
                version == null ? "current kernels (no version banner)" : version.release());
        for (String w : t.warnings()) err.println("kallsyms: warning: " + w);
        return out.checkError() ? 1 : 0;
    }
}
