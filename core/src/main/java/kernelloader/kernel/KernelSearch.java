package kernelloader.kernel;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import kernelloader.image.ElfProgramHeader;
import kernelloader.image.ElfSectionHeader;
import kernelloader.image.Facet;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportsAsSymbols;
import kernelloader.layout.KernelLayout;
import kernelloader.symbols.SymbolFile;
import kernelloader.unwrap.ImageUnwrapper;
import kernelloader.verify.ContentChecks;

/**
 * Where a {@link Kernel}'s symbols come from: the search the CLI, the loader, the analyzer and
 * the scripts all run, in this order:
 * <ol>
 * <li>the file as it is, then every layer the unwrapper peels, for each name encoding: the first
 *     kallsyms reading whose content checks pass ({@link ContentChecks}; a failed one is dropped
 *     for the next reading of the same arrays, or the next table);</li>
 * <li>a kallsyms reading in an ELF that fails there but passes read as a raw image: a kernel
 *     carried as data by another program, cut out and searched as a file of its own;</li>
 * <li>with a symbols file (--symbols), checked against the table found, or, without a table,
 *     placed on the first layer whose content confirms it;</li>
 * <li>without a table (and none refused by its content): the __ksymtab exports of the first
 *     layer that states a Linux banner.</li>
 * </ol>
 */
final class KernelSearch {
    private KernelSearch() {}

    /**
     * The kernel in a program's memory (laid out as one image from its lowest address), with the
     * program's own memory map: for the analyzer, the scripts and the exporters, which see what
     * another loader (or ours) made. Only {@code memory} itself is searched: its bytes are the
     * program's addresses, so tables inside compressed streams in it would not be.
     */
    static Kernel inMemory(String source, KernelImage memory, KernelLayout programLayout, KernelOptions options) {
        Diagnostics.Recorder d = new Diagnostics.Recorder();
        int bits = programLayout.bits();
        KernelOptions o = options.bits() == null && (bits == 32 || bits == 64) ? options.withBits(bits) : options;
        long t0 = System.nanoTime();
        List<String> rejected = new ArrayList<>();
        KallsymsTable found = null;
        Reading[] accepted = {null};
        for (KallsymsFinder.Names names : KallsymsFinder.Names.values()) {
            KallsymsFinder.Outcome out = KallsymsFinder.find(memory, o.hints(), names, t -> {
                Reading r = Reading.of(memory, t, programLayout, o);
                if (r.checks().refused()) {
                    rejected.add(Reading.describe(t) + " refused by its content (" + r.checks().failure() + ")");
                    return false;
                }
                accepted[0] = r;
                return true;
            });
            rejected.addAll(out.rejected());
            if ((found = out.table()) != null) break;
        }
        if (found == null && Kernel.versionBanner(memory) != null) {
            // a program holding a kernel without kallsyms: its exports, as the loader took them
            try {
                KallsymsTable e = ExportsAsSymbols.through(memory, programLayout);
                Reading r = Reading.of(memory, e, programLayout, o);
                if (!r.checks().refused() && r.checks().confirmedByContent()) {
                    found = e;
                    accepted[0] = r;
                } else {
                    rejected.add(Reading.describe(e) + " refused by its content (" + r.checks().failure() + ")");
                }
            } catch (KernelFormatException e) {
                rejected.add("no export table to fall back on: " + e.getMessage());
            }
        }
        d.time("kallsyms", System.nanoTime() - t0);
        d.rejected(rejected);
        Facet<KallsymsTable> k = found != null ? Facet.of(found)
                : Facet.absent(source + ": no kallsyms table in the program's memory (" + memory.length() + " bytes searched for"
                        + " compressed and uncompressed names" + (rejected.isEmpty() ? "" : "; rejected: " + rejected.get(0)) + ")");
        return new Kernel(source, memory.length(), o, memory, k, programLayout, accepted[0], null, d);
    }

    /** The search the CLI and the loader both run: the file as it is, then every layer inside, for each name encoding. */
    static Kernel inFile(String source, byte[] data, int length, KernelOptions options, Diagnostics.Recorder d)
            throws KernelFormatException {
        return inFile(source, data, length, options, options.hints(), d);
    }

