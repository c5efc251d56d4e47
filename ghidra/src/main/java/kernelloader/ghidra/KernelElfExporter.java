package kernelloader.ghidra;

import java.io.IOException;
import java.nio.file.Path;

import ghidra.program.model.listing.Program;

/** File→Export "Linux kernel ELF": the program's memory and every kallsyms symbol as an ELF. */
public class KernelElfExporter extends KernelExporter {
    public KernelElfExporter() {
        super("Linux kernel ELF (kallsyms)", "elf");
    }

    @Override
    int write(Program program, Path out) throws IOException {
        return ScriptSupport.exportElf(program, out);
    }
}
