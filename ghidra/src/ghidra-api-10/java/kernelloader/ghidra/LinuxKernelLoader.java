package kernelloader.ghidra;

import java.io.IOException;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.framework.model.DomainObject;
import ghidra.program.model.listing.Program;
import ghidra.util.exception.CancelledException;
import ghidra.util.task.TaskMonitor;

/**
 * File→Import of any Linux kernel file the core understands: memory blocks per region, a label
 * for every kallsyms symbol, functions for text symbols, exports marked, the entry point, and
 * what was inferred in Program Information.
 *
 * <p>Glue for the Loader API of Ghidra 10.3 to 11.x (load(ByteProvider, LoadSpec, List, Program,
 * TaskMonitor, MessageLog)); src/ghidra-api-12 holds the same class for Ghidra 12's
 * load(Program, ImporterSettings). The rest is in {@link KernelLoaderBase} and {@link KernelLoad}.
 */
public class LinuxKernelLoader extends KernelLoaderBase {
    @Override
    public List<Option> getDefaultOptions(ByteProvider provider, LoadSpec loadSpec, DomainObject domainObject,
                                          boolean isLoadIntoProgram) {
        return KernelLoad.defaultOptions(provider);
    }

    @Override
    protected void load(ByteProvider provider, LoadSpec loadSpec, List<Option> options, Program program,
                        TaskMonitor monitor, MessageLog log) throws CancelledException, IOException {
        KernelLoad.load(getName(), provider, options, program, monitor, log);
    }
}
