package kernelloader.ghidra;

import java.io.IOException;
import java.util.Collection;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.opinion.AbstractProgramWrapperLoader;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.app.util.opinion.LoaderTier;
import ghidra.program.model.listing.Program;

/**
 * The part of {@link LinuxKernelLoader} whose Ghidra API is the same from 10.3 to 12: name, tier,
 * recognition and option checks. The loader class of each API generation (src/ghidra-api-10,
 * src/ghidra-api-12) adds only load() and getDefaultOptions(), whose signatures changed.
 */
public abstract class KernelLoaderBase extends AbstractProgramWrapperLoader {
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
    public String validateOptions(ByteProvider provider, LoadSpec loadSpec, List<Option> options, Program program) {
        return KernelLoad.validate(options);
    }
}
