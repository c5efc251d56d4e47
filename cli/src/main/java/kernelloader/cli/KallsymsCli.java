package kernelloader.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import kernelloader.image.KernelFormatException;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;

/**
 * {@code ./kallsyms}: the command-line front end. Each command asks one facet of the core's
 * {@code Kernel} and prints it; errors are one line on stderr (or, after --json, one JSON object
 * on stdout), exit code 1 for a file that cannot be read, 2 for a command line that cannot.
 */
@Command(name = "kallsyms", mixinStandardHelpOptions = true, versionProvider = KallsymsCli.BuildVersion.class,
        description = "Recover the symbol table, memory map, exports and types of a Linux kernel image, as shipped.",
        subcommands = {HelpCommand.class, ListCommand.class, InfoCommand.class, UnpackCommand.class, ConfigCommand.class,
                ElfCommand.class, SymversCommand.class, BtfCommand.class, IsfCommand.class, ModuleCommand.class, SweepCommand.class, ImportCommand.class, GuiCommand.class,
                KallsymsCli.CompletionCommand.class})
public final class KallsymsCli implements Callable<Integer> {

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; returns the exit code (0 ok, 1 error, 2 usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintStream saved = System.out, savedErr = System.err;
        // what commands print themselves (summaries on stdout, import's progress lines on stderr)
        System.setOut(out);
        System.setErr(err);
        boolean json = Arrays.asList(args).contains("--json");
        try {
            CommandLine cl = commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
                if (ex instanceof UsageError) {
                    report(cmd, json, ex.getMessage() + " (see: kallsyms help " + cmd.getCommandName() + ")");
                    return 2;
                }
                // our own errors are one line for a person; anything else is a bug, said as one line too
                String msg = ex instanceof KernelFormatException || ex instanceof IOException
                        ? ex.getMessage() : ex.getClass().getSimpleName() + ": " + ex.getMessage();
                report(cmd, json, String.valueOf(msg));
                return 1;
            });
            cl.setParameterExceptionHandler((ParameterException ex, String[] a) -> {
                CommandLine cmd = ex.getCommandLine();
                report(cmd, json, ex.getMessage() + " (see: kallsyms help" + (cmd.getParent() == null ? "" : " " + cmd.getCommandName()) + ")");
                return 2;
            });
            return cl.execute(args);
        } finally {
            System.out.flush();
            System.setOut(saved);
            System.setErr(savedErr);
        }
    }

    /** The command tree, also what the completion script is generated from. */
    static CommandLine commandLine() {
        return new CommandLine(new KallsymsCli()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    private static void report(CommandLine cmd, boolean json, String message) {
        String line = message.replace('\n', ' ');
        if (json) {
            cmd.getOut().println(new GsonBuilder().disableHtmlEscaping().create().toJson(Map.of("error", line)));
            cmd.getOut().flush();
        } else {
            cmd.getErr().println("kallsyms: " + line);
        }
    }

    @Override
    public Integer call() {
        commandLine().usage(System.out);
        return 2;
    }

    /** {@code kallsyms completion}: a bash (and zsh, via bashcompinit) completion script. */
    @Command(name = "completion", mixinStandardHelpOptions = true,
            description = "Print a bash/zsh completion script: source <(./kallsyms completion)")
    static final class CompletionCommand implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.print(AutoComplete.bash("kallsyms", commandLine()));
            System.out.flush();
            return 0;
        }
    }

    /** --version: the build's version, its commit and the Ghidra it was built for (written by Maven at build time). */
    static final class BuildVersion implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = KallsymsCli.class.getResourceAsStream("/kernelloader/cli/build.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {
                "LinuxKernelLoader " + p.getProperty("version", "(unknown version)") + ", commit " + p.getProperty("commit", "unknown")
                        + (p.getProperty("dirty", "false").equals("true") ? " (with uncommitted changes)" : ""),
                "built for Ghidra " + p.getProperty("ghidra", "unknown") + " (./kallsyms import; the extension zip is ghidra/target/*.zip)",
                "Java " + System.getProperty("java.version")};
        }
    }
}
