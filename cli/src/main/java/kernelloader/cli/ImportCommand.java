package kernelloader.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import kernelloader.image.KernelFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kallsyms import FILE... --project DIR|ghidra://host[:port]/repo[/folder]}: Ghidra programs
 * of the kernels, loaded by our loader, in a local project or a Ghidra Server repository.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import kernel files into a Ghidra project (a directory, or ghidra://host[:port]/repository[/folder]"
                + " on a Ghidra Server, as analyzeHeadless takes it) with the embedded Ghidra, headless, using LinuxKernelLoader.")
final class ImportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", arity = "1..*")
    List<Path> files;

    @Option(names = "--project", required = true, paramLabel = "DIR|URL",
            description = "project directory (created if absent), or a ghidra:// repository URL")
    String project;

    @Option(names = "--name", description = "program name (default: the file's name; one file only)")
    String name;

    @Option(names = "--json", description = "print one JSON object per file")
    boolean json;

    @Option(names = "--user", description = "Ghidra Server user (ghidra:// only; default: the login name)")
    String user;

    @Option(names = "--keystore", description = "PKI or SSH key file for the Ghidra Server (ghidra:// only)")
    String keystore;

    @Option(names = "--commit", paramLabel = "COMMENT", description = "check the programs in on the server with this comment (ghidra:// only)")
    String commit;

    @Option(names = "--no-btf", description = "leave the kernel's BTF types and prototypes out (the loader's -loader-applyBtf false)")
    boolean noBtf;

    @Option(names = "--no-relocations",
            description = "leave R_*_RELATIVE relocations out of program memory (the loader's -loader-applyRelocations false); exports are read with them either way")
    boolean noRelocations;

    @Option(names = "--no-functions",
            description = "labels only: no functions for text symbols, nothing disassembled (the loader's -loader-createFunctions false)")
    boolean noFunctions;

    @Option(names = "--analyze", description = "run Ghidra's auto-analysis on the program after the import (long on a whole kernel)")
    boolean analyze;

    @Option(names = "--module", paramLabel = "KO",
            description = "a kernel module (.ko, .ko.xz, .ko.zst) linked into the kernel's program after it, as `module` links it"
                    + " (repeat; loaded in the order their depends= needs; one FILE only)")
    List<Path> modules = new ArrayList<>();

    @Option(names = "--overwrite", description = "replace a program of the same name in the project (without it, importing a name twice is an error)")
    boolean overwrite;

    @Mixin
    KernelOverrides overrides;

    @Override
    public Integer call() throws Exception {
        ProgramImporter.Settings settings = new ProgramImporter.Settings(overrides.options().withRelocations(!noRelocations), !noBtf,
                !noFunctions, analyze, overwrite, List.copyOf(modules));
        if (name != null && files.size() > 1) throw new KernelFormatException("--name names one program: give one FILE with it");
        if (!modules.isEmpty() && files.size() > 1) throw new KernelFormatException("--module links into one kernel: give one FILE with it");
        for (Path m : modules) kernelloader.image.InputFile.check(m);
        for (Path f : files) kernelloader.image.InputFile.check(f);
        ProgramImporter importer = ProgramImporter.find();
        if (project.startsWith("ghidra:") && !modules.isEmpty()) {
            throw new KernelFormatException("--module links into a program of a project folder, not of a Ghidra Server repository");
        }
        if (project.startsWith("ghidra:")) {
            importer.importIntoRepository(files, project, user, keystore, commit, settings);
            for (Path f : files) print(Map.of("file", f.toString(), "repository", project, "committed", commit != null));
            return 0;
        }
        int failed = 0;
        for (Path f : files) {
            Map<String, Object> r;
            try {
                r = importer.importInto(f, Path.of(project), name, settings);
            } catch (Exception e) {
                // one kernel that will not load does not stop the others
                if (files.size() == 1) throw e;
                r = new LinkedHashMap<>();
                r.put("file", f.toString());
                r.put("error", String.valueOf(e.getMessage()).replace('\n', ' '));
                failed++;
            }
            print(r);
        }
        return failed == 0 ? 0 : 1;
    }

    private void print(Map<String, Object> r) {
        if (json) {
            Gson gson = new GsonBuilder().disableHtmlEscaping().create();
            System.out.println(gson.toJson(r));
        } else {
            r.forEach((k, v) -> System.out.printf("%-14s %s%n", k + ":", v));
            if (files.size() > 1) System.out.println();
        }
    }
}
