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
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.KernelVersion;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KsymtabFinder;

/**
 * Applies kallsyms to a kernel that another loader brought in (a stripped vmlinux through the
 * ELF loader, a raw binary at its base, a memory dump): finds the table in the program's memory
 * with the same core as the loader and creates the same labels and functions. Enabled by
 * default only where it finds a table.
 */
public class KallsymsAnalyzer extends AbstractAnalyzer {
    static final String NAME = "Linux kallsyms";
    private final Map<Program, KallsymsTable> found = new WeakHashMap<>();
    static final String OPT_BTF = "Apply BTF types and function prototypes";
    private boolean applyBtf = true;

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

    /** The same export marks as the loader's, from the program's memory; a kernel without exports is no error. */
    private static void markExports(Program program, KallsymsTable k, TaskMonitor monitor, MessageLog log) throws Exception {
        KernelImage img = ProgramKernel.image(program);
        try {
            ExportTable t = KsymtabFinder.find(img, ScriptSupport.layout(program, img), k,
                    KernelVersion.fromBanner(KernelReader.versionBanner(img)));
            KernelProgramBuilder.ExportCounts ec = KernelProgramBuilder.markExports(program, t, k, monitor);
            program.getOptions(Program.PROGRAM_INFO).setString("Linux exports", KernelProgramBuilder.describeExports(t));
            log.appendMsg(NAME, "exports: " + ec.marked() + " marked, " + ec.labelled() + " labels added");
        } catch (KernelFormatException | java.io.IOException e) {
            log.appendMsg(NAME, "exports: " + e.getMessage());
        }
    }

    @Override
    public void registerOptions(ghidra.framework.options.Options options, Program program) {
        options.registerOption(OPT_BTF, applyBtf, null,
                "Create the kernel's BTF types (CONFIG_DEBUG_INFO_BTF) and apply its function prototypes and variable types");
    }

    @Override
    public void optionsChanged(ghidra.framework.options.Options options, Program program) {
        applyBtf = options.getBoolean(OPT_BTF, applyBtf);
    }

    @Override
    public boolean added(Program program, AddressSetView set, TaskMonitor monitor, MessageLog log) throws CancelledException {
        KallsymsTable k = table(program);
        if (k == null) return false;
        try (AutoCloseable cache = DatabaseCache.widen(program, Long.getLong("kernelloader.dbCacheMB", 512) << 20)) {
            KernelProgramBuilder.Counts c = KernelProgramBuilder.applySymbols(program, k, true, monitor);
            program.getOptions(Program.PROGRAM_INFO).setInt("Linux kallsyms labels", c.labels());
            program.getOptions(Program.PROGRAM_INFO).setString("Linux kallsyms layout", k.layout().era() + ", "
                    + k.layout().encoding().description() + ", " + k.size() + " symbols");
            log.appendMsg(NAME, "kallsyms: " + c.labels() + " labels, " + c.functions() + " functions (" + k.baseEvidence() + ")");
            markExports(program, k, monitor, log);
            if (applyBtf) {
                KernelImage img = ProgramKernel.image(program);
                KernelLoad.applyBtf(NAME, program, kernelloader.btf.BtfLocator.find(img, ScriptSupport.layout(program, img), k), k, monitor, log);
            }
            return true;
        } catch (CancelledException e) {
            throw e;
        } catch (Exception e) {
            log.appendMsg(NAME, "could not apply kallsyms: " + e);
            return false;
        }
    }
}
