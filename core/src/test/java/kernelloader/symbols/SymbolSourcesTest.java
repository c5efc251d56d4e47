package kernelloader.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;
import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;
import kernelloader.ksymtab.KernelExport;

/**
 * Where the symbols come from when a kernel has no kallsyms: its __ksymtab (a kernel built
 * without CONFIG_KALLSYMS but with modules), or a System.map / /proc/kallsyms the user has; and
 * a user's symbols checked against a kernel that has kallsyms. Real kernels with their token
 * table wiped stand for kernels built without KALLSYMS (the rest of the image is untouched).
 */
@Tag("corpus")
class SymbolSourcesTest {

    /** The kernel's peeled image with kallsyms_token_table and kallsyms_token_index zeroed. */
    private static byte[] withoutKallsyms(String id) throws Exception {
        Kernel k = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
        byte[] img = Arrays.copyOf(k.image().data(), k.image().length());
        var l = k.kallsyms().get().layout();
        Arrays.fill(img, l.tokenTable(), l.tokenIndex() + 512, (byte) 0);
        return img;
    }

    private static String symvers(Kernel k) throws Exception {
        StringBuilder sb = new StringBuilder();
        KernelOutputs.moduleSymvers(k, sb);
        return sb.toString();
    }

    /** Peeled images of x86 are ELF files: the wiped copy keeps its program headers. */
    @ParameterizedTest
    @ValueSource(strings = {"bullseye-armhf-armmp", "bookworm-mips64el-5kc-malta", "trixie-amd64-amd64", "sid-arm64-arm64"})
    void aKernelWithoutKallsymsListsItsExports(String id) throws Exception {
        Kernel whole = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
        byte[] img = withoutKallsyms(id);
        Kernel k = Kernel.read("nokallsyms", img, img.length, KernelOptions.DEFAULT);
        KallsymsTable t = k.kallsyms().get();
        assertEquals(KallsymsTable.Origin.EXPORTS, t.origin());
        assertTrue(t.baseEvidence().contains("only symbols a kernel without kallsyms has"), t.baseEvidence());
        List<KernelExport> exports = whole.exports().get().exports();
        assertEquals(exports.size(), t.size(), id);
        // every exported name at its real address (nm of the -dbg vmlinux)
        Map<String, Set<Long>> truth = Corpus.kernel(id).allAddresses();
        for (int i = 0; i < t.size(); i++) {
            Set<Long> at = truth.get(t.name(i));
            assertTrue(at != null && at.contains(t.address(i)), id + ": " + t.name(i) + " at 0x" + Long.toHexString(t.address(i)));
        }
        // the base is the real kernel's, and symvers is what it is with kallsyms
        assertEquals(whole.layout().get().base().value(), k.layout().get().base().value(), id + ": base");
        assertEquals(symvers(whole), symvers(k), id + ": Module.symvers");
        assertFalse(k.verification().get().refused(), k.verification().get().checks().toString());
    }

    @Test
    void aSystemMapLabelsAKernelWithoutKallsyms() throws Exception {
        String id = "bullseye-armhf-armmp";
        byte[] img = withoutKallsyms(id);
        Path map = Corpus.kernel(id).dir.resolve("symbols.nm");
        KernelOptions o = KernelOptions.DEFAULT.with(KernelOptions.Key.SYMBOLS, map.toString());
        Kernel k = Kernel.read("nokallsyms", img, img.length, o);
        KallsymsTable t = k.kallsyms().get();
        assertEquals(KallsymsTable.Origin.SYMBOLS_FILE, t.origin());
        assertEquals(Files.readAllLines(map).size(), t.size());
        assertEquals(0xc0208000L, t.addressOf("_text"));
        // nm's list has linux_banner, which kallsyms without KALLSYMS_ALL does not: the banner confirms the map
        assertTrue(k.verification().get().checks().stream().anyMatch(c -> c.name().equals("banner") && c.passed()),
                k.verification().get().checks().toString());
        Kernel whole = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
        assertEquals(whole.layout().get().base().value(), k.layout().get().base().value());
    }

    @Test
    void aSystemMapIsCheckedAgainstTheKernelsOwnTable() throws Exception {
        Kernel k = Kernel.read(Corpus.kernel("sid-amd64-amd64").image(),
                KernelOptions.DEFAULT.with(KernelOptions.Key.SYMBOLS, Corpus.kernel("sid-amd64-amd64").dir.resolve("symbols.nm").toString()));
        assertEquals(KallsymsTable.Origin.KALLSYMS, k.kallsyms().get().origin());
        var c = k.verification().get().checks().stream().filter(x -> x.name().equals("symbols file")).findFirst().orElseThrow();
        assertTrue(c.passed(), c.toString());
        // another build's map is refused, in one line
        Kernel other = Kernel.read(Corpus.kernel("sid-amd64-amd64").image(),
                KernelOptions.DEFAULT.with(KernelOptions.Key.SYMBOLS, Corpus.kernel("trixie-amd64-amd64").dir.resolve("symbols.nm").toString()));
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> other.kallsyms().get());
        assertTrue(e.getMessage().contains("it is not this kernel's") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aProcKallsymsListingWithModulesAndASlideIsReadAndTheSlideNamed() throws Exception {
        String id = "sid-arm64-arm64";
        Kernel k = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
        // what a running kernel with KASLR prints: every address 0x200000 higher, and module lines
        StringBuilder text = new StringBuilder();
        KallsymsTable t = k.kallsyms().get();
        for (int i = 0; i < t.size(); i++) text.append(String.format("%016x %c %s%n", t.address(i) + 0x200000, t.type(i), t.name(i)));
        text.append("ffff800079000000 t nf_conntrack_init\t[nf_conntrack]\n");
        Path f = TestFiles.tempDir("kallsyms").resolve("kallsyms.txt");
        Files.writeString(f, text, StandardCharsets.ISO_8859_1);
        SymbolFile s = SymbolFile.read(f);
        assertEquals(t.size(), s.size());
        assertTrue(s.describe().contains("1 module symbols skipped"), s.describe());
        Kernel slid = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT.with(KernelOptions.Key.SYMBOLS, f.toString()));
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> slid.kallsyms().get());
        assertTrue(e.getMessage().contains("0x200000 away"), e.getMessage());
        // and a listing read without privileges (kptr_restrict) says so
        Path zeros = f.resolveSibling("zeros.txt");
        Files.writeString(zeros, "0000000000000000 T _text\n0000000000000000 T start_kernel\n");
        KernelFormatException z = assertThrows(KernelFormatException.class, () -> SymbolFile.read(zeros));
        assertTrue(z.getMessage().contains("kptr_restrict"), z.getMessage());
    }
}
