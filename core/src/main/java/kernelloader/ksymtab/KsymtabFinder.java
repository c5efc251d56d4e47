package kernelloader.ksymtab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.KernelVersion;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.KernelLayout;

/**
 * Finds the kernel's exported-symbol tables without being told where they are or how they are
 * laid out.
 *
 * <p>The linker sorts __ksymtab by section name (KEEP(*(SORT(___ksymtab+*)))), so the table is a
 * run of fixed-size entries whose name fields point at identifiers in ascending order: the
 * longest such run, over the four entry formats (PREL32 or absolute, with or without namespace),
 * is the table. The GPL-only section follows directly and restarts the order; __kcrctab (one CRC
 * per entry, same order), __kflagstab (2026 and later: one flag byte per entry) and
 * __ksymtab_strings follow in that order (include/asm-generic/vmlinux.lds.h), so the bytes
 * between the last entry and the first name say which of them are present.
 */
public final class KsymtabFinder {
    /** Fewer entries than this are not a kernel's export table (real ones hold thousands). */
    static final int MIN_ENTRIES = 64;
    static final int MAX_NAME = 255;
    /** Five sections at most (before 5.12): four places where the name order may restart. */
    static final int MAX_SORT_BREAKS = 4;

    private KsymtabFinder() {}

    /** A run of entries of one format: the image offset of its first name field, and how many entries. */
    private record Run(SymbolEntryFormat format, int firstNameField, int entries, boolean sorted) {
        long bytes() { return (long) entries * format.entrySize(); }
    }

    public static ExportTable find(KernelImage img, KernelLayout layout, KallsymsTable k, KernelVersion version)
            throws KernelFormatException {
        VirtualMemory mem = new VirtualMemory(img, layout);
        int word = layout.bits() / 8;
        // the tables are data: code regions are searched only if the others hold none
        Run best = longestRun(mem, word, false, true);
        if (best == null) best = longestRun(mem, word, true, true);
        // before 3.0 the linker did not sort __ksymtab: a longer run whose names do not rise,
        // taken only when it is followed by what follows a real table (TrailingTables, in read)
        if (best == null) best = longestRun(mem, word, false, false);
        if (best == null) best = longestRun(mem, word, true, false);
        if (best == null) {
            throw new KernelFormatException("no exported-symbol table (__ksymtab) found: searched " + img.length()
                    + " bytes for " + MIN_ENTRIES + "+ struct kernel_symbol entries (PREL32 or absolute "
                    + layout.bits() + "-bit, with or without namespace) naming sorted identifiers;"
                    + " the kernel was probably built without CONFIG_MODULES, or its tables are cut off");
        }
        return read(mem, layout, k, version, best);
    }

    /** Fewer entries than this are not taken for an unsorted (pre-3.0) table. */
    static final int MIN_UNSORTED_ENTRIES = 256;

    /** The longest sorted (or, with {@code sorted} false, unsorted) run over the four entry formats; ties go to the smaller entry. */
    private static Run longestRun(VirtualMemory mem, int word, boolean inCode, boolean sorted) {
        Run best = null;
        for (boolean relative : new boolean[] {true, false}) {
            int fieldSize = relative ? 4 : word;
            int[] fields = nameFields(mem, relative, fieldSize, inCode);
            for (int n = 2; n <= 3; n++) {
                Run r = longestSortedRun(mem, fields, new SymbolEntryFormat(relative, fieldSize, n), sorted);
                if (r != null && (best == null || r.bytes() > best.bytes()
                        || (r.bytes() == best.bytes() && r.format().entrySize() < best.format().entrySize()))) {
                    best = r;
                }
            }
        }
        return best;
    }

    /**
     * Image offsets of every aligned field that points (absolutely or PREL32) at an identifier,
     * in the code regions or in the others.
     */
    private static int[] nameFields(VirtualMemory mem, boolean relative, int fieldSize, boolean inCode) {
        int[] out = new int[1 << 12];
        int n = 0;
        var v = mem.bytes();
        for (int r = 0; r < mem.regionCount(); r++) {
            if (mem.regionIsCode(r) != inCode) continue;
            long start = mem.regionStart(r);
            int fo = (int) mem.regionFileOffset(r);
            int len = (int) (mem.regionEnd(r) - start);
            int skip = (int) ((fieldSize - Long.remainderUnsigned(start, fieldSize)) % fieldSize);
            for (int p = fo + skip; p + fieldSize <= fo + len; p += fieldSize) {
                long target = relative ? start + (p - fo) + v.s32(p) : v.word(p, fieldSize);
                if (mem.identifierLength(target, MAX_NAME) > 0) {
                    if (n == out.length) out = Arrays.copyOf(out, n * 2);
                    out[n++] = p;
                }
            }
        }
        int[] sorted = Arrays.copyOf(out, n);
        Arrays.sort(sorted);  // regions are visited by address, which need not be file order
        return sorted;
    }

