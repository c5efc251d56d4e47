package kernelloader.kernel;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfLocator;
import kernelloader.image.ByteView;
import kernelloader.image.Facet;
import kernelloader.image.IkConfig;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.KernelVersion;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.ExportsAsSymbols;
import kernelloader.ksymtab.KsymtabFinder;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.reloc.RelativeRelocations;
import kernelloader.reloc.Relocations;
import kernelloader.symbols.SymbolFile;
import kernelloader.unwrap.ImageUnwrapper;
import kernelloader.verify.Check;
import kernelloader.verify.ContentChecks;
import kernelloader.verify.Verification;

/**
 * One Linux kernel as the core understands it: the one model every face (the CLI, the Ghidra
 * loader, the analyzer, the scripts, the exporters) asks, so that they all get the same answer.
 *
 * <p>The pipeline, written once: {@link #read} peels the file (containers, compressions) and
 * finds the kallsyms table; every other facet is computed on first use from those, in this
 * order of dependence, and kept:
 * <pre>
 *   image()        the peeled image as found; never written
 *   kallsyms()     the symbol table in it: the first reading of it the content checks accept
 *                  (banner, text, pointers, word size, base; see {@link ContentChecks})
 *   banner(), version()
 *   (inferred layout: architecture, word size, byte order, base, regions, entry (image + kallsyms + options))
 *   relocations()  RELATIVE relocations as data                                (image + inferred layout)
 *   relocated()    the image with them applied: a copy, only if there are any
 *   exports()      __ksymtab, read from relocated()                            (relocated + inferred layout + kallsyms + version)
 *   layout()       the inferred layout, with bss reaching the exported variables past the image
 *                  where nothing else says where memory ends                    (inferred layout + exports)
 *   btf()          .BTF, read from image()                                      (image + inferred layout + kallsyms)
 *   config()       the embedded .config                                         (image)
 *   verification() the content checks of the reading, with the exports' agreement (kallsyms + exports)
 * </pre>
 * Each facet is a {@link Facet}: its value or the reason there is none. Whether a face applies
 * {@link #relocations()} to what it loads or writes (Ghidra memory, the ELF) is
 * {@link KernelOptions#relocations()}; what the kernel exports does not depend on it.
 *
 * <p>Immutable from outside; facets are computed lazily and at most once (thread-safe).
 */
public final class Kernel {
    /** Files beyond this are not kernels (and would not fit a Java array). */
    public static final long MAX_FILE = Integer.MAX_VALUE - 64;

    private final String source;
    private final long fileSize;
    private final KernelOptions options;
    private final KernelImage image;
    private final Facet<KallsymsTable> kallsyms;
    /** The layout a program already has (fromMemory), or null to infer one. */
    private final KernelLayout givenLayout;
    /** The reading the checks accepted: its layout (inferred, or the program's) and its checks; null without kallsyms. */
    private final Reading reading;
    /** The file's bytes, kept only when no kallsyms was found: BTF is then searched in every layer. */
    private final byte[] unsearchedFile;
    private final Diagnostics.Recorder diagnostics;

    private final Lazy<Facet<String>> banner = new Lazy<>();
    private final Lazy<Facet<KernelLayout>> inferredLayout = new Lazy<>();
    private final Lazy<Facet<KernelLayout>> layout = new Lazy<>();
    private final Lazy<Facet<Relocations>> relocations = new Lazy<>();
    private final Lazy<KernelImage> relocated = new Lazy<>();
    private final Lazy<Facet<ExportTable>> exports = new Lazy<>();
    private final Lazy<Facet<BtfLocator.Found>> btf = new Lazy<>();
    private final Lazy<Facet<String>> config = new Lazy<>();

    private final Lazy<Facet<Verification>> verification = new Lazy<>();

    /** A reading of a table through a layout, and what the content checks made of it. */
    private record Reading(KernelLayout layout, Verification checks) {
        static Reading of(KernelImage img, KallsymsTable t, KernelLayout given, KernelOptions options) {
            KernelLayout l = given != null ? given : LayoutInference.infer(img, t, options.overrides());
            return new Reading(l, ContentChecks.reading(img, t, l));
        }

        static String describe(KallsymsTable t) {
            return String.format("a %d-bit %s reading of %d symbols", t.bits(),
                    t.layout() == null ? t.baseEvidence() : t.layout().era(), t.size());
        }
    }

