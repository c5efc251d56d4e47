package kernelloader.verify;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kernelloader.evidence.LongHashSet;
import kernelloader.evidence.PointerEvidence;
import kernelloader.image.ByteView;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.KernelExport;
import kernelloader.layout.Architecture;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import kernelloader.symbols.SymbolFile;

/**
 * Checks a reading of a kernel (symbols placed by a layout) against what the image's bytes
 * hold, so that a table read in the wrong era, at the wrong word size or from the wrong base is
 * refused instead of printed. Each check looks at content the reading predicts:
 * <ul>
 * <li>banner: {@code linux_banner} holds "Linux version " (init/version.c);</li>
 * <li>text: text symbols lie in the image's bytes, on the architecture's instruction alignment;</li>
 * <li>pointers: the image's own pointer-sized words (operation tables, initcalls, relocation
 *     addends) point at the text symbols' addresses; a misread table matches almost none;</li>
 * <li>word size: on a 64-bit reading whose addresses all fit in 32 bits, those pointers fill
 *     whole 8-byte words; on a 32-bit reading, they are not the low halves of 8-byte words;</li>
 * <li>base: {@code _text} (or {@code _stext}) lies in the image, and an arm64 base agrees
 *     with the header's text_offset;</li>
 * <li>symbols file: a user's System.map agrees with the table ({@link #symbolsFile});</li>
 * <li>exports: the __ksymtab values of names kallsyms also lists are kallsyms' addresses
 *     ({@link #exports}, run once the exports are read).</li>
 * </ul>
 * Thresholds are far from what real kernels show and far from what a misreading gives (the
 * figures on the corpus: docs/formats.md).
 */
public final class ContentChecks {
    /** Below this share of aligned text symbols the addresses are not instruction starts. */
    static final double MIN_ALIGNED = 0.98;
    /** Below this share of text symbols inside the image's bytes the base or the addresses are wrong. */
    static final double MIN_INSIDE = 0.9;
    /** Fewer pointer hits than this, per thousand text symbols, is a reading the image does not know. */
    static final int MIN_POINTER_HITS_PER_MILLE = 20;
    /** The neighbouring readings a right one must stand out from: the same addresses a page away. */
    static final long NEIGHBOUR = 0x1000;
    /** How many times more pointers hit the reading than its neighbours (3.3x to 98x on the 29 corpus kernels, under 1x for a reading a page off). */
    static final int PEAK = 2;
    /** Below this share of agreeing exports, kallsyms and __ksymtab do not describe the same kernel. */
    static final double MIN_EXPORTS_AGREEING = 0.9;

    private ContentChecks() {}

    /** The checks of a reading that need only the image, the table and the layout. */
    public static Verification reading(KernelImage img, KallsymsTable k, KernelLayout layout) {
        return reading(img, k, () -> layout).verification();
    }

    /** A reading's checks and the layout they were made through. */
    public record Checked(KernelLayout layout, Verification verification) {}

