package kernelloader.ghidra;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.app.util.opinion.Loader;
import ghidra.framework.options.Options;
import ghidra.program.model.lang.LanguageCompilerSpecPair;
import ghidra.program.model.listing.Program;
import ghidra.util.exception.CancelledException;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.BtfLocator;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.Architecture;
import kernelloader.module.KernelModuleFile;
import kernelloader.module.LoadedModules;
import kernelloader.module.ModuleLayout;
import kernelloader.module.ModuleLinker;
import kernelloader.module.SysModuleSections;

/**
 * What {@link LinuxModuleLoader} does, on the Loader API every Ghidra since 10.3 shares. A
 * module is linked against its kernel by the core ({@link LoadedModules}, as `./kallsyms module`
 * links it), then added to a program that holds that kernel:
 * <ul>
 * <li>File→Import of a .ko makes a new program: the kernel (from the "Kernel file" option, as
 *     the kernel loader imports it), then the module, and any "modules loaded before" it, in
 *     the order their depends= needs.</li>
 * <li>File→Add To Program on a kernel program adds the module to it: the kernel is the
 *     program's own file (or the option's), and modules added before are loaded again, where
 *     they were put, so that this one may import their exports.</li>
 * </ul>
 */
final class ModuleLoad {
    static final String NAME = "Linux Kernel Module (linked to its kernel)";
    static final String KERNEL = "Kernel file (a new program needs it; Add To Program: the program's own)";
    static final String WITH = "Modules loaded before (paths, separated by : or ;)";
    static final String SECTIONS = "Section addresses (a copy of /sys/module/NAME/sections; empty = laid out)";
    static final String BASE = "Module base address (hex; empty = after the modules before)";
    /** Program Information: the modules in the program, one per line: file, then each placed section=address. */
    static final String LOADED = "Linux modules loaded";
    /** Program Information: the kernel's file the modules were linked against (the program's own, for a kernel import). */
    static final String KERNEL_FILE = "Linux modules' kernel file";
    /** Modules are far below this; the kernel's own loader refuses less. */
    static final long MAX_MODULE_FILE = 512L << 20;

    private ModuleLoad() {}

    /** A module's language: that of its e_machine, which the kernel it links to shares. */
    static List<LoadSpec> loadSpecs(Loader loader, ByteProvider provider) throws IOException {
        List<LoadSpec> specs = new ArrayList<>();
        if (provider.length() < 64 || provider.length() > MAX_MODULE_FILE || !looksLikeModule(provider)) return specs;
        try {
            KernelModuleFile m = read(provider);
            if (m.section(".gnu.linkonce.this_module") < 0 && m.section(".modinfo") < 0) return specs;   // an object file, not a module
            Architecture arch = Architecture.ofElfMachine(m.elf().machine());
            String lang = arch == null ? null : arch.ghidraLanguage(m.elf().bits(), m.elf().order());
            if (lang == null) return specs;
            specs.add(new LoadSpec(loader, 0, new LanguageCompilerSpecPair(lang, arch.compilerSpec()), true));
        } catch (KernelFormatException e) {
            // not a module we read: Ghidra's ELF loader may take it
        }
        return specs;
    }