    /** The search with what the caller knows of the tables ({@code hints}: a kernel cut out of a dump knows its base). */
    static Kernel inFile(String source, byte[] data, int length, KernelOptions options, KallsymsFinder.Hints hints,
                         Diagnostics.Recorder d) throws KernelFormatException {
        int table = options.table();
        List<String> skipped = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        long[] searchNanos = {0};
        KernelImage[] deepest = {null};
        Reading[] accepted = {null};
        // the layers seen, for the fallbacks when no layer has kallsyms (a symbols file, the exports)
        List<KernelImage> layers = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Set<String> inDumps = new HashSet<>();
        // whether the file is a raw memory dump: its VMCOREINFO, looked for once, when a layer inside is reached
        kernelloader.dump.VmcoreInfo[] memory = {null};
        int[] embedded = {-1};
        int[] refusedByContent = {0};
        KernelImage[] embeddedIn = {null};
        long t0 = System.nanoTime();
        ImageUnwrapper.Result<KallsymsTable> r = null;
        // one pass over the file's layers (each decoded once), every name encoding tried on each:
        // the kernel's compressed names first, then OpenWrt's uncompressed ones
        r = ImageUnwrapper.search(data, length, img -> {
            if (deepest[0] == null || img.layers().size() > deepest[0].layers().size()) deepest[0] = img;
            if (insideMemoryDump(img)) {
                // a compressed kernel in a memory dump (the boot loader's copy of the file) is
                // that file, at its link-time addresses, not the kernel that ran: not taken,
                // neither its table nor its exports
                if (inDumps.add(img.describeLayers())) {
                    rejected.add(img.describeLayers() + ": a stream inside a memory dump (a copy of a file in memory, not the running kernel): not searched");
                }
                return null;
            }
            if (!img.layers().isEmpty() && !kernelloader.dump.PhysicalMemory.isKind(img.layers().get(0).kind())
                    && inRawMemory(data, length, memory)) {
                // the same in a raw dump (it holds a running kernel's VMCOREINFO): the running
                // kernel's own table, had it been whole, was found in the dump itself first
                if (inDumps.add(img.describeLayers())) {
                    rejected.add(img.describeLayers() + ": a stream inside a memory dump (" + memory[0].where()
                            + "): a copy of a kernel file, at its link-time addresses, not the running kernel: not searched");
                }
                return null;
            }
            if (layers.size() < MAX_FALLBACK_LAYERS) layers.add(img);
            for (KallsymsFinder.Names names : KallsymsFinder.Names.values()) {
                long s = System.nanoTime();
                KallsymsFinder.Outcome o = KallsymsFinder.find(img, hints, names, t -> {
                    // every reading is checked by content before anything is printed or loaded
                    Reading reading = Reading.of(img, t, null, options);
                    if (reading.checks().refused() && img.elf() != null && embedded[0] < 0) {
                        // an ELF whose segments do not hold the kernel's symbols is another
                        // program carrying a kernel image as data: cut the kernel out below
                        int at = embeddedStart(img, t, options);
                        if (at >= 0) {
                            embedded[0] = at;
                            embeddedIn[0] = img;
                            rejected.add(img.describeLayers() + ": " + Reading.describe(t) + " does not fit the ELF's segments ("
                                    + reading.checks().failure() + "): a kernel image embedded at file offset 0x" + Integer.toHexString(at));
                            return true;
                        }
                    }
                    if (reading.checks().refused()) {
                        rejected.add(img.describeLayers() + ": " + Reading.describe(t) + " refused by its content ("
                                + reading.checks().failure() + ")");
                        refusedByContent[0]++;
                        return false;
                    }
                    // one kernel seen through nested layers (gzip, then the PE inside it, then its Image) is one table
                    String same = t.size() + ":" + t.address(0) + ":" + t.address(t.size() - 1) + ":" + t.name(t.size() - 1);
                    if (seen.contains(same)) return false;
                    if (skipped.size() == table) {
                        accepted[0] = reading;
                        return true;
                    }
                    seen.add(same);
                    skipped.add(img.describeLayers() + " (" + t.size() + " symbols)");
                    return false;
                });
                searchNanos[0] += System.nanoTime() - s;
                for (String why : o.rejected()) rejected.add(img.describeLayers() + ": " + why);
                if (o.table() != null) return o.table();
            }
            return null;
        });
        if (r.value() == null && embedded[0] < 0 && hints.tokenTableAddress() == null && hints.base() == null
                && rejected.stream().anyMatch(m -> m.contains("does not say where it is loaded")) && inRawMemory(data, length, memory)) {
            // a 7.0+ table in a raw dump whose pointers do not decide its base: a running
            // kernel's VMCOREINFO says where its token table is. Each kernel's in the file is
            // tried (a file may hold several kernels' memory); the reading is checked as any.
            d.rejected(rejected);
            Set<Long> tried = new HashSet<>();
            Kernel last = null;
            for (kernelloader.dump.VmcoreInfo v : kernelloader.dump.VmcoreInfo.allInMemory(data, length, MAX_VMCOREINFOS)) {
                Long tt = v.symbol("kallsyms_token_table");
                if (tt == null || !tried.add(tt)) continue;
                last = inFile(source, data, length, options,
                        hints.withTokenTableAt(tt, "VMCOREINFO's SYMBOL(kallsyms_token_table), in " + v.where()), d);
                if (last.kallsyms().present()) return last;
            }
            if (last != null) return last;
        }
        long t1 = System.nanoTime();
        d.time("unwrap", t1 - t0 - searchNanos[0]);
        d.time("kallsyms", searchNanos[0]);
        d.attempts(r.attempts());
        d.rejected(rejected);
        if (embedded[0] >= 0) return peelEmbedded(source, embeddedIn[0], embedded[0], options, d, rejected);
        SymbolFile symbols = options.symbols() == null ? null : SymbolFile.read(Path.of(options.symbols()));
        // the fallbacks and what unpack writes both ask each layer for its banner: searched once
        Map<KernelImage, String> banners = new IdentityHashMap<>();
        if (r.value() != null) {
            Reading reading = accepted[0];
            if (symbols != null) {
                // the user's symbols, checked against the image's own: a map of another build is refused
                reading = new Reading(reading.layout(), reading.checks().with(ContentChecks.symbolsFile(symbols, r.value())));
                if (reading.checks().refused()) {
                    return new Kernel(source, length, options, r.image(), Facet.absent(source + ": " + reading.checks().failure()),
                            null, null, data, d);
                }
            }
            if (symbols == null) {
                // a kernel deep in a dump or a larger file: its own image, cut out, searched again
                Kernel cut = KernelInMemory.cutOut(source, data, length, r.image(), reading, r.value(), options, d);
                if (cut != null) return cut;
            }
            return new Kernel(source, length, options, r.image(), Facet.of(r.value()), null, reading, null, d);
        }
        // a kallsyms table the image's content contradicts is refused, not replaced by the
        // exports: only a kernel without a readable table falls back (a user's symbols file may)
        if (skipped.isEmpty() && (refusedByContent[0] == 0 || symbols != null)) {
            // a raw dump's VMCOREINFO states the word size (its SYMBOL() addresses): the exports are read at it
            KernelOptions o = options;
            if (o.bits() == null && symbols == null && !layers.isEmpty() && layers.get(0).layers().isEmpty()
                    && inRawMemory(data, length, memory) && memory[0].symbol("_stext") != null) {
                o = options.withBits((memory[0].symbol("_stext") >>> 32) != 0 ? 64 : 32);
            }
            Kernel k = fallback(source, length, o, d, layers, symbols, rejected, banners);
            if (k != null) return k;
        }
        String why = !skipped.isEmpty()
                ? source + ": kallsyms table " + table + " asked for, but only " + skipped.size() + " found: " + String.join("; ", skipped)
                : symbols != null ? source + ": no layer fits " + symbols.describe() + " (" + String.join("; ", rejected.subList(Math.max(0, rejected.size() - 2), rejected.size())) + ")"
                : failure(source, length, r.attempts(), rejected);
        return new Kernel(source, length, options, innermost(layers, deepest[0], data, length, banners), Facet.absent(why), null, null, data, d);
    }

