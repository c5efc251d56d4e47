package kernelloader.ghidra;

import ghidra.app.services.AbstractAnalyzer;
import ghidra.app.services.AnalysisPriority;
import ghidra.app.services.AnalyzerType;
import ghidra.app.util.importer.MessageLog;
import ghidra.framework.options.Options;
import ghidra.program.model.address.AddressSetView;
import ghidra.program.model.listing.Program;
import ghidra.util.exception.CancelledException;
import ghidra.util.task.TaskMonitor;
import kernelloader.image.Facet;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;

/**
 * Applies kallsyms to a kernel that another loader brought in (a stripped vmlinux through the
 * ELF loader, a raw binary at its base, a memory dump): reads the program's memory into the
 * core's model ({@link ProgramKernels}, the same search as the loader's) and runs the program
 * builder's steps after memory: labels and functions, export marks, BTF. Enabled by default
 * only where it finds a table.
 */
public class KallsymsAnalyzer extends AbstractAnalyzer {
    static final String NAME = "Linux kallsyms";
    static final String OPT_BTF = LoaderOptions.BTF;
    private boolean applyBtf = true;

    public KallsymsAnalyzer() {
        super(NAME, "Finds the Linux kernel's kallsyms symbol table in memory and labels every symbol", AnalyzerType.BYTE_ANALYZER);
        setPriority(AnalysisPriority.FORMAT_ANALYSIS.before());
        setSupportsOneTimeAnalysis();
    }

    @Override
    public boolean canAnalyze(Program program) {
        // our loaders already applied the table (the module loader puts the kernel in first)
        return !LinuxKernelLoader.NAME.equals(program.getExecutableFormat()) && !LinuxModuleLoader.NAME.equals(program.getExecutableFormat())
                && ProgramKernels.of(program).present();
    }

    @Override
    public boolean getDefaultEnablement(Program program) {
        return ProgramKernels.of(program).present();
    }

    @Override
    public void registerOptions(Options options, Program program) {
        options.registerOption(OPT_BTF, applyBtf, null,
                "Create the kernel's BTF types (CONFIG_DEBUG_INFO_BTF) and apply its function prototypes and variable types");
    }

    @Override
    public void optionsChanged(Options options, Program program) {
        applyBtf = options.getBoolean(OPT_BTF, applyBtf);
    }

    @Override
    public boolean added(Program program, AddressSetView set, TaskMonitor monitor, MessageLog log) throws CancelledException {
        Facet<Kernel> f = ProgramKernels.of(program);
        if (!f.present()) return false;
        Kernel k = f.orNull();
        KallsymsTable t = k.kallsyms().orNull();
        try (AutoCloseable cache = DatabaseCache.widen(program, Long.getLong("kernelloader.dbCacheMB", 512) << 20)) {
            KernelProgramBuilder.Counts c = KernelProgramBuilder.applySymbols(program, t, k.layout().get(), true, monitor);
            KernelProgramBuilder.recordKallsyms(program, t, c);
            log.appendMsg(NAME, "kallsyms: " + c.labels() + " labels, " + c.functions() + " functions (" + t.baseEvidence() + ")");
            KernelProgramBuilder.markExports(NAME, program, k, monitor, log);
            if (applyBtf) KernelProgramBuilder.applyBtf(NAME, program, k, monitor, log);
            // as for our loader's programs: Ghidra's guess would take ftrace's hooks for no-return
            program.getOptions(Program.ANALYSIS_PROPERTIES).setBoolean(KernelProgramBuilder.NO_RETURN_DISCOVERY, false);
            KernelProgramBuilder.applyCode(NAME, program, k, true, monitor, log);
            KernelProgramBuilder.logChecks(NAME, k, log);
            return true;
        } catch (CancelledException e) {
            throw e;
        } catch (Exception e) {
            log.appendMsg(NAME, "could not apply kallsyms: " + e);
            return false;
        }
    }
}