    /** An ELF relocatable, or a compressed file named .ko.*: the rest is never decompressed to find out. */
    private static boolean looksLikeModule(ByteProvider p) throws IOException {
        byte[] h = p.readBytes(0, 18);
        if (h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F') return (h[5] == 2 ? h[17] : h[16]) == 1 && (h[5] == 2 ? h[16] : h[17]) == 0;
        return p.getName() != null && p.getName().matches(".*\\.ko\\.(xz|zst|gz)$");
    }

    private static KernelModuleFile read(ByteProvider provider) throws IOException, KernelFormatException {
        // the file's own path where it has one: Add To Program reads the modules in a program again from it
        String source = provider.getFile() != null ? provider.getFile().getAbsolutePath() : provider.getName();
        return KernelModuleFile.read(source, provider.readBytes(0, provider.length()));
    }

    static List<Option> defaultOptions(Program into) {
        String kernel = kernelFileOf(into);
        List<Option> list = new ArrayList<>();
        list.add(new Option(KERNEL, kernel, String.class, Loader.COMMAND_LINE_ARG_PREFIX + "-kernelFile"));
        list.add(new Option(WITH, "", String.class, Loader.COMMAND_LINE_ARG_PREFIX + "-modulesBefore"));
        list.add(new Option(SECTIONS, "", String.class, Loader.COMMAND_LINE_ARG_PREFIX + "-sectionsFile"));
        list.add(new Option(BASE, "", String.class, Loader.COMMAND_LINE_ARG_PREFIX + "-moduleBase"));
        list.add(new Option(LoaderOptions.BTF, true, Boolean.class, Loader.COMMAND_LINE_ARG_PREFIX + "-applyBtf"));
        return list;
    }

    /** The kernel file of a program: the one its modules were linked against, else its own file ("" for none). */
    static String kernelFileOf(Program p) {
        if (p == null) return "";
        String recorded = p.getOptions(Program.PROGRAM_INFO).getString(KERNEL_FILE, "");
        if (!recorded.isEmpty()) return recorded;
        return p.getExecutablePath() == null ? "" : p.getExecutablePath();
    }

    /** What a load is asked for. */
    record Settings(Path kernel, List<Path> before, Path sections, Long base, boolean btf) {}

    static Settings read(List<Option> options) throws KernelFormatException {
        Path kernel = null, sections = null;
        List<Path> before = new ArrayList<>();
        Long base = null;
        boolean btf = true;
        for (Option o : options) {
            String v = o.getValue() == null ? "" : String.valueOf(o.getValue()).strip();
            switch (o.getName()) {
                case KERNEL -> kernel = v.isEmpty() ? null : existing(KERNEL, v);
                case WITH -> {
                    for (String p : v.split(File.pathSeparatorChar == ';' ? ";" : "[:;]")) if (!p.isBlank()) before.add(existing(WITH, p.strip()));
                }
                case SECTIONS -> sections = v.isEmpty() ? null : existing(SECTIONS, v);
                case BASE -> {
                    try {
                        base = v.isEmpty() ? null : KernelOptions.parseHex(v);
                    } catch (KernelOptions.BadValue e) {
                        throw new KernelFormatException(BASE + ": " + e.reason());
                    }
                }
                case LoaderOptions.BTF -> btf = Boolean.parseBoolean(v);
                default -> { }
            }
        }
        return new Settings(kernel, before, sections, base, btf);
    }

    private static Path existing(String option, String path) throws KernelFormatException {
        Path p = Path.of(path);
        if (!Files.exists(p)) throw new KernelFormatException(option + ": " + path + " does not exist");
        return p;
    }

    static String validate(List<Option> options, Program into) {
        try {
            Settings s = read(options);
            if (s.kernel() == null && kernelFileOf(into).isEmpty()) {
                return "a module is linked against its kernel: give the kernel's file in '" + KERNEL + "'";
            }
            return null;
        } catch (KernelFormatException e) {
            return e.getMessage();
        }
    }

    /** Adds the module in {@code provider} to {@code program}: a new one (with its kernel first) or a kernel program. */
    static void load(String who, ByteProvider provider, List<Option> options, Program program, TaskMonitor monitor, MessageLog log)
            throws CancelledException, IOException {
        try (AutoCloseable cache = DatabaseCache.widen(program, Long.getLong("kernelloader.dbCacheMB", 512) << 20)) {
            Settings s = read(options);
            KernelModuleFile module = read(provider);
            boolean into = program.getMemory().getBlocks().length > 0;
            Path kernelFile = s.kernel() != null ? s.kernel() : into && !kernelFileOf(program).isEmpty() ? Path.of(kernelFileOf(program)) : null;
            List<KernelModuleFile> before = new ArrayList<>();
            for (Path p : s.before()) before.add(KernelModuleFile.read(p.toString(), Files.readAllBytes(p)));
            Map<String, Long> given = s.sections() == null ? Map.of() : SysModuleSections.read(s.sections());
            addModules(who, program, kernelFile, KernelOptions.DEFAULT, before, module, given, s.base(), s.btf(), monitor, log);
        } catch (CancelledException e) {
            throw e;
        } catch (KernelFormatException e) {
            throw new IOException(e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException(who + ": " + e, e);
        }
    }

    /**
     * Links {@code before} (in the order their depends= needs) and then {@code module} (null: none)
     * against the kernel in {@code kernelFile}, read with {@code options}, and adds them to
     * {@code program} (inside the caller's transaction). An empty program gets the kernel first,
     * as the kernel loader makes it; a kernel program must hold that kernel, at its base; the
     * modules it holds already are linked again first. {@code sections} and {@code base} place
     * the first module added.
     */
    static void addModules(String who, Program program, Path kernelFile, KernelOptions options, List<KernelModuleFile> before,
                           KernelModuleFile module, Map<String, Long> sections, Long base, boolean btf, TaskMonitor monitor, MessageLog log)
            throws Exception {
        boolean into = program.getMemory().getBlocks().length > 0;
        if (kernelFile == null || !Files.isRegularFile(kernelFile)) {
            throw new KernelFormatException(who + ": a module is linked against its kernel: give the kernel's file (option '" + KERNEL
                    + "', analyzeHeadless -loader-kernelFile PATH)" + (kernelFile == null ? "" : "; " + kernelFile + " is no file"));
        }
        monitor.setMessage("Reading the kernel " + kernelFile.getFileName());
        Kernel k = Kernel.read(kernelFile, options);
        k.kallsyms().get();
        String lang = k.layout().get().ghidraLanguage();
        if (lang == null || !lang.equals(program.getLanguageID().getIdAsString())) {
            throw new KernelFormatException(who + ": " + kernelFile + " is a " + lang + " kernel; the module and the program are "
                    + program.getLanguageID());
        }
        LoadedModules modules = LoadedModules.into(k);
        List<String> loaded = new ArrayList<>();
        if (into) {
            long kernelBase = k.layout().get().base().value();
            if (program.getImageBase().getOffset() != kernelBase) {
                throw new KernelFormatException(who + ": the program's image base 0x" + Long.toHexString(program.getImageBase().getOffset())
                        + " is not the base 0x" + Long.toHexString(kernelBase) + " of " + kernelFile + ": the program holds another kernel, or"
                        + " the same at another base (give its file in '" + KERNEL + "')");
            }
            loaded.addAll(reload(program, modules));
        } else {
            KernelProgramBuilder.build(who, program, k, new LoaderOptions.Settings(options, true, btf), monitor, log);
        }
        kernelloader.btf.Btf kernelBtf = null;
        if (btf && k.btf().present()) kernelBtf = k.btf().orNull().btf();
        Long at = base;
        Map<String, Long> given = sections;
        for (KernelModuleFile d : LoadedModules.inLoadOrder(before)) {
            loaded.add(add(who, program, modules, d, module == null ? given : Map.of(), at, kernelBtf, monitor, log));
            at = null;
            if (module == null) given = Map.of();
        }
        if (module != null) loaded.add(add(who, program, modules, module, given, at, kernelBtf, monitor, log));
        program.getOptions(Program.PROGRAM_INFO).setString(LOADED, String.join("\n", loaded));
        program.getOptions(Program.PROGRAM_INFO).setString(KERNEL_FILE, kernelFile.toAbsolutePath().toString());
    }

    /** Links {@code m} after what {@code modules} holds, adds it to the program; returns its line for {@link #LOADED}. */
    private static String add(String who, Program program, LoadedModules modules, KernelModuleFile m, Map<String, Long> sections, Long base,
                              kernelloader.btf.Btf kernelBtf, TaskMonitor monitor, MessageLog log) throws Exception {
        ModuleLinker.Linked l = modules.load(m, sections, base);
        ModuleProgramBuilder.Counts c = ModuleProgramBuilder.add(who, program, l, kernelBtf, monitor, log);
        log.appendMsg(who, "module " + ModuleProgramBuilder.describe(l, c));
        StringBuilder line = new StringBuilder(m.source());
        for (ModuleLayout.Placed p : l.layout().sections()) line.append('\t').append(p.name()).append('=').append(Long.toHexString(p.address()));
        return line.toString();
    }

    /**
     * The modules an earlier Add To Program put in this program, linked again where they are
     * (their files, as recorded), so that the next one links to their exports as the kernel
     * would. A file gone since is said, not skipped.
     */
    private static List<String> reload(Program program, LoadedModules modules) throws Exception {
        Options info = program.getOptions(Program.PROGRAM_INFO);
        String recorded = info.getString(LOADED, "");
        List<String> lines = new ArrayList<>();
        for (String line : recorded.split("\n")) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            Path p = Path.of(f[0]);
            if (!Files.isRegularFile(p)) {
                throw new KernelFormatException("module " + f[0] + ", in this program already, is no longer there: the next module"
                        + " may import its exports, so it is read again");
            }
            Map<String, Long> at = new LinkedHashMap<>();
            for (int i = 1; i < f.length; i++) {
                int eq = f[i].lastIndexOf('=');
                at.put(f[i].substring(0, eq), Long.parseUnsignedLong(f[i].substring(eq + 1), 16));
            }
            modules.load(KernelModuleFile.read(p.toString(), Files.readAllBytes(p)), at, null);
            lines.add(line);
        }
        return lines;
    }
}
