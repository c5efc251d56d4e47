package kernelloader.ghidra;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import generic.stl.Pair;
import ghidra.GhidraJarApplicationLayout;
import ghidra.app.util.importer.AutoImporter;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.LoadResults;
import ghidra.app.util.opinion.Loader;
import ghidra.framework.Application;
import ghidra.framework.HeadlessGhidraApplicationConfiguration;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;

/**
 * The complete single-jar Ghidra 10.3 from Maven Central, started headless inside the test JVM
 * (once: Ghidra cannot be initialised twice), with its settings, cache and temp files under
 * target/.
 */
public final class EmbeddedGhidra {
    private static boolean started;
    /** The import log of the last import, for failure messages. */
    public static String lastLog = "";

    private EmbeddedGhidra() {}

    /** Starts Ghidra once, and makes our loader, analyzer and exporters known to it (as `./kallsyms import` does). */
    public static synchronized void start() throws Exception {
        if (started) return;
        Path home = Path.of(System.getProperty("java.io.tmpdir"), "ghidra-home");
        Files.createDirectories(home);
        System.setProperty("user.home", home.toString());
        Application.initializeApplication(new GhidraJarApplicationLayout(), new HeadlessGhidraApplicationConfiguration());
        ExtensionRegistration.register();
        started = true;
    }

    /** Imports {@code file} with the given loader, without a project. */
    public static Program importWith(File file, Class<? extends Loader> loader, Object consumer) throws Exception {
        return importWith(file, loader, List.of(), consumer);
    }

    /** As above, with loader arguments as analyzeHeadless passes them ("-loader-kallsymsTable", "1"). */
    public static Program importWith(File file, Class<? extends Loader> loader,
                                     List<Pair<String, String>> args, Object consumer) throws Exception {
        start();
        MessageLog log = new MessageLog();
        LoadResults<Program> results = AutoImporter.importByUsingSpecificLoaderClass(file, null, "/", loader, args,
                consumer, log, TaskMonitor.DUMMY);
        if (results == null || results.size() == 0) throw new IllegalStateException("Ghidra imported nothing: " + log);
        lastLog = log.toString();
        return results.getPrimaryDomainObject();
    }

    /** Imports {@code file} with whichever loader Ghidra picks, without a project. */
    public static Program importBestGuess(File file, Object consumer) throws Exception {
        start();
        MessageLog log = new MessageLog();
        LoadResults<Program> results = AutoImporter.importByUsingBestGuess(file, null, "/", consumer, log, TaskMonitor.DUMMY);
        if (results == null || results.size() == 0) throw new IllegalStateException("Ghidra imported nothing: " + log);
        lastLog = log.toString();
        return results.getPrimaryDomainObject();
    }
}
