package kernelloader.ghidra;

import java.io.File;
import java.util.List;

import generic.stl.Pair;
import ghidra.app.util.headless.HeadlessOptions;
import ghidra.app.util.importer.AutoImporter;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.LoadException;
import ghidra.app.util.opinion.LoadResults;
import ghidra.app.util.opinion.Loader;
import ghidra.framework.model.DomainFile;
import ghidra.framework.model.Project;
import ghidra.program.model.lang.Language;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;

/**
 * One import of a file into a program, through the importer API of Ghidra 10.3 to 11.x
 * (AutoImporter, LoadResults that hold a consumer). src/ghidra-api-12 has the same class over
 * Ghidra 12's ProgramLoader. Everything else that imports (HeadlessImport, the tests) goes
 * through this class, so the API difference stays here.
 */
public final class GhidraImport implements AutoCloseable {
    private final LoadResults<Program> results;
    /** The consumer AutoImporter opened the programs for; released by close(). */
    private final Object owner;

    private GhidraImport(LoadResults<Program> results, Object owner) {
        this.results = results;
        this.owner = owner;
    }

    /**
     * Imports {@code file} into {@code project} (null: no project) with {@code loader} and its
     * {@code args} ("-loader-applyBtf", "false"), or with Ghidra's best guess when {@code loader}
     * is null. Null when no loader took the file.
     */
    public static GhidraImport of(File file, Project project, Class<? extends Loader> loader,
                                  List<Pair<String, String>> args, MessageLog log, TaskMonitor monitor) throws Exception {
        return of(file, project, loader, args, null, log, monitor);
    }

    /** As above, in {@code language} (null: the loader's choice) with its default compiler spec. */
    public static GhidraImport of(File file, Project project, Class<? extends Loader> loader,
                                  List<Pair<String, String>> args, Language language, MessageLog log, TaskMonitor monitor)
            throws Exception {
        Object consumer = new Object();
        LoadResults<Program> r;
        try {
            if (loader == null) r = AutoImporter.importByUsingBestGuess(file, project, "/", consumer, log, monitor);
            else if (language == null) r = AutoImporter.importByUsingSpecificLoaderClass(file, project, "/", loader, args, consumer, log, monitor);
            else r = AutoImporter.importByUsingSpecificLoaderClassAndLcs(file, project, "/", loader, args, language,
                    language.getDefaultCompilerSpec(), consumer, log, monitor);
        } catch (LoadException e) {
            return null;
        }
        if (r == null) return null;
        if (r.size() == 0) {
            r.release(consumer);
            return null;
        }
        return new GhidraImport(r, consumer);
    }

    /** The primary program, with {@code consumer} added: the caller releases it. */
    public Program primary(Object consumer) {
        Program p = results.getPrimaryDomainObject();
        p.addConsumer(consumer);
        return p;
    }

    /** Saves what was imported into {@code project}; the primary program's file. */
    public DomainFile save(Project project, MessageLog log, TaskMonitor monitor) throws Exception {
        results.save(project, owner, log, monitor);
        return results.getPrimary().getSavedDomainFile();
    }

    @Override
    public void close() {
        results.release(owner);
    }

    /** analyzeHeadless' -loader NAME -loader-ARG VALUE... */
    public static void setLoader(HeadlessOptions options, String loaderName, List<Pair<String, String>> args) throws Exception {
        options.setLoader(loaderName, args);
    }
}