    private Kernel(String source, long fileSize, KernelOptions options, KernelImage image, Facet<KallsymsTable> kallsyms,
                   KernelLayout givenLayout, Reading reading, byte[] unsearchedFile, Diagnostics.Recorder diagnostics) {
        this.source = source;
        this.reading = reading;
        this.fileSize = fileSize;
        this.options = options;
        this.image = image;
        this.kallsyms = kallsyms;
        this.givenLayout = givenLayout;
        this.unsearchedFile = unsearchedFile;
        this.diagnostics = diagnostics;
    }

    /**
     * The kernel in {@code file}. Only what makes reading impossible is thrown (no such file,
     * too large, an offset past its end); a file without a kernel is a Kernel whose kallsyms
     * facet says what was tried.
     */
    public static Kernel read(Path file, KernelOptions options) throws IOException, KernelFormatException {
        long t0 = System.nanoTime();
        if (!Files.isRegularFile(file)) throw new KernelFormatException(file + ": no such file");
        if (!Files.isReadable(file)) throw new KernelFormatException(file + ": not readable (permissions)");
        long size = Files.size(file);
        if (size > MAX_FILE) throw new KernelFormatException(file + ": " + size + " bytes is larger than any kernel image (limit 2 GiB)");
        byte[] data = Files.readAllBytes(file);
        return read(file.toString(), data, data.length, options, System.nanoTime() - t0);
    }

    /** The kernel in the first {@code length} bytes of {@code data} (a file already read, stdin, a Ghidra ByteProvider). */
    public static Kernel read(String source, byte[] data, int length, KernelOptions options) throws KernelFormatException {
        return read(source, data, length, options, -1);
    }

    private static Kernel read(String source, byte[] data, int length, KernelOptions options, long readNanos)
            throws KernelFormatException {
        Diagnostics.Recorder d = new Diagnostics.Recorder();
        if (readNanos >= 0) d.time("read", readNanos);
        if (options.fileOffset() > 0) {
            if (options.fileOffset() >= length) {
                throw new KernelFormatException(source + ": file offset 0x" + Long.toHexString(options.fileOffset())
                        + " is outside the file (" + length + " bytes)");
            }
            data = Arrays.copyOfRange(data, (int) options.fileOffset(), length);
            length = data.length;
        }
        return search(source, data, length, options, d);
    }

