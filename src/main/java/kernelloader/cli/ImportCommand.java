package kernelloader.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import kernelloader.ghidra.HeadlessImport;
import kernelloader.image.KernelFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kallsyms import FILE --project DIR}: a Ghidra project with the kernel loaded by our loader. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import FILE into a Ghidra project with the embedded Ghidra (headless), using LinuxKernelLoader.")
final class ImportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Option(names = "--project", required = true, paramLabel = "DIR", description = "project directory (created if absent)")
    Path project;

    @Option(names = "--name", description = "program name (default: the file's name)")
    String name;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) throw new KernelFormatException(file + ": no such file");
        Map<String, Object> r = HeadlessImport.importInto(file.toFile(), project, name);
        if (json) {
            System.out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(r));
        } else {
            r.forEach((k, v) -> System.out.printf("%-14s %s%n", k + ":", v));
        }
        return 0;
    }
}