    /**
     * The checks of a reading whose layout is still to be inferred: the pass over the image's
     * words, which needs no layout, runs beside the inference (two cores are the norm; the
     * checks then cost little more than the inference, which every face but `list` needs anyway).
     */
    public static Checked reading(KernelImage img, KallsymsTable k, java.util.function.Supplier<KernelLayout> inferLayout) {
        long[] text = textAddresses(k);
        // one pass over the image's words serves both pointer checks where pointers are 4 bytes
        java.util.concurrent.CompletableFuture<PointerEvidence.Census> census =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> census(img, k, text, k.bits() / 8));
        KernelLayout layout = inferLayout.get();
        List<Check> checks = new ArrayList<>();
        checks.add(banner(img, k, layout));
        checks.add(text(img, layout, text));
        PointerEvidence.Census c = census.join();
        checks.add(pointers(text, c));
        checks.add(wordSize(img, k, text, k.bits() == 32 ? c : null));
        checks.add(base(img, k, layout));
        return new Checked(layout, new Verification(checks));
    }

    static Check banner(KernelImage img, KallsymsTable k, KernelLayout layout) {
        Long a = k.addressOf("linux_banner");
        if (a == null) return Check.notApplicable("banner", "linux_banner is not listed (a kernel without KALLSYMS_ALL lists only text)");
        long off = layout.fileOffsetOf(a);
        if (off < 0 || off >= img.length()) {
            return Check.failed("banner", String.format("linux_banner at 0x%x lies outside the image's bytes", a));
        }
        byte[] want = "Linux version ".getBytes(StandardCharsets.ISO_8859_1);
        int n = (int) Math.min(want.length, img.length() - off);
        String got = new String(img.data(), (int) off, n, StandardCharsets.ISO_8859_1);
        if (n == want.length && got.equals("Linux version ")) {
            return Check.passed("banner", String.format("linux_banner at 0x%x holds \"Linux version\"", a));
        }
        return Check.failed("banner", String.format("linux_banner at 0x%x holds \"%s\", not \"Linux version\"", a, printable(got)));
    }

    static Check text(KernelImage img, KernelLayout layout, long[] text) {
        if (text.length == 0) return Check.notApplicable("text", "no text symbols listed");
        int inside = 0, aligned = 0;
        int align = layout.arch() == null ? 1 : layout.arch().value().instructionAlignment();
        for (long a : text) {
            MemoryRegion r = layout.regionOf(a);
            if (r == null || !r.initialized()) continue;
            inside++;
            if ((a & (align - 1)) == 0) aligned++;
        }
        String figures = String.format("%d of %d text symbols lie in the image's bytes", inside, text.length);
        if (inside < MIN_INSIDE * text.length) return Check.failed("text", figures);
        if (align == 1) return Check.passed("text", figures + " (x86 instructions have any alignment)");
        String al = String.format("%s, %d of them on %d-byte instruction starts", figures, aligned, align);
        return aligned >= MIN_ALIGNED * inside ? Check.passed("text", al) : Check.failed("text", al);
    }

    static Check pointers(KernelImage img, KallsymsTable k, long[] text) {
        return pointers(text, census(img, k, text, k.bits() / 8));
    }

    /** One sampled pass over the image's words of {@code width} bytes, the table's own arrays left out. */
    private static PointerEvidence.Census census(KernelImage img, KallsymsTable k, long[] text, int width) {
        ByteView v = new ByteView(img.data(), img.length(), k.order());
        // not the table's own arrays: an absolute address array points at every symbol
        int from = k.layout() == null ? 0 : k.layout().start(), to = k.layout() == null ? 0 : k.layout().end(k.size());
        long[] addresses = text;
        if (width == 4 && k.bits() == 64) {   // a 64-bit table's addresses under 4 GiB, looked for as 32-bit words
            addresses = new long[text.length];
            for (int i = 0; i < text.length; i++) addresses[i] = text[i] & 0xffffffffL;
        }
        return PointerEvidence.census(v, addresses, width, NEIGHBOUR, from, to);
    }

    private static Check pointers(long[] text, PointerEvidence.Census c) {
        if (text.length < 256) return Check.notApplicable("pointers", "too few text symbols (" + text.length + ") to count pointers to");
        int neighbours = Math.max(c.below(), c.above());
        String sampled = c.stride() == 1 ? "" : String.format(" (one word in %d looked at)", c.stride());
        if (c.hits() == 0 && neighbours == 0) {
            // no evidence either way: a relocatable image whose pointers are filled in at boot,
            // with its relocations cut off, has none
            return Check.notApplicable("pointers", "no pointer-sized word in the image points at or near the text symbols"
                    + " (a relocatable image whose relocations are missing?)" + sampled);
        }
        String figures = String.format("%d pointer-sized words in the image point at the %d text symbols, %d at a page before or after them%s",
                c.hits(), text.length, neighbours, sampled);
        boolean enough = (long) c.hits() * c.stride() * 1000 >= (long) MIN_POINTER_HITS_PER_MILLE * text.length;
        return enough && c.hits() >= PEAK * neighbours ? Check.passed("pointers", figures) : Check.failed("pointers", figures);
    }

    static Check wordSize(KernelImage img, KallsymsTable k, long[] text) {
        return wordSize(img, k, text, k.bits() == 32 ? census(img, k, text, 4) : null);
    }

    /** {@code c32}: the census of 4-byte words where the reading's pointers are 4 bytes, else null (taken here if needed). */
    private static Check wordSize(KernelImage img, KallsymsTable k, long[] text, PointerEvidence.Census c32) {
        boolean fit32 = true;
        for (long a : text) fit32 &= (a >>> 32) == 0;
        if (k.bits() == 64 && !fit32) return Check.passed("word size", "addresses need 64 bits");
        if (text.length < 256) return Check.notApplicable("word size", "too few text symbols to tell 64-bit pointers from 32-bit ones");
        PointerEvidence.Census c = c32 != null ? c32 : census(img, k, text, 4);
        double share = c.eightByteShare();
        String figures = String.format("%.0f%% of the pointers at the text symbols are the low half of an 8-byte word", share * 100);
        if (k.bits() == 64) {
            return share >= 0.5 ? Check.passed("word size", figures) : Check.failed("word size", figures + ": the pointers are 32-bit");
        }
        return share < 0.8 ? Check.passed("word size", figures) : Check.failed("word size", figures + ": the pointers are 64-bit");
    }

    static Check base(KernelImage img, KallsymsTable k, KernelLayout layout) {
        long base = layout.base().value();
        if (img.elf() != null) return Check.passed("base", "ELF program headers place the image");
        Long text = k.addressOf("_text");
        String what = "_text";
        if (text == null) {
            text = k.addressOf("_stext");
            what = "_stext";
        }
        if (text == null) return Check.notApplicable("base", "neither _text nor _stext is listed");
        long delta = text - base;
        if (Long.compareUnsigned(delta, img.length()) >= 0) {
            return Check.failed("base", String.format("%s at 0x%x is not in the image placed at 0x%x (%d bytes)", what, text, base, img.length()));
        }
        for (Layer l : img.layers()) {
            int at = l.detail().indexOf("text_offset 0x");
            if (at < 0 || layout.arch() == null || layout.arch().value() != Architecture.AARCH64) continue;
            long textOffset = Long.parseUnsignedLong(l.detail().substring(at + 14).split("[,)\\s]")[0], 16);
            // arm64 kernels are linked at a 2 MiB-aligned address plus TEXT_OFFSET (0x80000 before 5.8)
            if (((base - textOffset) & 0x1fffff) != 0) {
                return Check.failed("base", String.format("base 0x%x is not a 2 MiB boundary plus the arm64 header's text_offset 0x%x", base, textOffset));
            }
            return Check.passed("base", String.format("%s at 0x%x in the image; base 0x%x agrees with the arm64 header's text_offset 0x%x",
                    what, text, base, textOffset));
        }
        return Check.passed("base", String.format("%s at 0x%x is %d bytes into the image", what, text, delta));
    }

    /**
     * The exports against kallsyms: for every exported name kallsyms also lists, whether the
     * __ksymtab value is one of kallsyms' addresses for it (per-cpu exports are offsets on some
     * kernels and are left out).
     */
    public static Check exports(List<KernelExport> exports, KallsymsTable k) {
        if (k.origin() == KallsymsTable.Origin.EXPORTS) {
            return Check.notApplicable("exports", "the symbols are the exports themselves (no kallsyms to compare them with)");
        }
        // one pass over kallsyms against a map of the (ten times fewer) exports
        Map<String, KernelExport> byName = new HashMap<>(exports.size() * 2);
        for (KernelExport e : exports) byName.putIfAbsent(e.name(), e);
        Map<String, Long> seenAt = new HashMap<>(exports.size() * 2);
        java.util.Set<String> agreeing = new java.util.HashSet<>(exports.size() * 2);
        for (int i = 0; i < k.size(); i++) {
            char t = k.type(i);
            if (t == 'A' || t == 'a') continue;
            KernelExport e = byName.get(k.name(i));
            if (e == null) continue;
            seenAt.putIfAbsent(e.name(), k.address(i));
            if (e.value() == k.address(i)) agreeing.add(e.name());
        }
        int common = seenAt.size(), agree = agreeing.size();
        if (common == 0) return Check.notApplicable("exports", "no exported name is listed by kallsyms");
        String figures = String.format("%d of %d exports kallsyms lists have kallsyms' address", agree, common);
        if (agree >= MIN_EXPORTS_AGREEING * common) return Check.passed("exports", figures);
        String first = null;
        for (KernelExport e : exports) {
            if (seenAt.containsKey(e.name()) && !agreeing.contains(e.name())) {
                first = String.format("%s: __ksymtab 0x%x, kallsyms 0x%x", e.name(), e.value(), seenAt.get(e.name()));
                break;
            }
        }
        return Check.failed("exports", figures + " (first differing: " + first + ")");
    }

    /**
     * A symbols file against the image's own kallsyms: the share of the names in both whose
     * addresses agree; where they disagree by one difference, it is named (a KASLR slide).
     */
    public static Check symbolsFile(SymbolFile f, KallsymsTable k) {
        SymbolFile.Agreement a = f.agreementWith(k);
        if (a.common() == 0) return Check.failed("symbols file", f.describe() + " names none of the " + k.size() + " kallsyms symbols");
        String figures = String.format("%d of the %d names %s shares with kallsyms have kallsyms' address", a.equal(), a.common(), f.describe());
        if (a.equal() >= MIN_EXPORTS_AGREEING * a.common()) return Check.passed("symbols file", figures);
        String slide = a.slideCount() * 2 > a.common() ? String.format("; %d of them are 0x%x away (a running kernel's KASLR slide?)",
                a.slideCount(), a.slide()) : "";
        return Check.failed("symbols file", figures + slide + ": it is not this kernel's");
    }

    /** The distinct addresses of text symbols (t, T), in table order. */
    static long[] textAddresses(KallsymsTable k) {
        long[] out = new long[k.size()];
        int n = 0;
        LongHashSet seen = new LongHashSet(k.size());
        for (int i = 0; i < k.size(); i++) {
            char t = k.type(i);
            if ((t == 't' || t == 'T') && seen.add(k.address(i))) out[n++] = k.address(i);
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) sb.append(c >= 0x20 && c < 0x7f ? c : '.');
        return sb.toString();
    }
}