    /**
     * What `unpack` writes of a file without kallsyms: the deepest layer that states a Linux
     * banner (not the gzip of an embedded .config inside it), else the deepest layer.
     */
    private static KernelImage innermost(List<KernelImage> layers, KernelImage deepest, byte[] data, int length,
                                         Map<KernelImage, String> banners) {
        KernelImage best = null;
        for (KernelImage img : layers) {
            if ((best == null || img.layers().size() > best.layers().size()) && banner(img, banners) != null) best = img;
        }
        if (best != null) return best;
        return deepest != null ? deepest : new KernelImage(data, length, List.of(), null);
    }

    /**
     * Where a kernel image carried inside another ELF (a shared object or firmware container
     * holding it as data) starts in that ELF's file, or -1 when the table does not read as such
     * a kernel either: read as a raw image, the reading must pass its content checks; the
     * kernel then starts at its lowest text symbol's page, or at the arm64 / RISC-V Image header
     * up to 2 MiB before it (the header and head text precede _stext).
     */
    private static int embeddedStart(KernelImage host, KallsymsTable t, KernelOptions options) {
        KernelImage raw = new KernelImage(host.data(), host.length(), host.layers(), null);
        Reading r = Reading.of(raw, t, null, options);
        if (r.checks().refused()) return -1;
        long base = r.layout().base().value();
        long lowest = -1;
        for (int i = 0; i < t.size(); i++) {
            char c = t.type(i);
            if ((c == 't' || c == 'T') && (lowest == -1 || Long.compareUnsigned(t.address(i), lowest) < 0)) lowest = t.address(i);
        }
        if (lowest == -1 || Long.compareUnsigned(lowest - base, host.length()) >= 0) return -1;
        int text = (int) ((lowest - base) & ~0xfffL);
        byte[] d = host.data();
        for (int at = text; at >= 0 && at >= text - (2 << 20); at -= 4096) {
            if (at + 0x3c <= host.length() && ((d[at + 0x38] == 'A' && d[at + 0x39] == 'R' && d[at + 0x3a] == 'M' && d[at + 0x3b] == 0x64)
                    || (d[at + 0x38] == 'R' && d[at + 0x39] == 'S' && d[at + 0x3a] == 'C' && d[at + 0x3b] == 0x05))) {
                return at;
            }
        }
        return text;
    }

