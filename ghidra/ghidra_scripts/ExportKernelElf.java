// Writes the kernel program as an ELF: its memory blocks as segments and sections, and every
// kallsyms symbol in .symtab (functions sized, local/global from the type letter).
// Interactive: asks for the output file. Headless: -postScript ExportKernelElf.java OUT
//@category Linux Kernel
import java.io.File;

import ghidra.app.script.GhidraScript;
import kernelloader.ghidra.ScriptSupport;

public class ExportKernelElf extends GhidraScript {
    @Override
    protected void run() throws Exception {
        String[] args = getScriptArgs();
        File out = args.length > 0 ? new File(args[0]) : askFile("Export kernel ELF", "Export");
        int n = ScriptSupport.exportElf(currentProgram, out.toPath());
        println("ExportKernelElf: wrote " + n + " symbols to " + out);
    }
}
