package kernelloader.kernel;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.layout.Architecture;
import kernelloader.layout.LayoutInference;

/**
 * What a user may tell the core instead of letting it infer: the one record every face passes
 * (CLI flags, the loader's options, the analyzer, the scripts), with the one parser of their
 * text forms, so that "--base zz" and "-loader-kernelBase zz" are refused for the same reason
 * (each face names the option its own way: {@link BadValue}).
 *
 * @param bits        word size, 32 or 64, or null to infer
 * @param base        the address of the image's first byte, or null to infer
 * @param arch        the architecture, or null to infer
 * @param fileOffset  the kernel image starts this many bytes into the file
 * @param table       which kallsyms table to take when a file holds several kernels (0 = first)
 * @param relocations whether the bytes a face loads or writes (Ghidra memory, the ELF) get the
 *                    kernel's RELATIVE relocations applied; exports are read with them either way
 * @param symbols     a System.map or /proc/kallsyms text for this kernel (a path), or null: it
 *                    labels an image without kallsyms, and is checked against one that has it
 */
public record KernelOptions(Integer bits, Long base, Architecture arch, long fileOffset, int table, boolean relocations,
                            String symbols) {
    public static final KernelOptions DEFAULT = new KernelOptions(null, null, null, 0, 0, true, null);

    /** The options without a symbols file (what most callers give). */
    public KernelOptions(Integer bits, Long base, Architecture arch, long fileOffset, int table, boolean relocations) {
        this(bits, base, arch, fileOffset, table, relocations, null);
    }

    /** The options by their one name each (the CLI's --NAME; the loader maps its options to these). */
    public enum Key {
        BITS("bits"), BASE("base"), ARCH("arch"), FILE_OFFSET("file-offset"), TABLE("table"), RELOCATIONS("relocations"),
        SYMBOLS("symbols");

        public final String name;

        Key(String name) { this.name = name; }
    }

    /** A value the parser refuses: which option, and why, for each face to name the option its own way. */
    public static final class BadValue extends KernelFormatException {
        private final Key key;
        private final String reason;

        BadValue(Key key, String reason) {
            super(key.name + ": " + reason);
            this.key = key;
            this.reason = reason;
        }

        public Key key() { return key; }

        /** "zz is not a hexadecimal address (...)": the value and what is wrong with it. */
        public String reason() { return reason; }
    }

    public KernelOptions {
        if (bits != null && bits != 32 && bits != 64) throw new IllegalArgumentException("bits must be 32 or 64, not " + bits);
        if (fileOffset < 0) throw new IllegalArgumentException("file offset must be 0 or more");
        if (table < 0) throw new IllegalArgumentException("table must be 0 or more");
    }

    /**
     * These options with {@code key} set from its text form; an empty or blank text means
     * "infer" (the default). The message of the exception is one line naming the option.
     */
    public KernelOptions with(Key key, String text) throws BadValue {
        String t = text == null ? "" : text.trim();
        return switch (key) {
            case BITS -> new KernelOptions(t.isEmpty() ? null : parseBits(t), base, arch, fileOffset, table, relocations, symbols);
            case BASE -> new KernelOptions(bits, t.isEmpty() ? null : parseHex(key, t), arch, fileOffset, table, relocations, symbols);
            case ARCH -> new KernelOptions(bits, base, t.isEmpty() ? null : parseArch(t), fileOffset, table, relocations, symbols);
            case FILE_OFFSET -> new KernelOptions(bits, base, arch, t.isEmpty() ? 0 : parseHex(key, t), table, relocations, symbols);
            case TABLE -> new KernelOptions(bits, base, arch, fileOffset, t.isEmpty() ? 0 : parseTable(t), relocations, symbols);
            case RELOCATIONS -> new KernelOptions(bits, base, arch, fileOffset, table, t.isEmpty() || parseBoolean(key, t), symbols);
            case SYMBOLS -> new KernelOptions(bits, base, arch, fileOffset, table, relocations, t.isEmpty() ? null : parseFile(t));
        };
    }

    static String parseFile(String t) throws BadValue {
        java.nio.file.Path p = java.nio.file.Path.of(t);
        if (!java.nio.file.Files.isRegularFile(p)) throw new BadValue(Key.SYMBOLS, t + ": no such file (a System.map or a /proc/kallsyms listing)");
        if (!java.nio.file.Files.isReadable(p)) throw new BadValue(Key.SYMBOLS, t + ": not readable (permissions)");
        return p.toAbsolutePath().toString();
    }

    static int parseBits(String t) throws BadValue {
        if (t.equals("32")) return 32;
        if (t.equals("64")) return 64;
        throw new BadValue(Key.BITS, t + " is not a word size (32 or 64)");
    }

    /** An address, hexadecimal with or without 0x, as the kernel prints them; a bad one is one clear line. */
    public static long parseHex(String t) throws BadValue {
        return parseHex(Key.BASE, t);
    }

    /** A hexadecimal number, with or without 0x: addresses and offsets as the kernel prints them. */
    static long parseHex(Key key, String t) throws BadValue {
        String digits = t.regionMatches(true, 0, "0x", 0, 2) ? t.substring(2) : t;
        if (digits.isEmpty() || digits.length() > 16 || !digits.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new BadValue(key, t + " is not a hexadecimal " + (key == Key.BASE ? "address (e.g. 0xffffffc008000000)" : "offset (e.g. 0x2e818)"));
        }
        long v = Long.parseUnsignedLong(digits, 16);
        if (key == Key.FILE_OFFSET && v < 0) throw new BadValue(key, t + " is beyond any file");
        return v;
    }

    static Architecture parseArch(String t) throws BadValue {
        for (Architecture a : Architecture.values()) {
            if (a.name().equalsIgnoreCase(t) || a.displayName().equalsIgnoreCase(t)) return a;
        }
        throw new BadValue(Key.ARCH, t + " is not one of " + archNames());
    }

    /** The architecture names the parser takes, for help texts. */
    public static String archNames() {
        StringBuilder sb = new StringBuilder();
        for (Architecture a : Architecture.values()) sb.append(sb.length() == 0 ? "" : ", ").append(a.name().toLowerCase(Locale.ROOT));
        return sb.toString();
    }

    static int parseTable(String t) throws BadValue {
        try {
            int n = Integer.parseInt(t);
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // said below
        }
        throw new BadValue(Key.TABLE, t + " is not a table number (0 = the first table found, 1 = the second, ...)");
    }

    static boolean parseBoolean(Key key, String t) throws BadValue {
        if (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("yes") || t.equals("1")) return true;
        if (t.equalsIgnoreCase("false") || t.equalsIgnoreCase("no") || t.equals("0")) return false;
        throw new BadValue(key, t + " is not true or false");
    }

    public KernelOptions withBits(Integer bits) { return new KernelOptions(bits, base, arch, fileOffset, table, relocations, symbols); }
    public KernelOptions withTable(int table) { return new KernelOptions(bits, base, arch, fileOffset, table, relocations, symbols); }
    public KernelOptions withRelocations(boolean on) { return new KernelOptions(bits, base, arch, fileOffset, table, on, symbols); }

    /** True if {@code o} reads the same kernel out of the same bytes (relocations aside: they change no reading). */
    public boolean readsLike(KernelOptions o) {
        return Objects.equals(bits, o.bits) && Objects.equals(base, o.base) && arch == o.arch
                && fileOffset == o.fileOffset && table == o.table && Objects.equals(symbols, o.symbols);
    }

    /** The options that differ from the defaults, in their text form, keyed as reports key fields (file_offset): what `info` shows as overrides. */
    public Map<String, String> given() {
        Map<String, String> m = new LinkedHashMap<>();
        if (bits != null) m.put(Key.BITS.name, String.valueOf(bits));
        if (base != null) m.put(Key.BASE.name, "0x" + Long.toHexString(base));
        if (arch != null) m.put(Key.ARCH.name, arch.name().toLowerCase(Locale.ROOT));
        if (fileOffset != 0) m.put("file_offset", "0x" + Long.toHexString(fileOffset));
        if (table != 0) m.put(Key.TABLE.name, String.valueOf(table));
        if (!relocations) m.put(Key.RELOCATIONS.name, "false");
        if (symbols != null) m.put(Key.SYMBOLS.name, symbols);
        return m;
    }

    KallsymsFinder.Hints hints() {
        return new KallsymsFinder.Hints(bits, base);
    }

    LayoutInference.Overrides overrides() {
        return new LayoutInference.Overrides(arch, base);
    }
}