    /** The kernel cut out of the ELF that carries it, read as a file of its own, with the ELF as its outer layer. */
    private static Kernel peelEmbedded(String source, KernelImage host, int at, KernelOptions options, Diagnostics.Recorder d,
                                       List<String> rejected) throws KernelFormatException {
        // the kernel's bytes end with the section (else the segment) of the ELF that holds them
        long end = host.length();
        for (ElfSectionHeader sh : host.elf().sections()) {
            if (sh.type() != ElfSectionHeader.SHT_NOBITS && sh.offset() <= at && at < sh.offset() + sh.size()) {
                end = Math.min(end, sh.offset() + sh.size());
            }
        }
        if (end == host.length()) {
            for (ElfProgramHeader ph : host.elf().programHeaders()) {
                if (ph.offset() <= at && at < ph.offset() + ph.fileSize()) end = Math.min(end, ph.offset() + ph.fileSize());
            }
        }
        byte[] cut = Arrays.copyOfRange(host.data(), at, (int) end);
        Kernel inner = inFile(source, cut, cut.length, options, d);
        List<Layer> outer = new ArrayList<>(host.layers());
        outer.add(new Layer("embedded kernel", at, cut.length, "inside an ELF (e_machine " + host.elf().machine()
                + ") whose segments do not hold its symbols: a program carrying the kernel as data, up to the end of its section"));
        return inner.under(outer);
    }

    /** VMCOREINFOs read from one raw file for the bases they state: two copies per kernel, a few kernels. */
    private static final int MAX_VMCOREINFOS = 8;

    /** Layers kept for the fallbacks: a kernel is rarely more than a few layers deep. */
    private static final int MAX_FALLBACK_LAYERS = 8;

