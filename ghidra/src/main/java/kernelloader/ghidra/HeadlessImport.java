package kernelloader.ghidra;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import ghidra.GhidraJarApplicationLayout;
import ghidra.app.util.importer.AutoImporter;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.LoadResults;
import ghidra.base.project.GhidraProject;
import ghidra.framework.Application;
import ghidra.framework.HeadlessGhidraApplicationConfiguration;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;

/**
 * `./kallsyms import`: starts the Ghidra the tool was built with, headless and in-process,
 * imports a kernel file into a project with best-guess loading (which picks our loader), saves
 * it and says what it made.
 */
public final class HeadlessImport implements kernelloader.cli.ProgramImporter {
    /** For ServiceLoader (./kallsyms import). */
    public HeadlessImport() {}

    @Override
    public Map<String, Object> importInto(Path file, Path projectDir, String name, Map<String, String> loaderArgs) throws Exception {
        return importInto(file.toFile(), projectDir, name, pairs(loaderArgs));
    }

    @Override
    public void importIntoRepository(java.util.List<Path> files, String url, String user, String keystore, String commit,
                                     Map<String, String> loaderArgs) throws Exception {
        importIntoRepository(files, url, user, keystore, commit, pairs(loaderArgs));
    }

    private static java.util.List<generic.stl.Pair<String, String>> pairs(Map<String, String> args) {
        java.util.List<generic.stl.Pair<String, String>> out = new java.util.ArrayList<>();
        args.forEach((k, v) -> out.add(new generic.stl.Pair<>(k, v)));
        return out;
    }

