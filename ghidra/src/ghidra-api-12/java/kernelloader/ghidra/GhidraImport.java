package kernelloader.ghidra;

import java.io.File;
import java.util.List;

import generic.stl.Pair;
import ghidra.app.util.headless.HeadlessOptions;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.importer.ProgramLoader;
import ghidra.app.util.opinion.LoadException;
import ghidra.app.util.opinion.LoadResults;
import ghidra.app.util.opinion.Loader;
import ghidra.framework.model.DomainFile;
import ghidra.framework.model.Project;
import ghidra.program.model.lang.Language;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;

/**
 * One import of a file into a program, through Ghidra 12's ProgramLoader (LoadResults that are
 * closed, not released). src/ghidra-api-10 has the same class over AutoImporter.
 */
public final class GhidraImport implements AutoCloseable {
    private final LoadResults<Program> results;

    private GhidraImport(LoadResults<Program> results) {
        this.results = results;
    }

    /** See src/ghidra-api-10's class: the same contract. */
    public static GhidraImport of(File file, Project project, Class<? extends Loader> loader,
                                  List<Pair<String, String>> args, MessageLog log, TaskMonitor monitor) throws Exception {
        return of(file, project, loader, args, null, log, monitor);
    }

    public static GhidraImport of(File file, Project project, Class<? extends Loader> loader,
                                  List<Pair<String, String>> args, Language language, MessageLog log, TaskMonitor monitor)
            throws Exception {
        ProgramLoader.Builder b = ProgramLoader.builder().source(file).project(project).projectFolderPath("/")
                .log(log).monitor(monitor);
        if (loader != null) b = b.loaders(loader).loaderArgs(args);
        if (language != null) b = b.language(language).compiler(language.getDefaultCompilerSpec());
        LoadResults<Program> r;
        try {
            r = b.load();
        } catch (LoadException e) {
            return null;
        }
        if (r == null) return null;
        if (r.size() == 0) {
            r.close();
            return null;
        }
        return new GhidraImport(r);
    }

    public Program primary(Object consumer) {
        return results.getPrimaryDomainObject(consumer);
    }

    public DomainFile save(Project project, MessageLog log, TaskMonitor monitor) throws Exception {
        results.save(monitor);
        return results.getPrimary().getSavedDomainFile();
    }

    @Override
    public void close() {
        results.close();
    }

    public static void setLoader(HeadlessOptions options, String loaderName, List<Pair<String, String>> args) throws Exception {
        options.setLoader(loaderName);
        options.setLoaderArgs(args);
    }
}