    /**
     * No layer holds kallsyms: the user's symbols file, placed on the first layer its content
     * checks accept; else the exports of the first layer that states a Linux banner (a kernel
     * built without CONFIG_KALLSYMS). Null when neither gives a table the checks accept.
     */
    private static Kernel fallback(String source, int length, KernelOptions options, Diagnostics.Recorder d,
                                   List<KernelImage> layers, SymbolFile symbols, List<String> rejected,
                                   Map<KernelImage, String> banners) {
        long t0 = System.nanoTime();
        try {
            for (KernelImage img : layers) {
                List<ExportsAsSymbols.Attempt> tries = new ArrayList<>();
                if (symbols != null) {
                    for (ByteOrder order : img.elf() != null ? new ByteOrder[] {img.elf().order()}
                            : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                        for (KallsymsTable t : symbols.tables(order)) tries.add(() -> t);
                    }
                } else if (banner(img, banners) != null) {
                    tries.addAll(ExportsAsSymbols.attempts(img, options.bits(), options.base()));
                }
                for (ExportsAsSymbols.Attempt a : tries) {
                    KallsymsTable t;
                    try {
                        t = a.read();
                    } catch (KernelFormatException e) {
                        rejected.add(img.describeLayers() + ": no kallsyms, and no export table to fall back on (" + e.getMessage() + ")");
                        continue;
                    }
                    if (t == null) continue;
                    Reading reading = Reading.of(img, t, null, options);
                    if (reading.checks().refused() || !reading.checks().confirmedByContent()) {
                        rejected.add(img.describeLayers() + ": " + Reading.describe(t) + " refused by its content ("
                                + (reading.checks().refused() ? reading.checks().failure()
                                        : "nothing in the image confirms it: no text symbol, pointer or banner to check") + ")");
                        continue;
                    }
                    return new Kernel(source, length, options, img, Facet.of(t), null, reading, null, d);
                }
            }
            return null;
        } finally {
            d.time(symbols != null ? "symbols file" : "exports fallback", System.nanoTime() - t0);
        }
    }

    /** Whether {@code img} was decoded or cut out of a memory dump (an ELF core, a LiME file), rather than being its memory. */
    private static boolean insideMemoryDump(KernelImage img) {
        return img.layers().size() > 1 && kernelloader.dump.PhysicalMemory.isKind(img.layers().get(0).kind());
    }

    /**
     * Whether the raw file {@code data} is the memory of a running kernel: it holds a
     * VMCOREINFO (looked for once, kept in {@code memo[0]}).
     */
    private static boolean inRawMemory(byte[] data, int length, kernelloader.dump.VmcoreInfo[] memo) {
        if (memo[0] == null) {
            kernelloader.dump.VmcoreInfo v = kernelloader.dump.VmcoreInfo.inMemory(data, length, null);
            memo[0] = v != null ? v : kernelloader.dump.VmcoreInfo.NOT_FOUND;
        }
        return memo[0] != kernelloader.dump.VmcoreInfo.NOT_FOUND;
    }

    /** The banner of {@code img}, searched for at most once per search ("" in the memo: none). */
    private static String banner(KernelImage img, Map<KernelImage, String> memo) {
        String b = memo.computeIfAbsent(img, i -> {
            String v = Kernel.versionBanner(i);
            return v == null ? "" : v;
        });
        return b.isEmpty() ? null : b;
    }

    /** One line saying what was tried, so a user knows why no table came out. */
    private static String failure(String source, int length, List<String> attempts, List<String> rejected) {
        StringBuilder sb = new StringBuilder();
        sb.append(source).append(": no kallsyms table found (searched ").append(length).append(" bytes as a raw image");
        if (attempts.isEmpty()) {
            sb.append(", no compressed stream or ELF inside");
        } else {
            sb.append(", and ").append(attempts.size()).append(" embedded stream(s): ");
            sb.append(String.join("; ", attempts.subList(0, Math.min(4, attempts.size()))));
            if (attempts.size() > 4) sb.append("; ...");
            // where the search gave up, if it did: a bound reached says how far it got
            for (String a : attempts.subList(Math.min(4, attempts.size()), attempts.size())) {
                if (a.startsWith("stopped: ")) sb.append("; ").append(a);
            }
        }
        if (!rejected.isEmpty()) {
            sb.append("; candidate tables rejected: ").append(String.join("; ", rejected.subList(0, Math.min(3, rejected.size()))));
        }
        sb.append("; tried compressed token-table names, 32/64-bit, LE/BE, every layout from 2.6.10 to 7.x")
          .append("; the kernel was probably built without CONFIG_KALLSYMS, or the file is not a kernel)");
        return sb.toString();
    }
}
