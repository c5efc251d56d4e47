package kernelloader.ghidra;

import java.util.ArrayList;
import java.util.List;

import ghidra.app.util.Option;
import ghidra.app.util.opinion.Loader;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.KernelOptions;

/**
 * The loader's options: the core's {@link KernelOptions}, each under its name in the import
 * dialog and as {@code analyzeHeadless -loader-<arg> <value>}, read back through the core's one
 * parser (so "-loader-kernelBase zz" fails as "--base zz" does), plus what only Ghidra has:
 * functions for text symbols, and BTF types.
 */
final class LoaderOptions {
    /** One option: its dialog name, its analyzeHeadless argument, and the core option it sets (null: Ghidra's own). */
    private record Spec(String name, String arg, KernelOptions.Key key, Object defaultValue) {}

    static final String BASE = "Base address (hex, or inferred)";
    /** The base option's value that asks for the inferred base; the dialog shows it with the base read ("inferred 0x..."). */
    static final String INFERRED = "inferred";
    static final String FUNCTIONS = "Create functions for text symbols";
    static final String BTF = "Apply BTF types and function prototypes";

    private static final List<Spec> SPECS = List.of(
            new Spec(BASE, "kernelBase", KernelOptions.Key.BASE, ""),
            new Spec("Word size (32 or 64, empty = inferred)", "bits", KernelOptions.Key.BITS, ""),
            new Spec("Architecture (empty = inferred)", "arch", KernelOptions.Key.ARCH, ""),
            new Spec("Kernel image's offset in the file (hex)", "fileOffset", KernelOptions.Key.FILE_OFFSET, ""),
            new Spec("Kallsyms table (0 = first found; files holding several kernels)", "kallsymsTable", KernelOptions.Key.TABLE, 0),
            new Spec("Apply RELATIVE relocations", "applyRelocations", KernelOptions.Key.RELOCATIONS, true),
            new Spec("Symbols file (System.map or /proc/kallsyms; empty = none)", "symbolsFile", KernelOptions.Key.SYMBOLS, ""),
            new Spec(FUNCTIONS, "createFunctions", null, true),
            new Spec(BTF, "applyBtf", null, true));

    /** What a load is asked to do. */
    record Settings(KernelOptions kernel, boolean functions, boolean btf) {}

    private LoaderOptions() {}

    /** The import dialog's options, with their defaults. */
    static List<Option> defaults() {
        return defaults(null);
    }

    /**
     * The import dialog's options, the base showing {@code inferredBase} when the kernel was
     * read ("inferred 0xffffffff81000000"). The value still means "inferred", not that number:
     * a user who then picks another kallsyms table gets that table's own base, never the
     * first one's left standing in the field.
     */
    static List<Option> defaults(Long inferredBase) {
        List<Option> list = new ArrayList<>();
        for (Spec s : SPECS) {
            Object value = s.defaultValue();
            if (s.key() == KernelOptions.Key.BASE) value = inferredBase == null ? INFERRED : INFERRED + " 0x" + Long.toHexString(inferredBase);
            list.add(new Option(s.name(), value, value.getClass(), Loader.COMMAND_LINE_ARG_PREFIX + "-" + s.arg()));
        }
        return list;
    }

    /** The options as set, through the core's parser; the message names the option as the dialog does. */
    static Settings read(List<Option> options) throws KernelFormatException {
        KernelOptions k = KernelOptions.DEFAULT;
        boolean functions = true, btf = true;
        for (Option o : options) {
            Spec s = spec(o.getName());
            if (s == null || o.getValue() == null) continue;
            String text = String.valueOf(o.getValue());
            if (s.key() == KernelOptions.Key.BASE && (text.isBlank() || text.strip().startsWith(INFERRED))) continue;
            if (s.key() != null) {
                try {
                    k = k.with(s.key(), text);
                } catch (KernelOptions.BadValue e) {
                    throw new KernelFormatException(s.name() + ": " + e.reason());
                }
            } else if (s.name().equals(FUNCTIONS)) {
                functions = Boolean.parseBoolean(text);
            } else {
                btf = Boolean.parseBoolean(text);
            }
        }
        return new Settings(k, functions, btf);
    }

    /** Null when the options are usable, else what is wrong with them (Ghidra shows it in the dialog). */
    static String validate(List<Option> options) {
        try {
            read(options);
            return null;
        } catch (KernelFormatException e) {
            return e.getMessage();
        }
    }

    /** The analyzeHeadless arguments that ask for {@code kernel} and {@code btf} ("-loader-kernelBase", "0x..."): for ./kallsyms import. */
    static List<String[]> arguments(KernelOptions kernel, boolean btf) {
        return arguments(kernel, btf, true);
    }

    /** As above, and {@code functions} false asks for labels only. */
    static List<String[]> arguments(KernelOptions kernel, boolean btf, boolean functions) {
        List<String[]> args = new ArrayList<>();
        KernelOptions d = KernelOptions.DEFAULT;
        for (Spec s : SPECS) {
            String v = null;
            if (s.key() == null) {
                if (s.name().equals(BTF) && !btf) v = "false";
                if (s.name().equals(FUNCTIONS) && !functions) v = "false";
            } else {
                v = switch (s.key()) {
                    case BASE -> kernel.base() == null ? null : "0x" + Long.toHexString(kernel.base());
                    case BITS -> kernel.bits() == null ? null : kernel.bits().toString();
                    case ARCH -> kernel.arch() == null ? null : kernel.arch().name().toLowerCase();
                    case FILE_OFFSET -> kernel.fileOffset() == d.fileOffset() ? null : "0x" + Long.toHexString(kernel.fileOffset());
                    case TABLE -> kernel.table() == d.table() ? null : Integer.toString(kernel.table());
                    case RELOCATIONS -> kernel.relocations() == d.relocations() ? null : Boolean.toString(kernel.relocations());
                    case SYMBOLS -> kernel.symbols();
                };
            }
            if (v != null) args.add(new String[] {Loader.COMMAND_LINE_ARG_PREFIX + "-" + s.arg(), v});
        }
        return args;
    }

    private static Spec spec(String name) {
        for (Spec s : SPECS) if (s.name().equals(name)) return s;
        return null;
    }
}
