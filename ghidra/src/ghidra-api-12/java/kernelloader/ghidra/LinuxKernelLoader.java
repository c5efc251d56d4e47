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
 * File→Import of any Linux kernel file the core understands (see src/ghidra-api-10's class of
 * the same name for what it creates).
 *
 * <p>Glue for the Loader API of Ghidra 12, where load() takes the Program and an
 * ImporterSettings record and getDefaultOptions() gained mirrorFsLayout. Compiled when
 * the build is against a Ghidra 12 installation (GHIDRA_INSTALL_DIR; the build picks it from the
 * installation's version).
 */
public class LinuxKernelLoader extends KernelLoaderBase {
    @Override
    public List<Option> getDefaultOptions(ByteProvider provider, LoadSpec loadSpec, DomainObject domainObject,
                                          boolean loadIntoProgram, boolean mirrorFsLayout) {
        return KernelLoad.defaultOptions(provider);
    }

    @Override
    protected void load(Program program, ImporterSettings settings) throws CancelledException, IOException {
        KernelLoad.load(getName(), settings.provider(), settings.options(), program, settings.monitor(), settings.log());
    }
}
