package kernelloader.ghidra;

import java.io.IOException;
import java.util.Collection;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.opinion.AbstractProgramWrapperLoader;
import ghidra.app.util.opinion.Loader.ImporterSettings;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.app.util.opinion.LoaderTier;
import ghidra.framework.model.DomainObject;
import ghidra.program.model.listing.Program;
import ghidra.util.exception.CancelledException;

/**
 * File→Import of any Linux kernel file the core understands (see src/ghidra-api-10's class of
 * the same name for what it creates).
 *
 * <p>Glue for the Loader API of Ghidra 12, where load() takes the Program and an
 * ImporterSettings record and getDefaultOptions() gained mirrorFsLayout. Built with
 * {@code mvn -Dghidra.api=12} against a Ghidra 12 installation (GHIDRA_INSTALL_DIR); written
 * from Ghidra 12's loader sources, not compiled here (no Ghidra 12 jar is on Maven Central).
 */
public class LinuxKernelLoader extends AbstractProgramWrapperLoader {
    public static final String NAME = KernelLoad.NAME;

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public LoaderTier getTier() {
        return LoaderTier.SPECIALIZED_TARGET_LOADER;
    }

    @Override
    public int getTierPriority() {
        return 0;   // ahead of the ELF and PE loaders for the same file: we know what the kernel is
    }

    @Override
    public Collection<LoadSpec> findSupportedLoadSpecs(ByteProvider provider) throws IOException {
        return KernelLoad.loadSpecs(this, provider);
    }

    @Override
    public List<Option> getDefaultOptions(ByteProvider provider, LoadSpec loadSpec, DomainObject domainObject,
                                          boolean loadIntoProgram, boolean mirrorFsLayout) {
        return KernelLoad.defaultOptions();
    }

    @Override
    public String validateOptions(ByteProvider provider, LoadSpec loadSpec, List<Option> options, Program program) {
        return KernelLoad.validate(options);
    }

    @Override
    protected void load(Program program, ImporterSettings settings) throws CancelledException, IOException {
        KernelLoad.load(getName(), settings.provider(), settings.options(), program, settings.monitor(), settings.log());
    }
}
