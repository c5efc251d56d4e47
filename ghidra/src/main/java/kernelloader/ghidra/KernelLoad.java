package kernelloader.ghidra;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.OptionUtils;
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
import kernelloader.core.KernelModel;
import kernelloader.image.KernelFormatException;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KsymtabFinder;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.layout.RelativeRelocations;

/**
 * What {@link LinuxKernelLoader} does, written against the part of Ghidra's API that every
 * version since 10.3 shares. The loader class itself is glue for one API generation (the
 * signature of load() and getDefaultOptions() changed in Ghidra 12): src/ghidra-api-10 and
 * src/ghidra-api-12 each hold one, and Maven compiles the one -Dghidra.api names.
 */
final class KernelLoad {
    static final String NAME = "Linux Kernel (kallsyms)";
    static final String OPT_BASE = "Base address (hex, empty = inferred)";
    static final String OPT_FUNCTIONS = "Create functions for text symbols";
    static final String OPT_RELOCATIONS = "Apply RELATIVE relocations";
    static final String OPT_TABLE = "Kallsyms table (0 = first found; files holding several kernels)";
    static final String OPT_BTF = "Apply BTF types and function prototypes";

    private KernelLoad() {}

    /** The inferred language as the one (preferred) load spec, or none for files that are not kernels we read. */
    static List<LoadSpec> loadSpecs(Loader loader, ByteProvider provider) throws IOException {
        List<LoadSpec> specs = new ArrayList<>();
        if (provider.length() < 64 * 1024) return specs;
        try {
            KernelCache.Bytes bytes = KernelCache.bytes(provider);
            if (!worthReading(bytes.data())) return specs;
            KernelLayout layout = KernelCache.read(provider, bytes).layout();
            String lang = layout.ghidraLanguage();
            if (lang == null || !languageExists(lang)) return specs;
            specs.add(new LoadSpec(loader, 0, new LanguageCompilerSpecPair(lang, layout.compilerSpec()), true));
        } catch (KernelFormatException e) {
            // not a kernel we can read: other loaders may take it
        }
        return specs;
    }

