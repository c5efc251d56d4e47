package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import generic.stl.Pair;
import ghidra.app.util.importer.AutoImporter;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.BinaryLoader;
import ghidra.app.util.opinion.LoadResults;
import ghidra.program.model.address.Address;
import ghidra.program.model.lang.Language;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.Program;
import ghidra.program.model.reloc.Relocation;
import ghidra.program.util.DefaultLanguageService;
import ghidra.util.task.TaskMonitor;
import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;
import kernelloader.kallsyms.SeedImages;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;

/**
 * What `./kallsyms list` reads, Ghidra imports: the loader's recognition is the CLI's own search
 * (no second list of formats), so a flash dump, a zImage without an EFI stub and an OpenWrt
 * kernel (uncompressed names) import with a label per listed symbol, and the scripts read them
 * back from program memory; the exports marked are symvers' whatever the relocation option.
 */
class ImportReadsWhatListReadsTest {

    /** The /proc/kallsyms listing `list` prints for {@code file}. */
    private static String list(Path file) throws Exception {
        StringBuilder sb = new StringBuilder();
        KernelOutputs.procKallsyms(Kernel.read(file, KernelOptions.DEFAULT), sb);
        return sb.toString();
    }

    /** Imports with Ghidra's best guess and checks: our loader, a label per symbol, ExportKallsyms equal to `list`. */
    private static void importsAsListed(Path file) throws Exception {
        String listed = list(file);
        int symbols = listed.split("\n").length;
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importBestGuess(file.toFile(), consumer);
        try {
            assertEquals(LinuxKernelLoader.NAME, p.getExecutableFormat(), EmbeddedGhidra.lastLog);
            assertEquals(symbols, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1), EmbeddedGhidra.lastLog);
            Path out = file.resolveSibling(file.getFileName() + ".kallsyms");
            assertEquals(symbols, ScriptSupport.exportKallsyms(p, out));
            assertEquals(listed, Files.readString(out, StandardCharsets.ISO_8859_1), "ExportKallsyms from program memory");
        } finally {
            p.release(consumer);
        }
    }

    @Test
    @Tag("corpus")
    void aFlashDumpImports() throws Exception {
        // random bytes, Debian's armhf zImage, random bytes: what a dump of a board's flash looks like
        Path dump = TestFiles.tempDir("flash").resolve("flash.bin");
        Random r = new Random(12);
        byte[] head = new byte[(1 << 20) + 123], tail = new byte[1 << 20];
        r.nextBytes(head);
        r.nextBytes(tail);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(head);
        b.write(Files.readAllBytes(Corpus.kernel("bullseye-armhf-armmp").image()));
        b.write(tail);
        Files.write(dump, b.toByteArray());
        importsAsListed(dump);
    }

    @Test
    @Tag("corpus")
    void aZImageWithoutAnEfiStubImports() throws Exception {
        // Debian's armhf zImage begins with the EFI stub's "MZ"; older and embedded zImages begin
        // with plain instructions (mov r0, r0) and say what they are only by the magic at 0x24
        byte[] z = Files.readAllBytes(Corpus.kernel("bullseye-armhf-armmp").image());
        assertEquals('M', z[0]);
        ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0xe1a00000);
        assertEquals(0x016f2818, ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).getInt(0x24));
        Path f = TestFiles.tempDir("zimage").resolve("zImage");
        Files.write(f, z);
        importsAsListed(f);
    }

    @Test
    void anOpenWrtKernelWithUncompressedNamesImports() throws Exception {
        // OpenWrt's shape: a MIPS big-endian image with KALLSYMS_UNCOMPRESSED names, lzma'd and in
        // a uImage, as its build makes them (lzma, mkimage)
        Path dir = TestFiles.tempDir("openwrt");
        Path raw = dir.resolve("vmlinux.bin"), lz = dir.resolve("vmlinux.bin.lzma"), uimage = dir.resolve("openwrt-uImage");
        Files.write(raw, SeedImages.openwrtMips32(3000));
        TestFiles.sh("lzma -9 -c " + raw + " > " + lz);
        TestFiles.sh("mkimage -A mips -O linux -T kernel -C lzma -a 0x80060000 -e 0x80060000 -n 'MIPS OpenWrt Linux-4.14' -d "
                + lz + " " + uimage + " > /dev/null");
        assertEquals(3000, list(uimage).split("\n").length);
        importsAsListed(uimage);
    }

    @Test
    void theAnalyzerFindsUncompressedNamesInAProgramAnotherLoaderMade() throws Exception {
        // the same OpenWrt-style image, loaded by hand as a raw binary: the analyzer searches the
        // program's memory with the CLI's search, uncompressed names included
        Path raw = TestFiles.tempDir("openwrt-raw").resolve("vmlinux.bin");
        Files.write(raw, SeedImages.openwrtMips32(3000));
        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(raw.toFile(), BinaryLoader.class,
                List.of(new Pair<>("-loader-baseAddr", "0x80060000")), "MIPS:BE:32:default", consumer);
        try {
            KallsymsAnalyzer a = new KallsymsAnalyzer();
            assertTrue(a.getDefaultEnablement(p), "the analyzer sees the table");
            int tx = p.startTransaction("kallsyms");
            try {
                assertTrue(a.added(p, p.getMemory(), TaskMonitor.DUMMY, new MessageLog()));
            } finally {
                p.endTransaction(tx, true);
            }
            assertEquals(3000, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
            Path out = raw.resolveSibling("kallsyms");
            ScriptSupport.exportKallsyms(p, out);
            assertEquals(list(raw), Files.readString(out, StandardCharsets.ISO_8859_1));
        } finally {
            p.release(consumer);
        }
    }

    /** The export marks (plate comments) in a program, as "name KIND". */
    static Set<String> marks(Program p) {
        Set<String> out = new TreeSet<>();
        Iterator<Address> it = p.getListing().getCommentAddressIterator(CodeUnit.PLATE_COMMENT, p.getMemory(), true);
        while (it.hasNext()) {
            for (String line : p.getListing().getComment(CodeUnit.PLATE_COMMENT, it.next()).split("\n")) {
                int open = line.indexOf('('), close = line.indexOf(')');
                if (line.startsWith("EXPORT_SYMBOL") && open > 0 && close > open) {
                    out.add(line.substring(open + 1, close) + " " + line.substring(0, open));
                }
            }
        }
        return out;
    }

    /** The export marks of {@code p} are exactly the exports Debian's Module.symvers lists (names and kinds). */
    static void assertMarksAreSymvers(Program p, Corpus.Kernel k) throws Exception {
        Set<String> want = symvers(k), have = marks(p);
        Set<String> missing = new TreeSet<>(want), extra = new TreeSet<>(have);
        missing.removeAll(have);
        extra.removeAll(want);
        assertTrue(missing.isEmpty() && extra.isEmpty(), want.size() + " exports in Module.symvers, " + have.size() + " marked; "
                + missing.size() + " unmarked, e.g. " + missing.stream().limit(8).toList() + "; " + extra.size() + " marked beyond, e.g. "
                + extra.stream().limit(8).toList() + "; log: " + EmbeddedGhidra.lastLog);
    }

    /** Debian's Module.symvers lines of a kernel, as "name KIND". */
    static Set<String> symvers(Corpus.Kernel k) throws Exception {
        Set<String> out = new TreeSet<>();
        for (String l : Files.readAllLines(k.dir.resolve("Module.symvers"))) {
            String[] f = l.split("\t");
            out.add(f[1] + " " + f[3]);
        }
        return out;
    }

    @ParameterizedTest(name = "applyRelocations {0}")
    @ValueSource(booleans = {true, false})
    @Tag("corpus")
    void exportMarksAreSymversWhateverTheRelocationOption(boolean relocations) throws Exception {
        // bookworm arm64 links with RELA: its data pointers are 0 until relocated
        Corpus.Kernel k = Corpus.kernel("bookworm-arm64-arm64");
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(k.image().toFile(), LinuxKernelLoader.class,
                List.of(new Pair<>("-loader-applyRelocations", Boolean.toString(relocations)), new Pair<>("-loader-applyBtf", "false")),
                consumer);
        try {
            assertMarksAreSymvers(p, k);
            Map<String, Long> nm = k.firstAddresses();
            Address table = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("sys_call_table"));
            long first = p.getMemory().getLong(table);
            int recorded = 0;
            for (Iterator<Relocation> it = p.getRelocationTable().getRelocations(); it.hasNext(); it.next()) recorded++;
            if (relocations) {
                // written into memory after the blocks, as the kernel does at boot, and in Ghidra's relocation table
                assertEquals(Long.toHexString(nm.get("__arm64_sys_io_setup")), Long.toHexString(first));
                assertEquals(187438, recorded);
                Relocation one = p.getRelocationTable().getRelocations(table).get(0);
                assertEquals(1027, one.getType(), "R_AARCH64_RELATIVE");
                assertTrue(Arrays.equals(new byte[8], one.getBytes()), "the bytes it replaced: 0 in the Image");
            } else {
                assertEquals(0, first, "the Image as shipped");
                assertEquals(0, recorded);
            }
        } finally {
            p.release(consumer);
        }
    }
}
