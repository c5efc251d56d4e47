package kernelloader.ghidra;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryAccessException;
import kernelloader.kallsyms.KallsymsTable;

/** What the ghidra_scripts call, so that the scripts stay a few lines and the logic is tested here. */
public final class ScriptSupport {
    private ScriptSupport() {}

    /**
     * Writes the program's kallsyms table in /proc/kallsyms format; returns the symbol count.
     * The table is read from the program's memory by the same core as `./kallsyms list`.
     */
    public static int exportKallsyms(Program program, Path out) throws IOException, MemoryAccessException {
        KallsymsTable t = ProgramKernel.kallsyms(program);
        if (t == null) throw new IOException(program.getName() + ": no kallsyms table in this program's memory");
        try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.ISO_8859_1), 1 << 16)) {
            t.writeProcKallsyms(w);
        }
        return t.size();
    }
}
