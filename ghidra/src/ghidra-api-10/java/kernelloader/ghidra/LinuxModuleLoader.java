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
 * File→Import of a kernel module (.ko, .ko.xz, .ko.zst, .ko.gz) linked to its kernel, and
 * File→Add To Program of one into a kernel program: see {@link ModuleLoad}.
 *
 * <p>Glue for the Loader API of Ghidra 10.3 to 11.x; src/ghidra-api-12 holds the same class for
 * Ghidra 12's load(Program, ImporterSettings).
 */
public class LinuxModuleLoader extends ModuleLoaderBase {
    @Override
    public List<Option> getDefaultOptions(ByteProvider provider, LoadSpec loadSpec, DomainObject domainObject,
                                          boolean isLoadIntoProgram) {
        return ModuleLoad.defaultOptions(isLoadIntoProgram && domainObject instanceof Program p ? p : null);
    }

    @Override
    protected void load(ByteProvider provider, LoadSpec loadSpec, List<Option> options, Program program,
                        TaskMonitor monitor, MessageLog log) throws CancelledException, IOException {
        ModuleLoad.load(getName(), provider, options, program, monitor, log);
    }
}