    /** The longest run of entries of format {@code f} whose names rise, with at most a few restarts. */
    private static Run longestSortedRun(VirtualMemory mem, int[] fields, SymbolEntryFormat f, boolean sorted) {
        int stride = f.entrySize();
        Run best = null;
        boolean[] inChain = new boolean[fields.length];
        for (int i = 0; i < fields.length; i++) {
            if (inChain[i]) continue;
            int count = 1;
            int j = i;
            inChain[i] = true;
            while (true) {
                int next = fields[j] + stride;
                int k = j + 1;
                while (k < fields.length && fields[k] < next) k++;
                if (k >= fields.length || fields[k] != next) break;
                inChain[k] = true;
                j = k;
                count++;
            }
            if (count >= (sorted ? MIN_ENTRIES : MIN_UNSORTED_ENTRIES) && (best == null || count > best.entries())) {
                Run r = new Run(f, fields[i], count, sorted);
                if (!sorted || sortBreaks(mem, r).size() <= MAX_SORT_BREAKS) best = r;
            }
        }
        return best;
    }

    /** Indices where a run's name order restarts (a new section begins). */
    private static List<Integer> sortBreaks(VirtualMemory mem, Run r) {
        List<Integer> breaks = new ArrayList<>();
        String prev = null;
        for (int i = 0; i < r.entries(); i++) {
            String name = nameAt(mem, r.format(), r.firstNameField() + i * r.format().entrySize());
            if (prev != null && name.compareTo(prev) < 0) {
                breaks.add(i);
                if (breaks.size() > MAX_SORT_BREAKS) return breaks;
            }
            prev = name;
        }
        return breaks;
    }

    private static long vaOfOffset(VirtualMemory mem, int offset) {
        for (int r = 0; r < mem.regionCount(); r++) {
            long fo = mem.regionFileOffset(r);
            if (offset >= fo && offset < fo + (mem.regionEnd(r) - mem.regionStart(r))) return mem.regionStart(r) + (offset - fo);
        }
        throw new IllegalStateException("offset outside every region: " + offset);
    }

    /** Where the field at image offset {@code p} points. */
    private static long target(VirtualMemory mem, SymbolEntryFormat f, int p) {
        if (f.relative()) return vaOfOffset(mem, p) + mem.bytes().s32(p);
        return mem.bytes().word(p, f.fieldSize());
    }

    private static String nameAt(VirtualMemory mem, SymbolEntryFormat f, int nameField) {
        String s = mem.string(target(mem, f, nameField), MAX_NAME);
        return s == null ? "" : s;
    }

    private static ExportTable read(VirtualMemory mem, KernelLayout layout, KallsymsTable k, KernelVersion version, Run run)
            throws KernelFormatException {
        SymbolEntryFormat f = run.format();
        int stride = f.entrySize();
        int n = run.entries();
        int firstEntry = run.firstNameField() - f.fieldSize();
        long tableVa = vaOfOffset(mem, firstEntry);
        long mask = layout.bits() == 32 ? 0xffffffffL : -1L;
        List<String> warnings = new ArrayList<>();

        String[] names = new String[n];
        String[] namespaces = new String[n];
        long[] values = new long[n];
        long tableEnd = tableVa + (long) n * stride;
        // __ksymtab_strings follows the tables; the odd name elsewhere (2.6.32 ARM has three in
        // .rodata) does not say where it starts
        long firstString = Long.MAX_VALUE, firstAnywhere = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            int e = firstEntry + i * stride;
            long nameVa = target(mem, f, e + f.fieldSize());
            names[i] = mem.string(nameVa, MAX_NAME);
            firstAnywhere = Math.min(firstAnywhere, nameVa);
            if (Long.compareUnsigned(nameVa, tableEnd) >= 0) firstString = Math.min(firstString, nameVa);
            values[i] = target(mem, f, e) & mask;
            namespaces[i] = "";
            if (f.hasNamespace()) {
                int nsField = e + 2 * f.fieldSize();
                long raw = f.relative() ? mem.bytes().s32(nsField) : mem.bytes().word(nsField, f.fieldSize());
                if (raw != 0) {  // 5.4 wrote a null namespace for exports without one
                    long nsVa = target(mem, f, nsField);
                    String ns = mem.string(nsVa, MAX_NAME);
                    if (ns == null) {
                        warnings.add("namespace of " + names[i] + " points outside the image (0x" + Long.toHexString(nsVa) + ")");
                        ns = "";
                    }
                    namespaces[i] = ns;
                    if (!ns.isEmpty() && Long.compareUnsigned(nsVa, tableEnd) >= 0) firstString = Math.min(firstString, nsVa);
                }
            }
        }
        if (firstString == Long.MAX_VALUE) firstString = firstAnywhere;

