package kernelloader.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import kernelloader.btf.Btf;
import kernelloader.dump.RunningKernel;
import kernelloader.btf.BtfLocator;
import kernelloader.image.ByteView;
import kernelloader.image.Facet;
import kernelloader.image.IkConfig;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.KernelVersion;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KsymtabFinder;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.reloc.RelativeRelocations;
import kernelloader.reloc.Relocations;
import kernelloader.unwrap.ImageUnwrapper;
import kernelloader.verify.Check;
import kernelloader.verify.ContentChecks;
import kernelloader.verify.Verification;

/**
 * One Linux kernel as the core understands it: the one model every face (the CLI, the Ghidra
 * loader, the analyzer, the scripts, the exporters) asks, so that they all get the same answer.
 *
 * <p>The pipeline, written once: {@link #read} peels the file (containers, compressions) and
 * finds the symbol table ({@link KernelSearch}: kallsyms, else a symbols file or the exports);
 * every other facet is computed on first use from those, in this order of dependence, and kept:
 * <pre>
 *   image()        the peeled image as found; never written
 *   kallsyms()     the symbol table in it: the first reading the content checks accept (banner,
 *                  text, pointers, word size, base; see {@link ContentChecks}); its origin() says
 *                  whether it is kallsyms, a user's symbols file or the __ksymtab exports
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
    /** What the memory dump the kernel was cut out of says of it; null for a kernel read from a file. */
    private final RunningKernel running;

    private final Lazy<Facet<String>> banner = new Lazy<>();
    private final Lazy<Facet<KernelLayout>> inferredLayout = new Lazy<>();
    private final Lazy<Facet<KernelLayout>> layout = new Lazy<>();
    private final Lazy<Facet<Relocations>> relocations = new Lazy<>();
    private final Lazy<KernelImage> relocated = new Lazy<>();
    private final Lazy<Facet<ExportTable>> exports = new Lazy<>();
    private final Lazy<Facet<BtfLocator.Found>> btf = new Lazy<>();
    private final Lazy<Facet<String>> config = new Lazy<>();

    private final Lazy<Facet<Verification>> verification = new Lazy<>();

    Kernel(String source, long fileSize, KernelOptions options, KernelImage image, Facet<KallsymsTable> kallsyms,
           KernelLayout givenLayout, Reading reading, byte[] unsearchedFile, Diagnostics.Recorder diagnostics) {
        this(source, fileSize, options, image, kallsyms, givenLayout, reading, unsearchedFile, diagnostics, null);
    }

    private Kernel(String source, long fileSize, KernelOptions options, KernelImage image, Facet<KallsymsTable> kallsyms,
                   KernelLayout givenLayout, Reading reading, byte[] unsearchedFile, Diagnostics.Recorder diagnostics,
                   RunningKernel running) {
        this.running = running;
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
        kernelloader.image.InputFile.check(file);
        long size = Files.size(file);
        if (options.fileOffset() >= size && options.fileOffset() > 0) {
            throw new KernelFormatException(file + ": file offset 0x" + Long.toHexString(options.fileOffset())
                    + " is outside the file (" + size + " bytes)");
        }
        // a whole eMMC or flash dump: searched in windows of 1 GiB
        if (size - options.fileOffset() > MAX_FILE) return FileWindows.search(file, size, options);
        // only the bytes from the offset on are read: the rest would be copied away at once
        byte[] data = kernelloader.image.InputFile.read(file, options.fileOffset(), size);
        return search(file.toString(), data, data.length, options, System.nanoTime() - t0);
    }

    /** The kernel in the first {@code length} bytes of {@code data} (a file already read, stdin, a Ghidra ByteProvider). */
    public static Kernel read(String source, byte[] data, int length, KernelOptions options) throws KernelFormatException {
        return read(source, data, length, options, -1);
    }

    /**
     * The kernel in the first {@code length} bytes of {@code data}, which are a file's bytes
     * from {@code options}' file offset on (a Ghidra ByteProvider read from there).
     */
    public static Kernel readFromOffset(String source, byte[] data, int length, KernelOptions options) throws KernelFormatException {
        return search(source, data, length, options, -1);
    }

    private static Kernel read(String source, byte[] data, int length, KernelOptions options, long readNanos)
            throws KernelFormatException {
        if (options.fileOffset() > 0) {
            if (options.fileOffset() >= length) {
                throw new KernelFormatException(source + ": file offset 0x" + Long.toHexString(options.fileOffset())
                        + " is outside the file (" + length + " bytes)");
            }
            data = Arrays.copyOfRange(data, (int) options.fileOffset(), length);
            length = data.length;
        }
        return search(source, data, length, options, readNanos);
    }

    /** The search over bytes that start where the kernel image does (the file offset already cut off). */
    private static Kernel search(String source, byte[] data, int length, KernelOptions options, long readNanos)
            throws KernelFormatException {
        Diagnostics.Recorder d = new Diagnostics.Recorder();
        if (readNanos >= 0) d.time("read", readNanos);
        return KernelSearch.inFile(source, data, length, options, d);
    }

    /**
     * The kernel in a program's memory (laid out as one image from its lowest address), with the
     * program's own memory map: for the analyzer, the scripts and the exporters, which see what
     * another loader (or ours) made. Only {@code memory} itself is searched: its bytes are the
     * program's addresses, so tables inside compressed streams in it would not be.
     */
    public static Kernel fromMemory(String source, KernelImage memory, KernelLayout programLayout, KernelOptions options) {
        return KernelSearch.inMemory(source, memory, programLayout, options);
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
            // the string at linux_banner where kallsyms says where it is (an image may hold other
            // "Linux version" strings first: a template without the build number); else the first
            String b = null;
            Long at = reading == null || !kallsyms.present() ? null : kallsyms.orNull().addressOf("linux_banner");
            long off = at == null ? -1 : reading.layout().fileOffsetOf(at);
            if (off >= 0 && off < image.length() - 14 && new String(image.data(), (int) off, 14, StandardCharsets.ISO_8859_1).equals("Linux version ")) {
                b = bannerAt(image, (int) off);
            }
            if (b == null) b = versionBanner(image);
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

    /** This kernel with {@code outer} layers before its own (what it was cut out of). */
    Kernel under(List<Layer> outer) {
        return under(outer, fileSize);
    }

    /** This kernel with another kallsyms facet (a reason that covers more than its own search), from a file of {@code fileSize} bytes. */
    Kernel withKallsyms(Facet<KallsymsTable> k, long fileSize) {
        return new Kernel(source, fileSize, options, image, k, givenLayout, reading, unsearchedFile, diagnostics, running);
    }

    /** This kernel with {@code outer} layers before its own, read from a file of {@code fileSize} bytes. */
    Kernel under(List<Layer> outer, long fileSize) {
        List<Layer> all = new ArrayList<>(outer);
        all.addAll(image.layers());
        KernelImage img = new KernelImage(image.data(), image.length(), all, image.elf());
        Reading rd = reading;
        if (rd != null) {
            // the layout was inferred from the same bytes; the layers only say where they came from
            rd = new Reading(rd.layout(), rd.checks());
        }
        return new Kernel(source, fileSize, options, img, kallsyms, givenLayout, rd, unsearchedFile, diagnostics, running);
    }

    /** This kernel as the running kernel of a memory dump, which {@code rk} describes (null: not one). */
    Kernel running(RunningKernel rk) {
        return new Kernel(source, fileSize, options, image, kallsyms, givenLayout, reading, unsearchedFile, diagnostics, rk);
    }

    /**
     * The kernel as it ran, for a kernel found in a memory dump (an ELF core, a raw dump with
     * the kernel's VMCOREINFO): its runtime _text, KASLR slide and physical address, each with its
     * evidence. Absent for a kernel read from a file.
     */
    public Facet<RunningKernel> running() {
        return running != null ? Facet.of(running) : Facet.absent(source + ": not a memory dump (no ELF core, no VMCOREINFO of the kernel in it)");
    }

    /** The file offset of the "Linux version ..." banner of {@code img} (see {@link #versionBanner}), or -1. */
    static int versionBannerOffset(KernelImage img) {
        byte[] needle = "Linux version ".getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        while (true) {
            int p = ByteView.indexOf(img.data(), img.length(), needle, from);
            if (p < 0) return -1;
            if (bannerAt(img, p) != null) return p;
            from = p + 1;
        }
    }

    /** The banner starting at {@code p}, or null where those bytes are a format string or a fragment. */
    private static String bannerAt(KernelImage img, int p) {
        int end = p;
        while (end < img.length() && end - p < 512 && img.data()[end] != '\n' && img.data()[end] != 0) end++;
        String s = new String(img.data(), p, end - p, StandardCharsets.ISO_8859_1);
        // the real banner continues with a release and a "(user@host)"; format strings such
        // as "Linux version %s" do not
        return s.length() > 20 && !s.contains("%") && s.contains("(") ? s.trim() : null;
    }

    /** The "Linux version ..." banner of {@code img} (linux_banner), up to its newline, or null. */
    static String versionBanner(KernelImage img) {
        int p = versionBannerOffset(img);
        return p < 0 ? null : bannerAt(img, p);
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
