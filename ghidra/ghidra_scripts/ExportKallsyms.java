// Writes the kernel's kallsyms table as /proc/kallsyms would print it (address, type, name).
// Interactive: asks for the output file. Headless: -postScript ExportKallsyms.java OUT
//@category Linux Kernel
//@menupath
import java.io.File;

import ghidra.app.script.GhidraScript;
import kernelloader.ghidra.ScriptSupport;

public class ExportKallsyms extends GhidraScript {
    @Override
    protected void run() throws Exception {
        String[] args = getScriptArgs();
        File out = args.length > 0 ? new File(args[0]) : askFile("Export kallsyms", "Export");
        int n = ScriptSupport.exportKallsyms(currentProgram, out.toPath());
        println("ExportKallsyms: wrote " + n + " symbols to " + out);
    }
}
