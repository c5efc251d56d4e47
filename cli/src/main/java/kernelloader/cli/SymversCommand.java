package kernelloader.cli;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;

import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelVersion;
import kernelloader.ksymtab.ExportKind;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.ModuleSymvers;
import kernelloader.layout.KernelLayout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code kallsyms symvers FILE}: the kernel's own lines of Module.symvers, from its __ksymtab tables. */
@Command(name = "symvers", mixinStandardHelpOptions = true,
        description = "Print the vmlinux lines of Module.symvers (CRC, symbol, vmlinux, export kind, namespace) in the column order of the kernel's era.")
final class SymversCommand implements Callable<Integer> {
    @CommandLine.Mixin
    KallsymsCli.KernelOptionsMixin opts;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KernelModel m = opts.read();
        KernelLayout layout = opts.layout(m);
        KernelVersion version = m.version();
        ExportTable t;
        try {
            t = KernelReader.exports(m, layout);
        } catch (KernelFormatException e) {
            throw new KernelFormatException(opts.file + ": " + e.getMessage());
        }
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.ISO_8859_1), 1 << 16));
        ModuleSymvers.write(t, ModuleSymvers.Columns.of(version), out);
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        Map<ExportKind, Integer> counts = t.countsByKind();
        StringBuilder kinds = new StringBuilder();
        counts.forEach((k, c) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(c).append(' ').append(k.name()));
        err.printf("kallsyms: %d exports (%s) at 0x%x, %s; CRCs: %s; kinds from %s; columns of %s%n", t.exports().size(), kinds,
                t.ksymtabAddress(), t.format().describe(), t.crcs().description, t.boundaries(),
                version == null ? "current kernels (no version banner)" : version.release());
        for (String w : t.warnings()) err.println("kallsyms: warning: " + w);
        return out.checkError() ? 1 : 0;
    }
}
