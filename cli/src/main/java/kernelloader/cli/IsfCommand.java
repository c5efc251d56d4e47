package kernelloader.cli;

import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;

import kernelloader.dump.RunningKernel;
import kernelloader.isf.IsfWriter;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOutputs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kallsyms isf FILE OUT.json}: a Volatility 3 symbol table from the kernel's own kallsyms and BTF. */
@Command(name = "isf", mixinStandardHelpOptions = true,
        description = "Write a Volatility 3 symbol table (ISF JSON; - for standard output) from the kernel's kallsyms and BTF:"
                + " types from BTF, symbols from kallsyms at link-time addresses, linux_banner for matching."
                + " Works on a kernel file or a memory dump (its slide is taken off where VMCOREINFO states it).")
final class IsfCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Parameters(index = "1", paramLabel = "OUT")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Kernel k = opts.read();
        // the facets the table needs, asked before anything is written: a missing one is one line, no file
        k.kallsyms().get();
        k.btf().get();
        String version = version();
        IsfWriter.Summary[] s = {null};
        Output.write(out, o -> {
            Writer w = new BufferedWriter(new OutputStreamWriter(o, StandardCharsets.UTF_8), 1 << 16);
            s[0] = KernelOutputs.isf(k, w, version);
            w.flush();
        });
        RunningKernel rk = k.running().orNull();
        String addresses = rk == null ? "link-time addresses"
                : rk.slide() == null ? String.format("the running kernel's addresses (_text 0x%x; no slide known: %s)", rk.runtimeText(),
                        "no VMCOREINFO in the dump states KERNELOFFSET")
                : String.format("link-time addresses (the dump's slide 0x%x taken off: %s)", rk.slide().value(), rk.slide().evidence());
        spec.commandLine().getErr().printf("kallsyms: wrote %s: ISF %s, %d base types, %d structs and unions, %d enums, %d symbols"
                        + " (%d typed) at %s%s%n", out, IsfWriter.FORMAT, s[0].baseTypes(), s[0].userTypes(), s[0].enums(), s[0].symbols(),
                s[0].typedSymbols(), addresses, s[0].duplicateNames() == 0 ? "" : "; " + s[0].duplicateNames()
                        + " BTF types share a name with an earlier one (the first is written)");
        return 0;
    }

    /** The build's version (x.y.z), for the table's producer. */
    private static String version() throws java.io.IOException {
        Properties p = new Properties();
        try (InputStream in = KallsymsCli.class.getResourceAsStream("/kernelloader/cli/build.properties")) {
            if (in != null) p.load(in);
        }
        String v = p.getProperty("version", "0.0.0").replaceAll("[^0-9.].*", "");
        return v.matches("[0-9]+\\.[0-9]+\\.[0-9]+") ? v : "0.0.0";
    }
}
