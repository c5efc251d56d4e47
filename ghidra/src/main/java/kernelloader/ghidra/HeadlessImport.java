package kernelloader.ghidra;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.Socket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import generic.stl.Pair;
import ghidra.app.util.headless.HeadlessAnalyzer;
import ghidra.app.util.headless.HeadlessOptions;
import ghidra.app.util.importer.MessageLog;
import ghidra.base.project.GhidraProject;
import ghidra.framework.Application;
import ghidra.framework.model.DomainFile;
import ghidra.framework.protocol.ghidra.GhidraURL;
import ghidra.framework.remote.GhidraServerHandle;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;
import kernelloader.cli.ProgramImporter;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;

/**
 * `./kallsyms import`, the CLI's one door into Ghidra (found by ServiceLoader): starts the Ghidra
 * the tool was built with, headless and in-process, imports a kernel file into a project with
 * our loader, saves it and says what it made.
 */
public final class HeadlessImport implements ProgramImporter {
    /** For ServiceLoader. */
    public HeadlessImport() {}

    /** Starts Ghidra once per JVM (see {@link GhidraStart}). */
    public static synchronized void startGhidra() throws Exception {
        GhidraStart.headless();
    }

    /**
     * Imports {@code file} into the project at {@code projectDir} (created if absent; relative to
     * the working directory); returns the summary. A project this call created is removed again
     * if the import fails, and so is the folder if it created that too.
     */
    @Override
    public Map<String, Object> importInto(Path file, Path projectDir, String name, Settings settings) throws Exception {
        long t0 = System.nanoTime();
        startGhidra();
        Path dir = projectDir.toAbsolutePath().normalize();
        String projectName = dir.getFileName().toString();
        Path gpr = dir.resolve(projectName + ".gpr"), rep = dir.resolve(projectName + ".rep");
        boolean exists = Files.exists(gpr);
        if (!exists && Files.exists(rep)) {
            // Ghidra would make a project over it (and remove it if that failed): not ours to touch
            throw new IOException(dir + " holds " + rep.getFileName() + " but no " + gpr.getFileName()
                    + ": a damaged or half-copied Ghidra project; move it away or give another --project");
        }
        // what this call makes, so that a failure removes exactly that: folders, and the project
        // only if neither of its two parts was there before
        List<Path> madeFolders = new ArrayList<>();
        for (Path d = dir; d != null && !Files.exists(d); d = d.getParent()) madeFolders.add(d);
        boolean madeProject = !exists;
        Files.createDirectories(dir);
        boolean imported = false;
        KernelCache.readWith(file.toFile(), settings.kernel());
        try {
            GhidraProject project = exists ? GhidraProject.openProject(dir.toString(), projectName)
                    : GhidraProject.createProject(dir.toString(), projectName, false);
            try {
                Map<String, Object> summary = importOne(project, file.toFile(), dir, name, settings, t0);
                imported = true;
                return summary;
            } finally {
                project.close();
            }
        } catch (Exception e) {
            if (!imported) removeMade(madeProject ? List.of(gpr, rep) : List.of(), madeFolders, e);
            throw e;
        } finally {
            KernelCache.forget(file.toFile());
        }
    }

