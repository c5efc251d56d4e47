package kernelloader.cli;

import java.nio.file.Path;
import java.util.ServiceLoader;

import kernelloader.image.KernelFormatException;

/**
 * What {@code kallsyms gui} needs of Ghidra, so that this module never sees Ghidra (as with
 * {@link ProgramImporter}): the ghidra module provides the one implementation.
 */
public interface FrontEnd {
    /**
     * Starts Ghidra's front end with our loader, analyzer, exporters and scripts, opening the
     * project {@code name} in the folder {@code location} ({@code location/name.gpr}, created if
     * absent; null: the project Ghidra opened last), and returns once its window is up. Ghidra
     * ends the JVM when the user closes it.
     */
    void open(Path location, String name) throws Exception;

    /** The front end on the class path, or a one-line error saying how to get it. */
    static FrontEnd find() throws KernelFormatException {
        for (FrontEnd f : ServiceLoader.load(FrontEnd.class)) return f;
        throw new KernelFormatException("gui needs the Ghidra extension on the class path: run it as ./kallsyms gui"
                + " (which builds the ghidra module on first use)");
    }
}
