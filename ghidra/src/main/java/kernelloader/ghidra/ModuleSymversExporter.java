package kernelloader.ghidra;

import java.io.IOException;
import java.nio.file.Path;

import ghidra.program.model.listing.Program;

/** File→Export "Linux Module.symvers": the kernel's exports with CRCs, for building modules against it. */
public class ModuleSymversExporter extends KernelExporter {
    public ModuleSymversExporter() {
        super("Linux Module.symvers", "symvers");
    }

    @Override
    int write(Program program, Path out) throws IOException {
        return ScriptSupport.exportModuleSymvers(program, out);
    }
}
