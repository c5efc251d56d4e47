package kernelloader.ghidra;

import java.io.IOException;
import java.nio.file.Path;

import ghidra.program.model.listing.Program;

/** File→Export "Linux /proc/kallsyms": the kernel's symbol table as /proc/kallsyms prints it. */
public class KallsymsExporter extends KernelExporter {
    public KallsymsExporter() {
        super("Linux /proc/kallsyms", "kallsyms");
    }

    @Override
    int write(Program program, Path out) throws IOException {
        return ScriptSupport.exportKallsyms(program, out);
    }
}
