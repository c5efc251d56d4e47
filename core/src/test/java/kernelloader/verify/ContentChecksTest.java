package kernelloader.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.corpus.Corpus;
import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;

/**
 * Each content check on real kernels: every real reading passes all of them, and each refuses
 * a deliberately misread table (one symbol late, a page off, off the instruction grid, outside
 * the image, the wrong word size, the wrong base, exports that disagree); the reader drops a
 * reading every check of which fails and says why in one line.
 */
@Tag("corpus")
class ContentChecksTest {
    /** Every corpus kernel on this machine (the CI set on CI, all 29 with --set all). */
    static List<String> ciKernels() {
        return Corpus.kernels().stream().map(k -> k.id).toList();
    }

    private static Kernel read(String id) throws Exception {
        return Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
    }

    /** The same symbols, each given the address of the next one: a table read one entry late. */
    private static KallsymsTable oneLate(KallsymsTable t) {
        long[] a = new long[t.size()];
        for (int i = 0; i < a.length; i++) a[i] = t.address(Math.min(i + 1, a.length - 1));
        return t.withAddresses(a, "read one symbol late");
    }

    private static KallsymsTable shifted(KallsymsTable t, long delta) {
        long[] a = new long[t.size()];
        for (int i = 0; i < a.length; i++) a[i] = t.address(i) + delta;
        return t.withAddresses(a, "shifted by " + delta);
    }

