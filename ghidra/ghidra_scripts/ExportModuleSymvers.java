// Writes the kernel's Module.symvers lines (CRC, symbol, vmlinux, export kind, namespace) from its
// __ksymtab/__kcrctab tables, so that out-of-tree modules can be built against this kernel.
// Interactive: asks for the output file. Headless: -postScript ExportModuleSymvers.java OUT
//@category Linux Kernel
//@menupath
import java.io.File;

import ghidra.app.script.GhidraScript;
import kernelloader.ghidra.ScriptSupport;

public class ExportModuleSymvers extends GhidraScript {
    @Override
    protected void run() throws Exception {
        String[] args = getScriptArgs();
        File out = args.length > 0 ? new File(args[0]) : askFile("Export Module.symvers", "Export");
        int n = ScriptSupport.exportModuleSymvers(currentProgram, out.toPath());
        println("ExportModuleSymvers: wrote " + n + " exports to " + out);
    }
}
