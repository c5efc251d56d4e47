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
 * The part of {@link LinuxModuleLoader} whose Ghidra API is the same from 10.3 to 12; the class
 * of each API generation (src/ghidra-api-10, src/ghidra-api-12) adds load() and
 * getDefaultOptions(). The work is in {@link ModuleLoad}.
 */
public abstract class ModuleLoaderBase extends AbstractProgramWrapperLoader {
    public static final String NAME = ModuleLoad.NAME;

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
        return 0;   // ahead of the ELF loader, which opens a .ko unlinked
    }

    /**
     * File→Add To Program (Ghidra 10.3; later ones ask the method below). No @Override: the
     * method is deprecated since 10.4 and may be gone from the Ghidra this is built against.
     */
    public boolean supportsLoadIntoProgram() {
        return true;
    }

    /**
     * Ghidra 10.4 on: only into a program one of our loaders made, which holds a kernel (the
     * load then checks it is the module's kernel). Not an override on 10.3, which lacks it.
     */
    public boolean supportsLoadIntoProgram(Program program) {
        return program != null && (KernelLoad.NAME.equals(program.getExecutableFormat()) || ModuleLoad.NAME.equals(program.getExecutableFormat()));
    }

    @Override
    public Collection<LoadSpec> findSupportedLoadSpecs(ByteProvider provider) throws IOException {
        return ModuleLoad.loadSpecs(this, provider);
    }

    @Override
    public String validateOptions(ByteProvider provider, LoadSpec loadSpec, List<Option> options, Program program) {
        return ModuleLoad.validate(options, program);
    }
}
