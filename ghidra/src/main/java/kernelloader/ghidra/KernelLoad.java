package kernelloader.ghidra;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.app.util.opinion.Loader;
import ghidra.program.model.lang.LanguageCompilerSpecPair;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.model.listing.Program;
import ghidra.program.util.DefaultLanguageService;
import ghidra.util.exception.CancelledException;
import ghidra.util.task.TaskMonitor;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.KernelLayout;

/**
 * What {@link LinuxKernelLoader} does, written against the part of Ghidra's API that every
 * version since 10.3 shares. The loader class itself is glue for one API generation (the
 * signature of load() and getDefaultOptions() changed in Ghidra 12): src/ghidra-api-10 and
 * src/ghidra-api-12 each hold one, and Maven compiles the one -Dghidra.api names.
 */
final class KernelLoad {
    static final String NAME = "Linux Kernel (kallsyms)";
    /** Smaller files are no kernel: the smallest real ones are over a megabyte. */
    static final int MIN_FILE = 64 * 1024;

    private KernelLoad() {}

    /**
     * The inferred language as the one (preferred) load spec, or none for files that are not
     * kernels we read. This runs the very search the CLI runs (every container and compression
     * the core knows, in any nesting, then the raw bytes), so whatever `./kallsyms list` reads
     * imports.
     */
    static List<LoadSpec> loadSpecs(Loader loader, ByteProvider provider) throws IOException {
        List<LoadSpec> specs = new ArrayList<>();
        if (provider.length() < MIN_FILE) return specs;
        try {
            Kernel k = KernelCache.read(provider, KernelCache.requested(provider));
            if (!k.kallsyms().present()) return specs;
            KernelLayout layout = k.layout().get();
            String lang = layout.ghidraLanguage();
            if (lang == null || !languageExists(lang)) return specs;
            specs.add(new LoadSpec(loader, 0, new LanguageCompilerSpecPair(lang, layout.compilerSpec()), true));
        } catch (KernelFormatException e) {
            // not a kernel we can read: other loaders may take it
        }
        return specs;
    }

    private static boolean languageExists(String id) {
        try {
            DefaultLanguageService.getLanguageService().getLanguage(new LanguageID(id));
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * The import dialog's options for the kernel in {@code provider}; each one's analyzeHeadless
     * form is -loader-<name> <value>. The base shows the base inferred for it (the kernel is the
     * one recognition just read, from the cache).
     */
    static List<Option> defaultOptions(ByteProvider provider) {
        Long base = null;
        try {
            Kernel k = KernelCache.read(provider, KernelCache.requested(provider));
            if (k.kallsyms().present()) base = k.layout().get().base().value();
        } catch (IOException | KernelFormatException | RuntimeException e) {
            // no base to show: the option still says "inferred", and the load says what is wrong
        }
        return LoaderOptions.defaults(base);
    }

    /** Null when the options are usable, else what is wrong with them. */
    static String validate(List<Option> options) {
        return LoaderOptions.validate(options);
    }

    /** Fills {@code program} (inside the loader's transaction) from the kernel in {@code provider}. */
    static void load(String loaderName, ByteProvider provider, List<Option> options, Program program,
                     TaskMonitor monitor, MessageLog log) throws CancelledException, IOException {
        // the records of a kernel's symbols, functions and types far outgrow Ghidra's 4 MB cache
        try (AutoCloseable cache = DatabaseCache.widen(program, Long.getLong("kernelloader.dbCacheMB", 512) << 20)) {
            monitor.setMessage("Reading the kernel");
            LoaderOptions.Settings settings = LoaderOptions.read(options);
            Kernel k = KernelCache.read(provider, settings.kernel());
            k.kallsyms().get();
            String lang = k.layout().get().ghidraLanguage();
            if (lang != null && !lang.equals(program.getLanguageID().getIdAsString()) && !settings.kernel().readsLike(KernelOptions.DEFAULT)) {
                log.appendMsg(loaderName, "the kernel read with these options is a " + lang + " kernel, the program is "
                        + program.getLanguageID() + " (the language inferred without them): pick " + lang
                        + " in the import dialog (-processor)");
            }
            KernelProgramBuilder.build(loaderName, program, k, settings, monitor, log);
        } catch (CancelledException e) {
            throw e;
        } catch (KernelFormatException e) {
            throw new IOException(e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException(loaderName + ": " + e, e);
        } finally {
            KernelCache.clear();
        }
    }
}
