package kernelloader.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelVersion;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.ModuleSymvers;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kallsyms sweep PATH...}: every file under the paths (directories walked), read in
 * parallel, one result line per file in path order, so that a firmware collection can be
 * surveyed in one run. Memory stays bounded: only --jobs files are in memory at once.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Read every file under the PATHs (directories are walked) in parallel; print one line per file"
                + " (JSON lines with --json): kernel version, architecture, base, symbols, exports, BTF types, or why it is not a kernel.")
final class SweepCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", arity = "1..*", description = "files or directories")
    List<Path> paths;

    @Option(names = "--json", description = "one JSON object per line")
    boolean json;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", description = "files read at once (default: cores, at most 4)")
    int jobs = Math.min(4, Runtime.getRuntime().availableProcessors());

    @Option(names = "--kallsyms-dir", paramLabel = "DIR", description = "also write each kernel's /proc/kallsyms listing to DIR/<file>.kallsyms")
    Path kallsymsDir;

    @Option(names = "--symvers-dir", paramLabel = "DIR", description = "also write each kernel's Module.symvers lines to DIR/<file>.symvers")
    Path symversDir;

    @Option(names = "--progress", description = "say on stderr which file is done, as it happens (default: when stderr is a terminal)")
    Boolean progress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (jobs < 1) throw new KernelFormatException("--jobs must be 1 or more");
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                List<Path> found = new ArrayList<>();
                // an unreadable directory is skipped with a word on stderr, not the end of the sweep
                Files.walkFileTree(p, new java.nio.file.SimpleFileVisitor<>() {
                    @Override
                    public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
                        if (a.isRegularFile()) found.add(f);
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) {
                        spec.commandLine().getErr().println("kallsyms: skipped " + f + ": " + e.getMessage());
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                });
                found.sort(null);
                files.addAll(found);
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new KernelFormatException(p + ": no such file or directory");
            }
        }
        for (Path d : new Path[] {kallsymsDir, symversDir}) if (d != null) Files.createDirectories(d);
        boolean say = progress != null ? progress : System.console() != null;
        PrintWriter err = spec.commandLine().getErr();
        Gson gson = new GsonBuilder().disableHtmlEscaping().create();
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "sweep");
            t.setDaemon(true);
            return t;
        });
        int kernels = 0, done = 0;
        long t0 = System.nanoTime();
        try {
            List<Future<Map<String, Object>>> results = new ArrayList<>();
            for (Path f : files) results.add(pool.submit(() -> one(f)));
            for (Future<Map<String, Object>> fu : results) {
                Map<String, Object> r = fu.get();
                done++;
                if (Boolean.TRUE.equals(r.get("kernel"))) kernels++;
                System.out.println(json ? gson.toJson(r) : text(r));
                if (say) err.printf("kallsyms: [%d/%d] %s%n", done, files.size(), r.get("file"));
            }
        } finally {
            pool.shutdownNow();
        }
        err.printf("kallsyms: %d files, %d kernels, %.1f s%n", files.size(), kernels, (System.nanoTime() - t0) / 1e9);
        System.out.flush();
        return 0;
    }

    /** What one file is; never throws: a file that is not a kernel is a result too. */
    private Map<String, Object> one(Path f) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", f.toString());
        long t0 = System.nanoTime();
        try {
            r.put("size", Files.size(f));
            KernelModel m = KernelReader.read(f, KallsymsFinder.Hints.NONE);
            KernelLayout layout = LayoutInference.infer(m.image(), m.kallsyms(), LayoutInference.Overrides.NONE);
            r.put("kernel", true);
            r.put("layers", m.image().describeLayers());
            KernelVersion v = m.version();
            r.put("kernel_version", v == null ? null : v.release());
            r.put("arch", layout.arch() == null ? null : layout.arch().value().name().toLowerCase());
            r.put("bits", layout.bits());
            r.put("endian", layout.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "little" : "big");
            r.put("base_address", "0x" + Long.toHexString(layout.base().value()));
            r.put("ghidra_language", layout.ghidraLanguage());
            r.put("symbols", m.kallsyms().size());
            if (kallsymsDir != null) {
                try (Writer w = Files.newBufferedWriter(kallsymsDir.resolve(f.getFileName() + ".kallsyms"), StandardCharsets.ISO_8859_1)) {
                    m.kallsyms().writeProcKallsyms(w);
                }
            }
            // before the exports, which apply relocations to the image (BTF holds no pointers, but read it as shipped)
            kernelloader.btf.BtfLocator.Outcome btf = KernelReader.btf(m, layout);
            r.put("btf_types", btf.found() == null ? 0 : btf.found().btf().types().size());
            try {
                ExportTable t = KernelReader.exports(m, layout);
                r.put("exports", t.exports().size());
                r.put("crcs", t.crcs().description);
                if (symversDir != null) {
                    try (Writer w = Files.newBufferedWriter(symversDir.resolve(f.getFileName() + ".symvers"), StandardCharsets.ISO_8859_1)) {
                        ModuleSymvers.write(t, ModuleSymvers.Columns.of(v), w);
                    }
                }
            } catch (KernelFormatException e) {
                r.put("exports", 0);
                r.put("exports_error", e.getMessage());
            }
        } catch (KernelFormatException | IOException e) {
            r.put("kernel", false);
            r.put("error", String.valueOf(e.getMessage()).replace('\n', ' '));
        } catch (OutOfMemoryError e) {
            r.put("kernel", false);
            r.put("error", "out of memory reading this file with " + jobs + " jobs: try --jobs 1");
        } catch (RuntimeException e) {
            // a bug, not the file's fault: still one line, and the sweep goes on
            r.put("kernel", false);
            r.put("error", "internal error: " + e);
        }
        r.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
        return r;
    }

    private static String text(Map<String, Object> r) {
        if (!Boolean.TRUE.equals(r.get("kernel"))) return r.get("file") + ": not read: " + r.get("error");
        return String.format("%s: Linux %s, %s %s-bit %s-endian, base %s, %s symbols, %s exports (CRCs: %s), %s",
                r.get("file"), r.get("kernel_version"), r.get("arch"), r.get("bits"), r.get("endian"), r.get("base_address"),
                r.get("symbols"), r.get("exports"), r.getOrDefault("crcs", "-"),
                Integer.valueOf(0).equals(r.get("btf_types")) ? "no BTF" : r.get("btf_types") + " BTF types");
    }
}
