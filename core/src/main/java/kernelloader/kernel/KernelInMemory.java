package kernelloader.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import kernelloader.dump.PhysicalMemory;
import kernelloader.dump.RunningKernel;
import kernelloader.dump.VmcoreInfo;
import kernelloader.image.ByteView;
import kernelloader.image.ElfHeader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.kallsyms.KallsymsTable;

/**
 * The kernel's own image cut out of the memory around it: a memory dump (an ELF core's memory,
 * a raw pmemsave or JTAG dump) or a larger raw file (a flash dump) whose kallsyms table puts
 * {@code _text} deep inside. The image from {@code _text} to {@code _end} is searched again as a
 * file of its own, so that everything read from it (layout, exports, BTF, the ELF, Ghidra's
 * memory) is at the kernel's own addresses, starting at _text, rather than the whole dump being
 * mapped as text below it.
 *
 * <p>In a dump those addresses are the running kernel's (its table was relocated at boot); what
 * the dump says of that kernel (slide, physical address, VMCOREINFO) is its {@link RunningKernel}.
 */
final class KernelInMemory {
    private KernelInMemory() {}

    /** The kind of the layer a running kernel's image is cut out as. */
    static final String RUNNING = "kernel in memory";
    /** The kind of the layer a kernel image is cut out of a larger file as (no sign of a running kernel). */
    static final String EMBEDDED = "kernel image";
    /** _text this deep in a raw file is not a header's padding: the bytes before it are not the kernel's. */
    static final long MIN_DEPTH = 1L << 20;

    /**
     * The kernel cut out of {@code img}, the raw image or core memory the table {@code t} was
     * accepted in; null where there is nothing to cut (an ELF, a decoded stream, _text near the
     * start) or the cut image does not read as the same kernel (then the uncut reading stands).
     */
    static Kernel cutOut(String source, byte[] file, int fileLength, KernelImage img, Reading reading, KallsymsTable t,
                         KernelOptions options, Diagnostics.Recorder d) throws KernelFormatException {
        if (img.elf() != null || options.base() != null) return null;
        List<Layer> layers = img.layers();
        boolean core = layers.size() == 1 && PhysicalMemory.isKind(layers.get(0).kind());
        if (!core && !layers.isEmpty()) return null;
        Long text = t.addressOf("_text");
        if (text == null) return null;
        long off = reading.layout().fileOffsetOf(text);
        if (off < 0 || (!core && off < MIN_DEPTH)) return null;
        long t0 = System.nanoTime();
        PhysicalMemory memory = null;
        VmcoreInfo info = null;
        if (core && layers.get(0).kind().equals(PhysicalMemory.ELF_CORE)) {
            ElfHeader elf = ElfHeader.parse(file, fileLength);
            memory = PhysicalMemory.ofElfCore(elf, fileLength);
            info = VmcoreInfo.inNotes(elf, file, fileLength);
        } else if (core) {
            memory = PhysicalMemory.ofLime(file, fileLength);
        }
        String banner = Kernel.versionBanner(img);
        String release = releaseOf(banner);
        if (info == null) info = VmcoreInfo.inMemory(img.data(), img.length(), release);
        boolean running = core || info != null;
        long end = imageEnd(t, text, off, img.length());
        byte[] cut = Arrays.copyOfRange(img.data(), (int) off, (int) end);
        d.time("memory", System.nanoTime() - t0);
        // the image starts at _text: a table that needs its base (7.0+ self-relative offsets) is told it
        KallsymsFinder.Hints at = new KallsymsFinder.Hints(options.bits(), text,
                "where the kernel's image was cut out (_text, as the table read in the whole " + (running ? "dump" : "file") + " has it)");
        Kernel inner = KernelSearch.inFile(source, cut, cut.length, options.withTable(0), at, d);
        KallsymsTable k = inner.kallsyms().orNull();
        if (k == null || !text.equals(k.addressOf("_text")) || inner.layout().orNull() == null
                || inner.layout().orNull().base().value().longValue() != text) {
            d.rejected(List.of(String.format("the kernel image at 0x%x (_text 0x%x) does not read as the same kernel cut out: %s",
                    off, text, k == null ? inner.kallsyms().why() : "its table or base differs")));
            return null;
        }
        RunningKernel rk = !running ? null : RunningKernel.of(core ? memory.kind() : "raw memory", memory, off, k,
                new ByteView(cut, cut.length, k.order()), inner.layout().orNull(), info, release);
        String detail = String.format("_text at 0x%x of the %s, up to _end: %d bytes", off,
                core ? memory.kind() + "'s memory" : running ? "dump" : "file", cut.length)
                + (rk != null && rk.physicalText() != null ? String.format(", physical 0x%x", rk.physicalText().value()) : "");
        List<Layer> outer = new ArrayList<>(layers);
        outer.add(new Layer(running ? RUNNING : EMBEDDED, off, cut.length, detail));
        return inner.under(outer, fileLength).running(rk);
    }

    /** The release a banner names ("Linux version 6.12.1-amd64 (...)" gives "6.12.1-amd64"), or null. */
    static String releaseOf(String banner) {
        if (banner == null || !banner.startsWith("Linux version ")) return null;
        String rest = banner.substring("Linux version ".length());
        int sp = rest.indexOf(' ');
        return sp > 0 ? rest.substring(0, sp) : rest;
    }

    /**
     * Where the kernel's memory ends in the dump: _end (bss included: in a running kernel it
     * holds live data), else the page after its highest symbol; at most the dump's end.
     */
    private static long imageEnd(KallsymsTable t, long text, long off, long length) {
        Long end = t.addressOf("_end");
        long size;
        if (end != null && Long.compareUnsigned(end, text) > 0) {
            size = end - text;
        } else {
            size = 0;
            for (int i = 0; i < t.size(); i++) {
                char c = Character.toLowerCase(t.type(i));
                long a = t.address(i) - text;
                if (c != 'a' && a >= 0 && a < length - off) size = Math.max(size, a + 1);
            }
        }
        size = (size + 0xfff) & ~0xfffL;
        return Math.min(length, off + Math.max(size, 1));
    }
}
