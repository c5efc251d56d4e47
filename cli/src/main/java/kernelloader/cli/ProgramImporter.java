package kernelloader.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import kernelloader.image.KernelFormatException;
import kernelloader.kernel.KernelOptions;

/**
 * What {@code kallsyms import} needs of Ghidra, so that this module never sees Ghidra: the
 * ghidra module provides the one implementation (META-INF/services), and the launcher puts it
 * and Ghidra on the class path for {@code import} only.
 */
public interface ProgramImporter {
    /**
     * How to load: the core's options (the loader takes the same), whether to apply BTF, to make
     * (and disassemble) functions, to run Ghidra's auto-analysis after the import, to
     * replace a program of the same name in the project, and the kernel modules to link into the
     * program after the kernel (in the order their depends= needs).
     */
    record Settings(KernelOptions kernel, boolean btf, boolean functions, boolean analyze, boolean overwrite, List<Path> modules) {
        public Settings(KernelOptions kernel, boolean btf) {
            this(kernel, btf, true, false, false, List.of());
        }

        public Settings(KernelOptions kernel, boolean btf, boolean functions, boolean analyze, boolean overwrite) {
            this(kernel, btf, functions, analyze, overwrite, List.of());
        }
    }

    /**
     * Imports {@code file} into the project at {@code projectDir} (created if absent, relative
     * to the working directory) with our loader; returns the summary printed for it. A failed
     * import leaves no project or folder it created behind.
     */
    Map<String, Object> importInto(Path file, Path projectDir, String name, Settings settings) throws Exception;

    /** Imports {@code files} into a Ghidra Server repository URL, checking them in with {@code commit} when given. */
    void importIntoRepository(List<Path> files, String url, String user, String keystore, String commit, Settings settings)
            throws Exception;

    /** The importer on the class path, or a one-line error saying how to get it. */
    static ProgramImporter find() throws KernelFormatException {
        for (ProgramImporter i : ServiceLoader.load(ProgramImporter.class)) return i;
        throw new KernelFormatException("import needs the Ghidra extension on the class path: run it as ./kallsyms import"
                + " (which builds the ghidra module on first use)");
    }
}