    private static Map<String, Object> importOne(GhidraProject project, File file, Path dir, String name, Settings settings, long t0)
            throws Exception {
        List<Pair<String, String>> loaderArgs = loaderArgs(settings);
        Object consumer = new Object();
        MessageLog log = new MessageLog();
        DomainFile existing = importedBefore(project, file);
        if (existing != null && !settings.overwrite()) {
            throw new IOException(dir + " already holds " + file + " as " + existing.getPathname() + ": --overwrite replaces it");
        }
        ProgressLines progress = new ProgressLines(System.err);
        // our loader only: a file it does not take is not imported by another (the PE loader
        // would take a zImage it cannot read, and print its warnings on the way)
        GhidraImport imported = GhidraImport.of(file, project.getProject(), LinuxKernelLoader.class, loaderArgs, log, progress);
        if (imported == null) throw new KernelFormatException(whyNot(file, settings));
        DomainFile saved;
        Map<String, Object> out = new LinkedHashMap<>();
        long loaded = System.nanoTime();
        try (imported) {
            Program p = imported.primary(consumer);
            try {
                if (!settings.modules().isEmpty()) addModules(p, file, settings, progress, log);
                if (settings.analyze()) analyze(p, progress, log);
                // the old program goes only now that the new one is made
                if (existing != null) existing.delete();
                saved = imported.save(project.getProject(), log, progress);
                long savedAt = System.nanoTime();
                out.put("program", saved.getPathname());
                out.put("project", dir.toString());
                out.put("loader", p.getExecutableFormat());
                out.put("language", p.getLanguageID().getIdAsString());
                out.put("compiler_spec", p.getCompilerSpec().getCompilerSpecID().getIdAsString());
                out.put("base_address", "0x" + Long.toHexString(p.getImageBase().getOffset()));
                out.put("blocks", p.getMemory().getBlocks().length);
                out.put("labels", p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
                out.put("functions", p.getFunctionManager().getFunctionCount());
                if (!settings.modules().isEmpty()) {
                    out.put("modules", p.getOptions(Program.PROGRAM_INFO).getString(ModuleLoad.LOADED, "").lines().count());
                }
                out.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
                out.put("load_seconds", Math.round((loaded - t0) / 1e7) / 100.0);
                out.put("save_seconds", Math.round((savedAt - loaded) / 1e7) / 100.0);
                out.put("log", log.toString().trim());
            } finally {
                p.release(consumer);
            }
        }
        // a saved program can be renamed once nothing holds it open
        if (name != null && !name.equals(saved.getName())) out.put("program", saved.setName(name).getPathname());
        return out;
    }

    /** The --module files linked into the kernel's program, as the module loader's Add To Program links them. */
    private static void addModules(Program p, File kernel, Settings settings, ProgressLines progress, MessageLog log) throws Exception {
        List<kernelloader.module.KernelModuleFile> modules = new ArrayList<>();
        for (Path m : settings.modules()) modules.add(kernelloader.module.KernelModuleFile.read(m.toAbsolutePath().toString(), Files.readAllBytes(m)));
        int tx = p.startTransaction("Add kernel modules");
        boolean done = false;
        try {
            ModuleLoad.addModules(ModuleLoad.NAME, p, kernel.toPath(), settings.kernel(), modules, null, Map.of(), null, settings.btf(), progress, log);
            done = true;
        } finally {
            p.endTransaction(tx, done);
        }
    }

    /**
     * The program in the project's root folder imported from this very file (Ghidra records
     * each program's "Executable Location"), or null. Another file of the same name is no
     * conflict: Ghidra saves it under a name of its own (image.1), as before.
     */
    private static DomainFile importedBefore(GhidraProject project, File file) {
        String path = file.getAbsoluteFile().toPath().normalize().toString();
        for (DomainFile f : project.getProject().getProjectData().getRootFolder().getFiles()) {
            String from = f.getMetadata().get("Executable Location");
            if (from != null && Path.of(from).normalize().toString().equals(path)) return f;
        }
        return null;
    }

    /** Ghidra's auto-analysis with the program's analysis options, as analyzeHeadless runs it. */
    private static void analyze(Program p, ProgressLines progress, MessageLog log) throws Exception {
        long t0 = System.nanoTime();
        progress.setMessage("Ghidra auto-analysis");
        ghidra.app.plugin.core.analysis.AutoAnalysisManager mgr = ghidra.app.plugin.core.analysis.AutoAnalysisManager.getAnalysisManager(p);
        int tx = p.startTransaction("auto-analysis");
        try {
            mgr.initializeOptions();
            mgr.reAnalyzeAll(null);
            mgr.startAnalysis(progress);
        } finally {
            p.endTransaction(tx, true);
        }
        log.appendMsg("auto-analysis", String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
    }

    /** Why our loader did not take {@code file}: the core's own reason (what was searched), in one line. */
    private static String whyNot(File file, Settings settings) {
        try {
            Kernel k = Kernel.read(file.toPath(), settings.kernel());
            if (!k.kallsyms().present()) return k.kallsyms().why();
            String lang = k.layout().orNull() == null ? null : k.layout().orNull().ghidraLanguage();
            return file + ": a kernel, but " + (lang == null ? "its architecture has no processor in Ghidra"
                    : "this Ghidra (" + Application.getApplicationVersion() + ") has no language " + lang);
        } catch (IOException | KernelFormatException e) {
            return e.getMessage();
        }
    }

    /**
     * Removes what a failed import made: the project's two parts if it made them, then the
     * folders it made, innermost first, each only if empty. A failure here is added to the
     * import's error, not thrown instead of it.
     */
    private static void removeMade(List<Path> project, List<Path> folders, Exception cause) {
        try {
            for (Path p : project) {
                if (!Files.exists(p)) continue;
                try (Stream<Path> walk = Files.walk(p)) {
                    for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
                }
            }
            for (Path d : folders) {
                try (Stream<Path> in = Files.list(d)) {
                    if (in.findAny().isPresent()) break;   // someone else's now: leave it, and its parents
                }
                Files.delete(d);
            }
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * Imports {@code files} into a Ghidra Server repository ({@code ghidra://host[:port]/repo[/folder]})
     * the way analyzeHeadless does (its own HeadlessAnalyzer.processURL, no analysis, our loader),
     * checking them in when {@code commitComment} is given.
     */
    @Override
    public void importIntoRepository(List<Path> files, String url, String user, String keystore, String commitComment,
                                     Settings settings) throws Exception {
        URL u;
        try {
            u = new URL(url);
        } catch (MalformedURLException e) {
            // the ghidra: protocol handler is registered when Ghidra starts
            startGhidra();
            u = new URL(url);
        }
        startGhidra();
        if (!GhidraURL.isServerRepositoryURL(u)) {
            throw new IOException(url + ": not a Ghidra Server repository URL (ghidra://host[:port]/repository[/folder])");
        }
        HeadlessAnalyzer h = HeadlessAnalyzer.getInstance();
        HeadlessOptions o = h.getOptions();
        o.reset();
        o.enableAnalysis(false);
        GhidraImport.setLoader(o, LinuxKernelLoader.class.getSimpleName(), loaderArgs(settings));
        o.setCommitFiles(commitComment != null, commitComment);
        if (user != null || keystore != null) o.setClientCredentials(user, keystore, false);
        // processURL reports a server it cannot reach in its log, not by an exception: check first
        String host = u.getHost();
        int port = u.getPort() > 0 ? u.getPort() : GhidraServerHandle.DEFAULT_PORT;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 10_000);
        } catch (IOException e) {
            throw new IOException("cannot reach the Ghidra Server of " + url + " (" + host + ":" + port + "): " + e.getMessage());
        }
        List<File> list = new ArrayList<>();
        for (Path f : files) list.add(f.toFile());
        h.processURL(u, list);
    }

    /** The loader's options for {@code settings}, as analyzeHeadless takes them ("-loader-applyBtf", "false"). */
    static List<Pair<String, String>> loaderArgs(Settings settings) {
        List<Pair<String, String>> out = new ArrayList<>();
        for (String[] a : LoaderOptions.arguments(settings.kernel(), settings.btf(), settings.functions())) out.add(new Pair<>(a[0], a[1]));
        return out;
    }
}
