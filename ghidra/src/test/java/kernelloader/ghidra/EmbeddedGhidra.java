package kernelloader.ghidra;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import generic.stl.Pair;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.Loader;
import ghidra.program.model.lang.Language;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.model.listing.Program;
import ghidra.program.util.DefaultLanguageService;
import ghidra.util.task.TaskMonitor;

/**
 * The Ghidra the module is built against (the single-jar Ghidra 10.3 from Maven Central, or an
 * installation's jars), started headless inside the test JVM
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
        GhidraStart.headless();
        started = true;
    }

    /** Imports {@code file} with the given loader, without a project. */
    public static Program importWith(File file, Class<? extends Loader> loader, Object consumer) throws Exception {
        return importWith(file, loader, List.of(), consumer);
    }

    /** As above, with loader arguments as analyzeHeadless passes them ("-loader-kallsymsTable", "1"). */
    public static Program importWith(File file, Class<? extends Loader> loader,
                                     List<Pair<String, String>> args, Object consumer) throws Exception {
        return load(file, loader, args, null, consumer);
    }

    /** As above, in the language {@code languageId} ("ARM:LE:32:v7") with its default compiler spec. */
    public static Program importWith(File file, Class<? extends Loader> loader, List<Pair<String, String>> args,
                                     String languageId, Object consumer) throws Exception {
        start();
        return load(file, loader, args, DefaultLanguageService.getLanguageService().getLanguage(new LanguageID(languageId)), consumer);
    }

    /** Imports {@code file} with whichever loader Ghidra picks, without a project. */
    public static Program importBestGuess(File file, Object consumer) throws Exception {
        return load(file, null, List.of(), null, consumer);
    }

    private static Program load(File file, Class<? extends Loader> loader, List<Pair<String, String>> args, Language language,
                                Object consumer) throws Exception {
        start();
        MessageLog log = new MessageLog();
        try (GhidraImport imported = GhidraImport.of(file, null, loader, args, language, log, TaskMonitor.DUMMY)) {
            if (imported == null) throw new IllegalStateException("Ghidra imported nothing: " + log);
            lastLog = log.toString();
            return imported.primary(consumer);
        }
    }
}