    /** Starts Ghidra once per JVM and makes our extension classes known to it. */
    public static synchronized void startGhidra() throws Exception {
        if (!Application.isInitialized()) {
            if (System.getProperty("log4j.configurationFile") == null) {
                // Ghidra reads this property as a file path: hand it a copy of our stderr config
                Path conf = Files.createTempFile("kallsyms-log4j", ".xml");
                conf.toFile().deleteOnExit();
                try (var in = HeadlessImport.class.getResourceAsStream("/kernelloader/ghidra-log4j.xml")) {
                    Files.copy(in, conf, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                System.setProperty("log4j.configurationFile", conf.toString());
            }
            // stdout is for our summary: whatever Ghidra's start-up prints goes to stderr
            java.io.PrintStream out = System.out;
            System.setOut(System.err);
            try {
                Application.initializeApplication(new GhidraJarApplicationLayout(), new HeadlessGhidraApplicationConfiguration());
            } finally {
                System.setOut(out);
            }
        }
        ExtensionRegistration.register();
    }

    /** Imports {@code file} into the project at {@code projectDir} (created if absent); returns the summary. */
    public static Map<String, Object> importInto(File file, Path projectDir, String name) throws Exception {
        return importInto(file, projectDir, name, java.util.List.of());
    }

    /**
     * As above; {@code loaderArgs} are our loader's options as analyzeHeadless takes them
     * ("-loader-applyBtf", "false"), and given any, our loader is used without a best guess.
     */
    public static Map<String, Object> importInto(File file, Path projectDir, String name,
                                                 java.util.List<generic.stl.Pair<String, String>> loaderArgs) throws Exception {
        long t0 = System.nanoTime();
        startGhidra();
        Files.createDirectories(projectDir);
        String projectName = projectDir.getFileName().toString();
        Path parent = projectDir.toAbsolutePath().getParent();
        boolean exists = Files.exists(projectDir.resolve(projectName + ".gpr"));
        GhidraProject project = exists ? GhidraProject.openProject(projectDir.toString(), projectName)
                : GhidraProject.createProject(projectDir.toString(), projectName, false);
        Object consumer = new Object();
        MessageLog log = new MessageLog();
        ghidra.framework.model.DomainFile saved;
        Map<String, Object> summary;
        try {
            LoadResults<Program> results = loaderArgs.isEmpty()
                    ? AutoImporter.importByUsingBestGuess(file, project.getProject(), "/", consumer, log, TaskMonitor.DUMMY)
                    : AutoImporter.importByUsingSpecificLoaderClass(file, project.getProject(), "/", LinuxKernelLoader.class, loaderArgs,
                            consumer, log, TaskMonitor.DUMMY);
            if (results == null || results.size() == 0) {
                throw new IllegalStateException(file + ": Ghidra found no loader for this file: " + log);
            }
            long loaded = System.nanoTime();
            try {
                Program p = results.getPrimaryDomainObject();
                results.save(project.getProject(), consumer, log, TaskMonitor.DUMMY);
                long savedAt = System.nanoTime();
                saved = results.getPrimary().getSavedDomainFile();
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("program", saved.getPathname());
                out.put("project", projectDir.toAbsolutePath().toString());
                out.put("loader", p.getExecutableFormat());
                out.put("language", p.getLanguageID().getIdAsString());
                out.put("compiler_spec", p.getCompilerSpec().getCompilerSpecID().getIdAsString());
                out.put("base_address", "0x" + Long.toHexString(p.getImageBase().getOffset()));
                out.put("blocks", p.getMemory().getBlocks().length);
                out.put("labels", p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
                out.put("functions", p.getFunctionManager().getFunctionCount());
                out.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
                out.put("load_seconds", Math.round((loaded - t0) / 1e7) / 100.0);
                out.put("save_seconds", Math.round((savedAt - loaded) / 1e7) / 100.0);
                out.put("log", log.toString().trim());
                if (parent == null) out.remove("project");
                summary = out;
            } finally {
                results.release(consumer);
            }
            // a saved program can be renamed once nothing holds it open
            if (name != null && !name.equals(saved.getName())) summary.put("program", saved.setName(name).getPathname());
            return summary;
        } finally {
            project.close();
        }
    }

    /**
     * Imports {@code files} into a Ghidra Server repository ({@code ghidra://host[:port]/repo[/folder]})
     * the way analyzeHeadless does (its own HeadlessAnalyzer.processURL, no analysis, our loader),
     * checking them in when {@code commitComment} is given.
     */
    public static void importIntoRepository(java.util.List<Path> files, String url, String user, String keystore,
                                            String commitComment, java.util.List<generic.stl.Pair<String, String>> loaderArgs) throws Exception {
        java.net.URL u;
        try {
            u = new java.net.URL(url);
        } catch (java.net.MalformedURLException e) {
            // the ghidra: protocol handler is registered when Ghidra starts
            startGhidra();
            u = new java.net.URL(url);
        }
        startGhidra();
        if (!ghidra.framework.protocol.ghidra.GhidraURL.isServerRepositoryURL(u)) {
            throw new java.io.IOException(url + ": not a Ghidra Server repository URL (ghidra://host[:port]/repository[/folder])");
        }
        ghidra.app.util.headless.HeadlessAnalyzer h = ghidra.app.util.headless.HeadlessAnalyzer.getInstance();
        ghidra.app.util.headless.HeadlessOptions o = h.getOptions();
        o.reset();
        o.enableAnalysis(false);
        o.setLoader(LinuxKernelLoader.class.getSimpleName(), loaderArgs);
        o.setCommitFiles(commitComment != null, commitComment);
        if (user != null || keystore != null) o.setClientCredentials(user, keystore, false);
        // processURL reports a server it cannot reach in its log, not by an exception: check first
        String host = u.getHost();
        int port = u.getPort() > 0 ? u.getPort() : ghidra.framework.remote.GhidraServerHandle.DEFAULT_PORT;
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(host, port), 10_000);
        } catch (java.io.IOException e) {
            throw new java.io.IOException("cannot reach the Ghidra Server of " + url + " (" + host + ":" + port + "): " + e.getMessage());
        }
        java.util.List<java.io.File> list = new java.util.ArrayList<>();
        for (Path f : files) list.add(f.toFile());
        h.processURL(u, list);
    }
}