    private static Check check(Verification v, String name) {
        return v.checks().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @ParameterizedTest
    @MethodSource("ciKernels")
    void everyRealReadingPassesEveryCheck(String id) throws Exception {
        Kernel k = read(id);
        Verification v = k.verification().get();
        for (Check c : v.checks()) assertFalse(c.failed(), id + ": " + c);
        assertTrue(check(v, "pointers").passed(), id + ": " + v.checks());
        assertTrue(check(v, "text").passed(), id + ": " + v.checks());
        // every corpus kernel has exports that confirm its table
        assertEquals("certain", v.confidence(), id + ": " + v.checks());
    }

    @Test
    void bannerRefusesATableReadOneSymbolLate() throws Exception {
        Kernel k = read("sid-arm64-arm64");   // KALLSYMS_ALL: linux_banner is listed
        Check c = ContentChecks.banner(k.image(), oneLate(k.kallsyms().get()), k.layout().get());
        assertTrue(c.failed(), c.toString());
        assertTrue(c.detail().contains("not \"Linux version\""), c.toString());
        assertTrue(ContentChecks.banner(k.image(), k.kallsyms().get(), k.layout().get()).passed());
    }

    @Test
    void exportsRefuseATableReadOneSymbolLate() throws Exception {
        Kernel k = read("bullseye-armhf-armmp");   // no KALLSYMS_ALL: the exports are what can tell
        Check c = ContentChecks.exports(k.exports().get().exports(), oneLate(k.kallsyms().get()));
        assertTrue(c.failed(), c.toString());
        assertTrue(ContentChecks.exports(k.exports().get().exports(), k.kallsyms().get()).passed());
    }

    @Test
    void pointersRefuseAddressesAPageOff() throws Exception {
        for (String id : List.of("bullseye-armhf-armmp", "trixie-amd64-amd64", "bookworm-arm64-arm64")) {
            Kernel k = read(id);
            KallsymsTable wrong = shifted(k.kallsyms().get(), 0x1000);
            Check c = ContentChecks.pointers(k.image(), wrong, ContentChecks.textAddresses(wrong));
            assertTrue(c.failed(), id + ": " + c);
        }
    }

    @Test
    void pointersRefuseAddressesFarOff() throws Exception {
        Kernel k = read("sid-riscv64-riscv64");
        KallsymsTable wrong = shifted(k.kallsyms().get(), 0x123450);
        Check c = ContentChecks.pointers(k.image(), wrong, ContentChecks.textAddresses(wrong));
        assertTrue(c.failed(), c.toString());
    }

    @Test
    void textRefusesAddressesOffTheInstructionGrid() throws Exception {
        Kernel k = read("bookworm-arm64-arm64");
        Check c = ContentChecks.text(k.image(), k.layout().get(), ContentChecks.textAddresses(shifted(k.kallsyms().get(), 2)));
        assertTrue(c.failed(), c.toString());
        assertTrue(c.detail().contains("4-byte instruction starts"), c.toString());
    }

    @Test
    void textRefusesAddressesOutsideTheImage() throws Exception {
        Kernel k = read("bookworm-mips64el-5kc-malta");
        Check c = ContentChecks.text(k.image(), k.layout().get(), ContentChecks.textAddresses(shifted(k.kallsyms().get(), 256L << 20)));
        assertTrue(c.failed(), c.toString());
    }

    @Test
    void wordSizeRefusesA64BitReadingOfA32BitKernel() throws Exception {
        Kernel k = read("bullseye-armhf-armmp");
        KallsymsTable t = k.kallsyms().get();
        long[] a = new long[t.size()];
        byte[] types = new byte[t.size()];
        String[] names = new String[t.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = t.address(i);
            types[i] = (byte) t.type(i);
            names[i] = t.name(i);
        }
        KallsymsTable as64 = KallsymsTable.of(KallsymsTable.Origin.SYMBOLS_FILE, 64, t.order(), a, types, names, "the armhf table taken for 64-bit");
        Check c = ContentChecks.wordSize(k.image(), as64, ContentChecks.textAddresses(as64));
        assertTrue(c.failed(), c.toString());
        // and a 64-bit kernel whose addresses fit in 32 bits passes
        Kernel s390 = read("bookworm-s390x-s390x");
        KallsymsTable s = s390.kallsyms().get();
        assertTrue(ContentChecks.wordSize(s390.image(), s, ContentChecks.textAddresses(s)).passed());
    }

    @Test
    void baseRefusesAnImagePlacedAwayFromItsText() throws Exception {
        Kernel k = read("bullseye-armhf-armmp");
        KernelLayout l = k.layout().get();
        KernelLayout moved = new KernelLayout(l.arch(), l.bits(), l.order(),
                Inference.given(l.base().value() + k.image().length()), l.regions(), l.entry());
        Check c = ContentChecks.base(k.image(), k.kallsyms().get(), moved);
        assertTrue(c.failed(), c.toString());
        // an arm64 Image's base must be a 2 MiB boundary plus its header's text_offset
        Kernel a = read("sid-arm64-arm64");
        KernelLayout al = a.layout().get();
        KernelLayout off = new KernelLayout(al.arch(), al.bits(), al.order(), Inference.given(al.base().value() - 0x1000),
                al.regions(), al.entry());
        Check ac = ContentChecks.base(a.image(), a.kallsyms().get(), off);
        assertTrue(ac.failed(), ac.toString());
        assertTrue(ac.detail().contains("text_offset"), ac.toString());
    }

    @Test
    void theReaderRefusesAKernelWhoseBannerIsNotWhereItsTableSays() throws Exception {
        // the real table, with the banner it points at overwritten: every reading fails
        Kernel k = read("sid-arm64-arm64");
        long at = k.layout().get().fileOffsetOf(k.kallsyms().get().addressOf("linux_banner"));
        KernelImage img = k.image();
        byte[] bytes = Arrays.copyOf(img.data(), img.length());
        byte[] not = "Not a version ".getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(not, 0, bytes, (int) at, not.length);
        Kernel bad = Kernel.read("banner-moved", bytes, bytes.length, KernelOptions.DEFAULT);
        assertFalse(bad.kallsyms().present());
        String why = bad.kallsyms().why();
        assertTrue(why.contains("refused by its content") && why.contains("banner: linux_banner at 0x"), why);
        assertFalse(why.contains("\n"), why);
    }
}