        // what lies between the last entry and the first string: CRCs, flags, both or neither
        TrailingTables after = TrailingTables.find(mem, layout, version, tableEnd, firstString, n);
        if (after == null) {
            // CRCs guessed wrong are worse than none: modules built against them would not load
            throw new KernelFormatException(String.format("the export table at 0x%x (%d entries, %s) is not followed by"
                    + " __kcrctab/__kflagstab/__ksymtab_strings: %d bytes lie between its end (0x%x) and its first name"
                    + " (0x%x), which fits none of u32 or unsigned long CRCs, flag bytes, both or neither;"
                    + " the tables look cut off", tableVa, n, f.describe(), firstString - tableEnd, tableEnd, firstString));
        }

        ExportKind[] kinds = new ExportKind[n];
        String boundaries = kinds(mem, k, f, run, tableVa, after, kinds);

        List<KernelExport> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long crc = after.crc(mem, layout, i);
            all.add(new KernelExport(names[i], values[i], kinds[i], namespaces[i], crc));
        }
        List<KernelExport> out = onePerName(all, k, warnings);
        long strings = firstString;
        return new ExportTable(List.copyOf(out), f, after.crcs(), tableVa, after.crcAddress(), after.flagsAddress(),
                strings, boundaries, List.copyOf(warnings));
    }

    /**
     * One entry per name, as modpost keeps one symbol per name. A kernel can carry two: bullseye
     * arm64 links KVM's nVHE copies of memcpy, memset, clear_page... with their own ksymtab
     * entries under the same names. The entry whose value kallsyms gives the name is kept, else
     * the first.
     */
    private static List<KernelExport> onePerName(List<KernelExport> all, KallsymsTable k, List<String> warnings) {
        Map<String, Integer> at = new HashMap<>();
        List<KernelExport> out = new ArrayList<>(all.size());
        List<String> twice = new ArrayList<>();
        for (KernelExport e : all) {
            Integer i = at.get(e.name());
            if (i == null) {
                at.put(e.name(), out.size());
                out.add(e);
                continue;
            }
            twice.add(e.name());
            Long real = k == null ? null : k.addressOf(e.name());
            if (real != null && real == e.value() && out.get(i).value() != e.value()) out.set(i, e);
        }
        if (!twice.isEmpty()) {
            warnings.add(twice.size() + " names have two __ksymtab entries (" + String.join(", ", twice.subList(0, Math.min(6, twice.size())))
                    + (twice.size() > 6 ? ", ..." : "") + "): kept the one kallsyms places at that name");
        }
        return out;
    }

    /**
     * Fills in each entry's export kind and says how it was decided: the flag byte where the
     * kernel has __kflagstab; else the __start___ksymtab_* symbols where kallsyms has them; else
     * the sections in their fixed order, each starting where the name order restarts.
     */
    private static String kinds(VirtualMemory mem, KallsymsTable k, SymbolEntryFormat f, Run run, long tableVa,
                                TrailingTables after, ExportKind[] kinds) {
        int n = kinds.length;
        if (after.hasFlags()) {
            int off = mem.offsetOf(after.flagsAddress());
            for (int i = 0; i < n; i++) {
                kinds[i] = (mem.bytes().u8(off + i) & TrailingTables.FLAG_GPL_ONLY) != 0 ? ExportKind.EXPORT_SYMBOL_GPL : ExportKind.EXPORT_SYMBOL;
            }
            return "__kflagstab (a GPL-only flag per symbol)";
        }
        int[] starts = new int[ExportKind.values().length];
        Arrays.fill(starts, -1);
        starts[0] = 0;
        boolean fromSymbols = false;
        if (k != null) {
            for (ExportKind kind : ExportKind.values()) {
                Long at = k.addressOf("__start_" + kind.section);
                if (at != null && kind.ordinal() > 0) {
                    long idx = (at - tableVa) / f.entrySize();
                    if (idx >= 0 && idx <= n) {
                        starts[kind.ordinal()] = (int) idx;
                        fromSymbols = true;
                    }
                }
            }
        }
        String how;
        if (fromSymbols) {
            how = "__start___ksymtab_* symbols in kallsyms";
        } else if (!run.sorted()) {
            how = "none: the table is not sorted by name (before 3.0) and kallsyms has no __start___ksymtab_* symbols;"
                    + " all taken as EXPORT_SYMBOL";
        } else {
            List<Integer> breaks = sortBreaks(mem, run);
            for (int b = 0; b < breaks.size(); b++) starts[b + 1] = breaks.get(b);
            how = switch (breaks.size()) {
                case 0 -> "name order (never restarts: no GPL-only section could be told apart, all taken as EXPORT_SYMBOL)";
                case 1 -> "name order (restarts once, at the first GPL-only entry)";
                default -> "name order (restarts " + breaks.size() + " times: sections in vmlinux.lds.h order)";
            };
        }
        ExportKind current = ExportKind.EXPORT_SYMBOL;
        for (int i = 0; i < n; i++) {
            for (ExportKind kind : ExportKind.values()) if (starts[kind.ordinal()] == i) current = kind;
            kinds[i] = current;
        }
        return how;
    }
}
