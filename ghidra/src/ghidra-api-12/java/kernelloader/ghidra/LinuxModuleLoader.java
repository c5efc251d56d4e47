package kernelloader.ghidra;

import java.io.IOException;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.app.util.opinion.Loader.ImporterSettings;
import ghidra.framework.model.DomainObject;
import ghidra.program.model.listing.Program;
import ghidra.util.exception.CancelledException;

/**
 * File→Import of a kernel module linked to its kernel, and File→Add To Program of one into a
 * kernel program (see src/ghidra-api-10's class of the same name and {@link ModuleLoad}).
 *
 * <p>Glue for the Loader API of Ghidra 12: load(Program, ImporterSettings), and
 * getDefaultOptions() with mirrorFsLayout.
 */
public class LinuxModuleLoader extends ModuleLoaderBase {
    @Override
    public List<Option> getDefaultOptions(ByteProvider provider, LoadSpec loadSpec, DomainObject domainObject,
                                          boolean loadIntoProgram, boolean mirrorFsLayout) {
        return ModuleLoad.defaultOptions(loadIntoProgram && domainObject instanceof Program p ? p : null);
    }

    @Override
    protected void load(Program program, ImporterSettings settings) throws CancelledException, IOException {
        ModuleLoad.load(getName(), settings.provider(), settings.options(), program, settings.monitor(), settings.log());
    }
}
