// Writes the kernel's BTF types (CONFIG_DEBUG_INFO_BTF: every struct, union, enum, typedef and
// function pointer type) to a Ghidra data type archive (.gdt), so that modules and other builds
// of the same kernel can use them (Data Type Manager > Open File Archive).
// Interactive: asks for the output file. Headless: -postScript ExportBtfArchive.java OUT.gdt
//@category Linux Kernel
//@menupath
import java.io.File;

import ghidra.app.script.GhidraScript;
import kernelloader.ghidra.ScriptSupport;

public class ExportBtfArchive extends GhidraScript {
    @Override
    protected void run() throws Exception {
        String[] args = getScriptArgs();
        File out = args.length > 0 ? new File(args[0]) : askFile("Export BTF data type archive (.gdt)", "Export");
        int n = ScriptSupport.exportBtfArchive(currentProgram, out.toPath(), monitor);
        println("ExportBtfArchive: wrote " + n + " data types to " + out);
    }
}
