package kernelloader.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
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

import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;
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
                + " (JSON lines with --json; the fields of info --json's summary): kernel version, architecture, base, symbols, exports, BTF, or why it is not a kernel.")
final class SweepCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", arity = "1..*", description = "files or directories")
    List<Path> paths;

    @Option(names = "--json", description = "one JSON object per line")
    boolean json;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", description = "files read at once (default: cores, at most 4)")
    int jobs = Math.min(4, Runtime.getRuntime().availableProcessors());

    @Option(names = "--kallsyms-dir", paramLabel = "DIR", description = "also write each kernel's /proc/kallsyms listing to"
            + " DIR/<path>.kallsyms (<path>: the file's path under the PATH swept, folders kept; with several PATHs, under each one's name)")
    Path kallsymsDir;

    @Option(names = "--symvers-dir", paramLabel = "DIR", description = "also write each kernel's Module.symvers lines to DIR/<path>.symvers")
    Path symversDir;

    @Option(names = "--progress", description = "say on stderr which file is done, as it happens (default: when stderr is a terminal)")
    Boolean progress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (jobs < 1) throw new KernelFormatException("--jobs must be 1 or more");
        List<Path> files = new ArrayList<>();
        List<Path> names = new ArrayList<>();   // each file's output name, in the order of files
        java.util.Set<Path> taken = new java.util.HashSet<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                List<Path> found = new ArrayList<>();
                // an unreadable directory is skipped with a word on stderr, not the end of the sweep
                Files.walkFileTree(p, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                        if (a.isRegularFile()) found.add(f);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path f, IOException e) {
                        spec.commandLine().getErr().println("kallsyms: skipped " + f + ": " + e.getMessage());
                        return FileVisitResult.CONTINUE;
                    }
                });
                found.sort(null);
                for (Path f : found) {
                    Path rel = p.relativize(f);
                    Path under = paths.size() > 1 && p.toAbsolutePath().normalize().getFileName() != null
                            ? Path.of(p.toAbsolutePath().normalize().getFileName().toString()).resolve(rel) : rel;
                    names.add(unique(under, taken));
                }
                files.addAll(found);
            } else {
                kernelloader.image.InputFile.check(p);
                files.add(p);
                names.add(unique(p.getFileName(), taken));
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
            for (int i = 0; i < files.size(); i++) {
                Path f = files.get(i), name = names.get(i);
                results.add(pool.submit(() -> one(f, name)));
            }
            for (Future<Map<String, Object>> fu : results) {
                Map<String, Object> r = fu.get();
                done++;
                if (Boolean.TRUE.equals(r.get("kernel"))) kernels++;
                System.out.println(json ? gson.toJson(r) : text(r));
                if (say) err.printf("kallsyms: [%d/%d] %s%n", done, files.size(), printable(String.valueOf(r.get("file"))));
            }
        } finally {
            pool.shutdownNow();
        }
        err.printf("kallsyms: %d files, %d kernels, %.1f s%n", files.size(), kernels, (System.nanoTime() - t0) / 1e9);
        System.out.flush();
        return 0;
    }

    /**
     * {@code name}, or {@code name~2}, {@code name~3}... when another file of the sweep took it
     * already (two PATHs of the same name, or a file given twice): outputs never overwrite each other.
     */
    static Path unique(Path name, java.util.Set<Path> taken) {
        Path n = name;
        for (int i = 2; !taken.add(n); i++) n = name.resolveSibling(name.getFileName() + "~" + i);
        return n;
    }

    /** A file name fit for one line: backslash, control characters and DEL escaped as C does (\n, \t, \x7f). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '\\') b.append("\\\\");
            else if (c == '\n') b.append("\\n");
            else if (c == '\t') b.append("\\t");
            else if (c == '\r') b.append("\\r");
            else if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    /** Where this file's listing goes under {@code dir}: its name there, with {@code suffix}. */
    private static Path outputIn(Path dir, Path name, String suffix) throws IOException {
        Path out = dir.resolve(name.toString() + suffix).normalize();
        if (!out.startsWith(dir.normalize())) throw new IOException(name + ": a name that leads out of " + dir);
        Files.createDirectories(out.getParent());
        return out;
    }

    /** What one file is; never throws: a file that is not a kernel is a result too. */
    /**
     * Memory the files being read may take at once, in MiB: a file is held whole (a larger one
     * by windows of 1.25 GiB) with its decoded streams, so big dumps are read one or two at a
     * time however many jobs there are, and small files all in parallel.
     */
    private final java.util.concurrent.Semaphore memory = new java.util.concurrent.Semaphore(budgetMiB());

    private static int budgetMiB() {
        return (int) Math.max(512, Runtime.getRuntime().maxMemory() / (1 << 20) * 3 / 5);
    }

    /** What reading {@code f} is counted to need: the file (or its window) and room for what is decoded from it. */
    private static int needMiB(Path f) {
        long size;
        try {
            size = Files.size(f);
        } catch (IOException e) {
            size = 0;
        }
        return (int) Math.min(budgetMiB(), Math.min(size, 5L << 28) / (1 << 20) + 256);
    }

    private Map<String, Object> one(Path f, Path name) {
        int need = needMiB(f);
        memory.acquireUninterruptibly(need);
        try {
            return oneWithin(f, name);
        } finally {
            memory.release(need);
        }
    }

    private Map<String, Object> oneWithin(Path f, Path name) {
        long t0 = System.nanoTime();
        Map<String, Object> r;
        try {
            Kernel k = Kernel.read(f, KernelOptions.DEFAULT);
            r = KernelReport.summary(k);
            // each written whole or not at all (Output), at a name no other file of the sweep has
            if (k.kallsyms().present() && kallsymsDir != null) {
                Output.write(outputIn(kallsymsDir, name, ".kallsyms"), o -> {
                    Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(o, StandardCharsets.ISO_8859_1));
                    KernelOutputs.procKallsyms(k, w);
                    w.flush();
                });
                r.put("kallsyms_file", outputIn(kallsymsDir, name, ".kallsyms").toString());
            }
            if (k.exports().present() && symversDir != null) {
                Output.write(outputIn(symversDir, name, ".symvers"), o -> {
                    Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(o, StandardCharsets.ISO_8859_1));
                    KernelOutputs.moduleSymvers(k, w);
                    w.flush();
                });
                r.put("symvers_file", outputIn(symversDir, name, ".symvers").toString());
            }
        } catch (KernelFormatException | IOException e) {
            r = notAKernel(f, String.valueOf(e.getMessage()));
        } catch (OutOfMemoryError e) {
            r = notAKernel(f, "out of memory reading this file with " + jobs + " jobs: try --jobs 1");
        } catch (RuntimeException e) {
            // a bug, not the file's fault: still one line, and the sweep goes on
            r = notAKernel(f, "internal error: " + e);
        }
        r.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
        return r;
    }

    private static Map<String, Object> notAKernel(Path f, String error) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", f.toString());
        try {
            r.put("file_size", Files.size(f));
        } catch (IOException e) {
            // the error says why
        }
        r.put("kernel", false);
        r.put("error", error.replace('\n', ' '));
        return r;
    }

    @SuppressWarnings("unchecked")
    private static String text(Map<String, Object> r) {
        String file = printable(String.valueOf(r.get("file")));
        if (!Boolean.TRUE.equals(r.get("kernel"))) return file + ": not read: " + r.get("error");
        Map<String, Object> exports = (Map<String, Object>) r.get("exports"), btf = (Map<String, Object>) r.get("btf");
        return String.format("%s: Linux %s, %s %s-bit %s-endian, base %s, %s symbols, %s exports (CRCs: %s), %s",
                file, r.get("kernel_version"), r.get("arch"), r.get("bits"), r.get("endian"), r.get("base_address"),
                r.get("symbols"), exports.get("count"), exports.getOrDefault("crcs", "-"),
                Boolean.TRUE.equals(btf.get("present")) ? btf.get("types") + " BTF types" : "no BTF");
    }
}
