package kernelloader.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsFinder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./kallsyms}: the command-line front end of the core. */
@Command(name = "kallsyms", mixinStandardHelpOptions = true, version = "LinuxKernelLoader 0.1.0",
        description = "Recover the symbol table and layout of a Linux kernel image, as shipped.",
        subcommands = {KallsymsCli.ListCommand.class, InfoCommand.class, UnpackCommand.class, ConfigCommand.class, ElfCommand.class, SymversCommand.class, BtfCommand.class, SweepCommand.class, ImportCommand.class})
public final class KallsymsCli implements Callable<Integer> {

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; returns the exit code (0 ok, 1 error, 2 usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintStream saved = System.out;
        System.setOut(out);
        try {
            CommandLine cl = new CommandLine(new KallsymsCli()).setCaseInsensitiveEnumValuesAllowed(true);
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
                // our own errors are one line for a person; anything else is a bug, said as one line too
                String msg = ex instanceof KernelFormatException || ex instanceof IOException
                        ? ex.getMessage() : ex.getClass().getSimpleName() + ": " + ex.getMessage();
                cmd.getErr().println("kallsyms: " + String.valueOf(msg).replace('\n', ' '));
                return 1;
            });
            return cl.execute(args);
        } finally {
            System.out.flush();
            System.setOut(saved);
        }
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 2;
    }

    /** Options every command that reads a kernel shares. */
    static class KernelOptions {
        @Parameters(index = "0", paramLabel = "FILE", description = "kernel file: Image, zImage, bzImage, vmlinux, vmlinuz, dump, ...")
        Path file;

        @Option(names = "--bits", description = "word size override (32 or 64)")
        Integer bits;

        @Option(names = "--base", description = "load address of the image's first byte (hex), for 7.0+ raw images the image cannot place",
                converter = HexLong.class)
        Long base;

        @Option(names = "--file-offset", description = "the kernel image starts this many bytes into FILE (hex); skips container detection before it",
                converter = HexLong.class)
        Long fileOffset;

        @Option(names = "--table", paramLabel = "N", description = "use the N-th kallsyms table found (0 = first), for files holding several kernels")
        int table;

        @Option(names = "--arch", description = "architecture override: ${COMPLETION-CANDIDATES}")
        kernelloader.layout.Architecture arch;

        kernelloader.layout.LayoutInference.Overrides overrides() {
            return new kernelloader.layout.LayoutInference.Overrides(arch, base);
        }

        KernelModel read() throws IOException, KernelFormatException {
            if (bits != null && bits != 32 && bits != 64) throw new KernelFormatException("--bits must be 32 or 64");
            return KernelReader.read(file, fileOffset == null ? 0 : fileOffset, new KallsymsFinder.Hints(bits, base), table);
        }

        /** The memory map of {@code m}, with the overrides given. */
        kernelloader.layout.KernelLayout layout(KernelModel m) {
            return kernelloader.layout.LayoutInference.infer(m.image(), m.kallsyms(), overrides());
        }

        /** The overrides given, for `info` to show. */
        java.util.Map<String, String> given() {
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            if (bits != null) m.put("bits", String.valueOf(bits));
            if (base != null) m.put("base", "0x" + Long.toHexString(base));
            if (arch != null) m.put("arch", arch.name().toLowerCase());
            if (fileOffset != null) m.put("file_offset", "0x" + Long.toHexString(fileOffset));
            if (table != 0) m.put("table", String.valueOf(table));
            return m;
        }
    }

    static final class HexLong implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            String t = s.toLowerCase().startsWith("0x") ? s.substring(2) : s;
            return Long.parseUnsignedLong(t, 16);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Print the symbol table as /proc/kallsyms would (address, type, name).")
    static final class ListCommand implements Callable<Integer> {
        @CommandLine.Mixin
        KernelOptionsMixin opts;

        @Override
        public Integer call() throws Exception {
            KernelModel m = opts.read();
            PrintWriter out = new PrintWriter(new BufferedWriter(
                    new OutputStreamWriter(System.out, StandardCharsets.ISO_8859_1), 1 << 16));
            m.kallsyms().writeProcKallsyms(out);
            out.flush();
            return out.checkError() ? 1 : 0;
        }
    }

    /** picocli mixin wrapper around {@link KernelOptions}. */
    public static class KernelOptionsMixin extends KernelOptions {}
}