    /**
     * A cheap look before the full read, so that importing an unrelated file costs little: a
     * kernel container or compressed stream at the start, or a token table in the raw bytes.
     */
    static boolean worthReading(byte[] data) {
        if (data.length < 0x10010) return false;
        String s = new String(data, 0, 16, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (s.startsWith("ANDROID!") || s.startsWith("VNDRBOOT") || s.startsWith("UNCOMPRESSED_IMG") || s.startsWith("MZ")
                || s.startsWith("\u007fELF")) return true;
        if ((data[0] & 0xff) == 0x27 && data[1] == 0x05 && data[2] == 0x19 && (data[3] & 0xff) == 0x56) return true;
        if ((data[0] & 0xff) == 0xd0 && (data[1] & 0xff) == 0x0d && (data[2] & 0xff) == 0xfe && (data[3] & 0xff) == 0xed) return true;
        for (kernelloader.image.Compression c : kernelloader.image.Compression.values()) {
            if (c.startsAt(data, data.length, 0)) return true;
        }
        if (new String(data, 0x38, 4, java.nio.charset.StandardCharsets.ISO_8859_1).equals("ARM\u0064")
                || new String(data, 0x202, 4, java.nio.charset.StandardCharsets.ISO_8859_1).equals("HdrS")) return true;
        // a raw image or dump: the token table's digits
        return !kernelloader.kallsyms.TokenTable.findAll(data, data.length).isEmpty();
    }

    private static boolean languageExists(String id) {
        try {
            DefaultLanguageService.getLanguageService().getLanguage(new LanguageID(id));
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** The import dialog's options; the last argument of each is its analyzeHeadless form, -loader-<name> <value>. */
    static List<Option> defaultOptions() {
        List<Option> list = new ArrayList<>();
        list.add(new Option(OPT_BASE, "", String.class, Loader.COMMAND_LINE_ARG_PREFIX + "-kernelBase"));
        list.add(new Option(OPT_FUNCTIONS, true, Boolean.class, Loader.COMMAND_LINE_ARG_PREFIX + "-createFunctions"));
        list.add(new Option(OPT_RELOCATIONS, true, Boolean.class, Loader.COMMAND_LINE_ARG_PREFIX + "-applyRelocations"));
        list.add(new Option(OPT_TABLE, 0, Integer.class, Loader.COMMAND_LINE_ARG_PREFIX + "-kallsymsTable"));
        list.add(new Option(OPT_BTF, true, Boolean.class, Loader.COMMAND_LINE_ARG_PREFIX + "-applyBtf"));
        return list;
    }

    /** Null when the options are usable, else what is wrong with them. */
    static String validate(List<Option> options) {
        for (Option o : options) {
            if (o.getName().equals(OPT_TABLE) && o.getValue() instanceof Integer t && t < 0) {
                return "Kallsyms table must be 0 or more: " + t;
            }
            if (o.getName().equals(OPT_BASE) && o.getValue() instanceof String s && !s.isBlank()) {
                try {
                    Long.parseUnsignedLong(s.trim().replaceFirst("^0[xX]", ""), 16);
                } catch (NumberFormatException e) {
                    return "Base address must be hexadecimal: " + s;
                }
            }
        }
        return null;
    }

    /** Exports are a bonus on top of kallsyms: a kernel without them (no CONFIG_MODULES) still loads. */
    private static void markExports(String loaderName, Program program, KernelModel m, KernelLayout layout, TaskMonitor monitor, MessageLog log) throws Exception {
        long t0 = System.nanoTime();
        try {
            ExportTable t = KsymtabFinder.find(m.image(), layout, m.kallsyms(), m.version());
            KernelProgramBuilder.ExportCounts ec = KernelProgramBuilder.markExports(program, t, m.kallsyms(), monitor);
            program.getOptions(Program.PROGRAM_INFO).setString("Linux exports", KernelProgramBuilder.describeExports(t));
            log.appendMsg(loaderName, "exports: " + ec.marked() + " marked, " + ec.labelled() + " labels added, "
                    + ec.unplaced() + " outside the program, " + (System.nanoTime() - t0) / 1_000_000 + " ms; "
                    + KernelProgramBuilder.describeExports(t));
            for (String w : t.warnings()) log.appendMsg(loaderName, "exports: " + w);
        } catch (KernelFormatException e) {
            log.appendMsg(loaderName, "exports: " + e.getMessage());
        }
    }

    /**
     * BTF is a bonus too: a kernel without it (CONFIG_DEBUG_INFO_BTF unset) loads as before, and
     * a blob that will not apply leaves the labels and functions in place.
     */
    static void applyBtf(String who, Program program, kernelloader.btf.BtfLocator.Outcome o,
                         kernelloader.kallsyms.KallsymsTable kallsyms, TaskMonitor monitor, MessageLog log)
            throws CancelledException {
        if (o.found() == null) {
            log.appendMsg(who, "BTF: none (" + String.join("; ", o.tried()) + ")");
            return;
        }
        try {
            BtfApplier.Counts c = BtfApplier.apply(program, o.found().btf(), kallsyms, monitor);
            String what = c.describe() + "; " + o.found().btf().byteSize() + " bytes of BTF at image offset 0x"
                    + Integer.toHexString(o.found().offset()) + " (" + o.found().how() + ")";
            program.getOptions(Program.PROGRAM_INFO).setString("Linux BTF", what);
            log.appendMsg(who, "BTF: " + what + ", " + c.millis() + " ms");
        } catch (CancelledException e) {
            throw e;
        } catch (Exception e) {
            log.appendMsg(who, "BTF: not applied: " + e);
        }
    }

    /** Fills {@code program} (inside the loader's transaction) from the kernel in {@code provider}. */
    static void load(String loaderName, ByteProvider provider, List<Option> options, Program program,
                     TaskMonitor monitor, MessageLog log) throws CancelledException, IOException {
        // the records of a kernel's symbols, functions and types far outgrow Ghidra's 4 MB cache
        try (AutoCloseable cache = DatabaseCache.widen(program, Long.getLong("kernelloader.dbCacheMB", 512) << 20)) {
            monitor.setMessage("Reading the kernel");
            int table = OptionUtils.getOption(OPT_TABLE, options, 0);
            KernelCache.Entry e = KernelCache.read(provider, null, table);
            KernelCache.clear();   // the load below may relocate these bytes
            KernelModel m = e.model();
            String base = OptionUtils.getOption(OPT_BASE, options, "");
            KernelLayout layout = base == null || base.isBlank() ? e.layout()
                    : LayoutInference.infer(m.image(), m.kallsyms(), new LayoutInference.Overrides(null,
                            Long.parseUnsignedLong(base.trim().replaceFirst("^0[xX]", ""), 16)));
            if (table > 0 && layout.ghidraLanguage() != null && !layout.ghidraLanguage().equals(program.getLanguageID().getIdAsString())) {
                log.appendMsg(loaderName, "kallsyms table " + table + " is a " + layout.ghidraLanguage() + " kernel, the program is "
                        + program.getLanguageID() + " (chosen for table 0): pick that language in the import dialog (-processor)");
            }
            if (OptionUtils.getOption(OPT_RELOCATIONS, options, true)) {
                RelativeRelocations.Applied r = RelativeRelocations.apply(m.image(), layout);
                if (r != null) log.appendMsg(loaderName, "applied " + r.count() + " RELATIVE relocations");
            }
            int blocks = KernelProgramBuilder.createBlocks(program, m, layout, log, monitor);
            KernelProgramBuilder.Counts c = KernelProgramBuilder.applySymbols(program, m.kallsyms(),
                    OptionUtils.getOption(OPT_FUNCTIONS, options, true), monitor);
            program.getSymbolTable().addExternalEntryPoint(
                    program.getAddressFactory().getDefaultAddressSpace().getAddress(layout.entry().value()));
            KernelProgramBuilder.recordInfo(program, m, layout, c);
            markExports(loaderName, program, m, layout, monitor, log);
            if (OptionUtils.getOption(OPT_BTF, options, true)) {
                applyBtf(loaderName, program, kernelloader.btf.BtfLocator.find(m.image(), layout, m.kallsyms()), m.kallsyms(), monitor, log);
            }
            log.appendMsg(loaderName, String.format("%s: %d blocks, %d labels, %d functions; base 0x%x (%s)",
                    m.image().describeLayers(), blocks, c.labels(), c.functions(), layout.base().value(), layout.base().evidence()));
        } catch (CancelledException e) {
            throw e;
        } catch (KernelFormatException e) {
            throw new IOException(e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException(loaderName + ": " + e, e);
        }
    }
}