    /**
     * The kernel in a program's memory (laid out as one image from its lowest address), with the
     * program's own memory map: for the analyzer, the scripts and the exporters, which see what
     * another loader (or ours) made. Only {@code memory} itself is searched: its bytes are the
     * program's addresses, so tables inside compressed streams in it would not be.
     */
    public static Kernel fromMemory(String source, KernelImage memory, KernelLayout programLayout, KernelOptions options) {
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
        if (found == null && versionBanner(memory) != null) {
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
    private static Kernel search(String source, byte[] data, int length, KernelOptions options, Diagnostics.Recorder d)
            throws KernelFormatException {
        int table = options.table();
        List<String> skipped = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        long[] searchNanos = {0};
        KernelImage[] deepest = {null};
        Reading[] accepted = {null};
        // the layers seen, for the fallbacks when no layer has kallsyms (a symbols file, the exports)
        List<KernelImage> layers = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        int[] embedded = {-1};
        int[] refusedByContent = {0};
        KernelImage[] embeddedIn = {null};
        long t0 = System.nanoTime();
        ImageUnwrapper.Result<KallsymsTable> r = null;
        for (KallsymsFinder.Names names : KallsymsFinder.Names.values()) {
            r = ImageUnwrapper.search(data, length, img -> {
                if (deepest[0] == null || img.layers().size() > deepest[0].layers().size()) deepest[0] = img;
                if (names == KallsymsFinder.Names.COMPRESSED && layers.size() < MAX_FALLBACK_LAYERS) layers.add(img);
                long s = System.nanoTime();
                KallsymsFinder.Outcome o = KallsymsFinder.find(img, options.hints(), names, t -> {
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
                return o.table();
            });
            if (r.value() != null) break;
        }
        long t1 = System.nanoTime();
        d.time("unwrap", t1 - t0 - searchNanos[0]);
        d.time("kallsyms", searchNanos[0]);
        d.attempts(r.attempts());
        d.rejected(rejected);
        if (embedded[0] >= 0) return peelEmbedded(source, embeddedIn[0], embedded[0], options, d, rejected);
        SymbolFile symbols = options.symbols() == null ? null : SymbolFile.read(Path.of(options.symbols()));
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
            return new Kernel(source, length, options, r.image(), Facet.of(r.value()), null, reading, null, d);
        }
        // a kallsyms table the image's content contradicts is refused, not replaced by the
        // exports: only a kernel without a readable table falls back (a user's symbols file may)
        if (skipped.isEmpty() && (refusedByContent[0] == 0 || symbols != null)) {
            Kernel k = fallback(source, length, options, d, layers, symbols, rejected);
            if (k != null) return k;
        }
        String why = !skipped.isEmpty()
                ? source + ": kallsyms table " + table + " asked for, but only " + skipped.size() + " found: " + String.join("; ", skipped)
                : symbols != null ? source + ": no layer fits " + symbols.describe() + " (" + String.join("; ", rejected.subList(Math.max(0, rejected.size() - 2), rejected.size())) + ")"
                : failure(source, length, r.attempts(), rejected);
        return new Kernel(source, length, options, innermost(layers, deepest[0], data, length), Facet.absent(why), null, null, data, d);
    }

    /**
     * What `unpack` writes of a file without kallsyms: the deepest layer that states a Linux
     * banner (not the gzip of an embedded .config inside it), else the deepest layer.
     */
    private static KernelImage innermost(List<KernelImage> layers, KernelImage deepest, byte[] data, int length) {
        KernelImage best = null;
        for (KernelImage img : layers) {
            if ((best == null || img.layers().size() > best.layers().size()) && versionBanner(img) != null) best = img;
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
        for (kernelloader.image.ElfSectionHeader sh : host.elf().sections()) {
            if (sh.type() != kernelloader.image.ElfSectionHeader.SHT_NOBITS && sh.offset() <= at && at < sh.offset() + sh.size()) {
                end = Math.min(end, sh.offset() + sh.size());
            }
        }
        if (end == host.length()) {
            for (kernelloader.image.ElfProgramHeader ph : host.elf().programHeaders()) {
                if (ph.offset() <= at && at < ph.offset() + ph.fileSize()) end = Math.min(end, ph.offset() + ph.fileSize());
            }
        }
        byte[] cut = Arrays.copyOfRange(host.data(), at, (int) end);
        Kernel inner = search(source, cut, cut.length, options, d);
        List<Layer> outer = new ArrayList<>(host.layers());
        outer.add(new Layer("embedded kernel", at, cut.length, "inside an ELF (e_machine " + host.elf().machine()
                + ") whose segments do not hold its symbols: a program carrying the kernel as data, up to the end of its section"));
        return inner.under(outer);
    }

    /** This kernel with {@code outer} layers before its own (what it was cut out of). */
    private Kernel under(List<Layer> outer) {
        List<Layer> all = new ArrayList<>(outer);
        all.addAll(image.layers());
        KernelImage img = new KernelImage(image.data(), image.length(), all, image.elf());
        Reading rd = reading;
        if (rd != null) {
            // the layout was inferred from the same bytes; the layers only say where they came from
            rd = new Reading(rd.layout(), rd.checks());
        }
        return new Kernel(source, fileSize, options, img, kallsyms, givenLayout, rd, unsearchedFile, diagnostics);
    }

    /** Layers kept for the fallbacks: a kernel is rarely more than a few layers deep. */
    private static final int MAX_FALLBACK_LAYERS = 8;

    /**
     * No layer holds kallsyms: the user's symbols file, placed on the first layer its content
     * checks accept; else the exports of the first layer that states a Linux banner (a kernel
     * built without CONFIG_KALLSYMS). Null when neither gives a table the checks accept.
     */
    private static Kernel fallback(String source, int length, KernelOptions options, Diagnostics.Recorder d,
                                   List<KernelImage> layers, SymbolFile symbols, List<String> rejected) {
        long t0 = System.nanoTime();
        try {
            for (KernelImage img : layers) {
                List<ExportsAsSymbols.Attempt> tries = new ArrayList<>();
                if (symbols != null) {
                    for (ByteOrder order : img.elf() != null ? new ByteOrder[] {img.elf().order()}
                            : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                        for (KallsymsTable t : symbols.tables(order)) tries.add(() -> t);
                    }
                } else if (versionBanner(img) != null) {
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
        }
        if (!rejected.isEmpty()) {
            sb.append("; candidate tables rejected: ").append(String.join("; ", rejected.subList(0, Math.min(3, rejected.size()))));
        }
        sb.append("; tried compressed token-table names, 32/64-bit, LE/BE, every layout from 2.6.10 to 7.x")
          .append("; the kernel was probably built without CONFIG_KALLSYMS, or the file is not a kernel)");
        return sb.toString();
    }

    /** Where the kernel came from: a path, "-" for stdin, a Ghidra program's name. */
    public String source() { return source; }

    /** The size of what was read (the file, or the program's memory image). */
    public long fileSize() { return fileSize; }

    public KernelOptions options() { return options; }

    /**
     * The peeled image as found, never written: the one holding kallsyms, or, where there is
     * none, the deepest layer that could be peeled (what `unpack` writes).
     */
    public KernelImage image() { return image; }

    public Facet<KallsymsTable> kallsyms() { return kallsyms; }

    /** The "Linux version ..." banner (linux_banner), up to its newline. */
    public Facet<String> banner() {
        return banner.get(() -> {
            String b = versionBanner(image);
            return b != null ? Facet.of(b) : Facet.absent(source + ": no \"Linux version\" banner in the image");
        });
    }

    /** The release the banner states. */
    public Facet<KernelVersion> version() {
        Facet<String> b = banner();
        KernelVersion v = KernelVersion.fromBanner(b.orNull());
        return v != null ? Facet.of(v) : Facet.absent(b.present() ? "the banner names no release: " + b.orNull() : b.why());
    }

    /**
     * Where the kernel lives in memory; the program's own map for {@link #fromMemory}. For a raw
     * image whose memory end nothing states (no image_size, no _end in kallsyms), the exported
     * variables past the image's end extend it with an uninitialised bss region.
     */
    public Facet<KernelLayout> layout() {
        return layout.get(() -> {
            Facet<KernelLayout> l = inferredLayout();
            if (!l.present() || givenLayout != null || !LayoutInference.memoryEndUnknown(l.orNull(), image, kallsyms.orNull())) return l;
            ExportTable t = exports().orNull();
            if (t == null) return l;
            long[] values = t.exports().stream().mapToLong(e -> e.value()).toArray();
            return Facet.of(LayoutInference.withBssReaching(l.orNull(), image, kallsyms.orNull(), values));
        });
    }

    /** The layout inferred from the image and kallsyms alone: what the tables are read through. */
    private Facet<KernelLayout> inferredLayout() {
        return inferredLayout.get(() -> {
            if (!kallsyms.present()) return Facet.absent(kallsyms.why());
            return Facet.of(reading.layout());
        });
    }

    /** The kernel's RELATIVE relocations (arm64, RISC-V, ... raw images linked with RELA), as data. */
    public Facet<Relocations> relocations() {
        return relocations.get(() -> {
            Facet<KernelLayout> l = inferredLayout();
            if (!l.present()) return Facet.absent(l.why());
            return timed("relocations", () -> RelativeRelocations.find(image, l.orNull()));
        });
    }

    /** The image as the kernel sees it after boot-time relocation: {@link #image()} itself when there is nothing to apply. */
    public KernelImage relocated() {
        return relocated.get(() -> {
            Relocations r = relocations().orNull();
            if (r == null) return image;
            byte[] copy = r.appliedTo(image.data(), image.length());
            return new KernelImage(copy, copy.length, image.layers(), image.elf());
        });
    }

    /**
     * The relocations a face applies to what it loads or writes (the ELF, Ghidra memory): the
     * kernel's own, unless the options turned them off.
     */
    public Facet<Relocations> relocationsToApply() {
        return options.relocations() ? relocations() : Facet.absent("relocations turned off by the options");
    }

    /** The exported symbols (__ksymtab), always read from {@link #relocated()}. */
    public Facet<ExportTable> exports() {
        return exports.get(() -> {
            Facet<KernelLayout> l = inferredLayout();
            if (!l.present()) return Facet.absent(l.why());
            KernelImage bytes = relocated();
            return timed("exports", () -> {
                ExportTable t;
                try {
                    t = KsymtabFinder.find(bytes, l.orNull(), kallsyms.orNull(), version().orNull());
                } catch (KernelFormatException e) {
                    return Facet.absent(source + ": " + e.getMessage());
                }
                Check agree = ContentChecks.exports(t.exports(), kallsyms.orNull());
                exportsCheck = agree;
                // a table the kernel's own symbols contradict is not the kernel's export table
                if (agree.failed()) return Facet.absent(source + ": the export table at 0x" + Long.toHexString(t.ksymtabAddress())
                        + " disagrees with kallsyms: " + agree.detail());
                return Facet.of(t);
            });
        });
    }

    /** The kernel's BTF (CONFIG_DEBUG_INFO_BTF), read from the image as shipped (it holds no pointers). */
    public Facet<BtfLocator.Found> btf() {
        return btf.get(() -> timed("btf", () -> btfOver(null)));
    }

    /**
     * The BTF of this file as split BTF continuing {@code base} (a module's .BTF over vmlinux's),
     * or, with null, its own: through kallsyms and the memory map where there are any, else by
     * header in every layer of the file (a bare .BTF blob, a kernel built without KALLSYMS).
     */
    public Facet<BtfLocator.Found> btfOver(Btf base) {
        BtfLocator.Outcome o;
        if (kallsyms.present()) {
            o = BtfLocator.find(image, inferredLayout().orNull(), kallsyms.orNull(), base);
        } else {
            List<String> tried = new ArrayList<>();
            byte[] file = unsearchedFile != null ? unsearchedFile : image.data();
            int length = unsearchedFile != null ? unsearchedFile.length : image.length();
            ImageUnwrapper.Result<BtfLocator.Found> r = ImageUnwrapper.search(file, length, img -> {
                BtfLocator.Outcome one = BtfLocator.find(img, null, null, base);
                if (one.found() == null) for (String t : one.tried()) tried.add(img.describeLayers() + ": " + t);
                return one.found();
            });
            o = new BtfLocator.Outcome(r.value(), tried.subList(0, Math.min(3, tried.size())));
        }
        return o.found() != null ? Facet.of(o.found()) : Facet.absent(o.failure(source));
    }

    /** The kernel's own .config (CONFIG_IKCONFIG), as scripts/extract-ikconfig finds it. */
    public Facet<String> config() {
        return config.get(() -> {
            String c = IkConfig.find(image);
            return c != null ? Facet.of(c) : Facet.absent(source + ": no embedded .config (looked for the IKCFG_ST/IKCFG_ED blob;"
                    + " the kernel was probably built without CONFIG_IKCONFIG)");
        });
    }

    private volatile Check exportsCheck;

    /**
     * What the content checks made of the reading: the banner, text, pointer, word-size and base
     * checks it passed to be accepted, and whether the exports agree with it (reading the
     * exports if they were not read yet). Absent without a kallsyms table.
     */
    public Facet<Verification> verification() {
        return verification.get(() -> {
            if (reading == null) return Facet.absent(kallsyms.why());
            exports();
            Check e = exportsCheck;
            return Facet.of(e != null ? reading.checks().with(e)
                    : reading.checks().with(new Check("exports", Check.Verdict.NOT_APPLICABLE, "no export table: " + exports().why())));
        });
    }

    /** What was tried on the way and how long each facet took so far: a snapshot. */
    public Diagnostics diagnostics() {
        return diagnostics.snapshot();
    }

    private <T> T timed(String phase, Supplier<T> work) {
        long t0 = System.nanoTime();
        try {
            return work.get();
        } finally {
            diagnostics.time(phase, System.nanoTime() - t0);
        }
    }

    /** The "Linux version ..." banner of {@code img} (linux_banner), up to its newline, or null. */
    static String versionBanner(KernelImage img) {
        byte[] needle = "Linux version ".getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        while (true) {
            int p = ByteView.indexOf(img.data(), img.length(), needle, from);
            if (p < 0) return null;
            int end = p;
            while (end < img.length() && end - p < 512 && img.data()[end] != '\n' && img.data()[end] != 0) end++;
            String s = new String(img.data(), p, end - p, StandardCharsets.ISO_8859_1);
            // the real banner continues with a release and a "(user@host)"; format strings such
            // as "Linux version %s" do not
            if (s.length() > 20 && !s.contains("%") && s.contains("(")) return s.trim();
            from = p + 1;
        }
    }

    /** A value computed on first use, at most once. */
    private static final class Lazy<T> {
        private T value;

        synchronized T get(Supplier<T> compute) {
            if (value == null) value = compute.get();
            return value;
        }
    }
}
