package kernelloader.cli;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import kernelloader.kernel.KernelOutputs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kallsyms list FILE}: the symbol table, as /proc/kallsyms prints it. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Print the symbol table as /proc/kallsyms would (address, type, name).")
final class ListCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.ISO_8859_1), 1 << 16));
        KernelOutputs.procKallsyms(opts.read(), out);
        out.flush();
        return out.checkError() ? 1 : 0;
    }
}
