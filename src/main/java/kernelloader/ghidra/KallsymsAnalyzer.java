package kernelloader.ghidra;

import java.util.Map;
import java.util.WeakHashMap;

import ghidra.app.services.AbstractAnalyzer;
import ghidra.app.services.AnalysisPriority;
import ghidra.app.services.AnalyzerType;
import ghidra.app.util.importer.MessageLog;
import ghidra.program.model.address.AddressSetView;
import ghidra.program.model.listing.Program;
import ghidra.util.exception.CancelledException;
import ghidra.util.task.TaskMonitor;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Applies kallsyms to a kernel that another loader brought in (a stripped vmlinux through the
 * ELF loader, a raw binary at its base, a memory dump): finds the table in the program's memory
 * with the same core as the loader and creates the same labels and functions. Enabled by
 * default only where it finds a table.
 */
public class KallsymsAnalyzer extends AbstractAnalyzer {
    static final String NAME = "Linux kallsyms";
    private final Map<Program, KallsymsTable> found = new WeakHashMap<>();

    public KallsymsAnalyzer() {
        super(NAME, "Finds the Linux kernel's kallsyms symbol table in memory and labels every symbol", AnalyzerType.BYTE_ANALYZER);
        setPriority(AnalysisPriority.FORMAT_ANALYSIS.before());
        setSupportsOneTimeAnalysis();
    }

    @Override
    public boolean canAnalyze(Program program) {
        // our loader already applied the table
        return !LinuxKernelLoader.NAME.equals(program.getExecutableFormat()) && table(program) != null;
    }

    @Override
    public boolean getDefaultEnablement(Program program) {
        return table(program) != null;
    }

    private synchronized KallsymsTable table(Program program) {
        if (!found.containsKey(program)) {
            try {
                found.put(program, ProgramKernel.kallsyms(program));
            } catch (Exception e) {
                found.put(program, null);
            }
        }
        return found.get(program);
    }

    @Override
    public boolean added(Program program, AddressSetView set, TaskMonitor monitor, MessageLog log) throws CancelledException {
        KallsymsTable k = table(program);
        if (k == null) return false;
        try {
            KernelProgramBuilder.Counts c = KernelProgramBuilder.applySymbols(program, k, true, monitor);
            program.getOptions(Program.PROGRAM_INFO).setInt("Linux kallsyms labels", c.labels());
            program.getOptions(Program.PROGRAM_INFO).setString("Linux kallsyms layout", k.layout().era() + ", "
                    + k.layout().encoding().description() + ", " + k.size() + " symbols");
            log.appendMsg(NAME, "kallsyms: " + c.labels() + " labels, " + c.functions() + " functions (" + k.baseEvidence() + ")");
            return true;
        } catch (CancelledException e) {
            throw e;
        } catch (Exception e) {
            log.appendMsg(NAME, "could not apply kallsyms: " + e);
            return false;
        }
    }
}
