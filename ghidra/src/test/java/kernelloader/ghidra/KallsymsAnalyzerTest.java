package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import generic.stl.Pair;
import ghidra.app.util.importer.AutoImporter;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.BinaryLoader;
import ghidra.app.util.opinion.ElfLoader;
import ghidra.app.util.opinion.LoadResults;
import ghidra.app.util.opinion.Loader;
import ghidra.program.model.lang.Language;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.Program;
import ghidra.program.util.DefaultLanguageService;
import ghidra.util.task.TaskMonitor;
import kernelloader.TestFiles;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;

/**
 * KallsymsAnalyzer on kernels other loaders brought in: a raw binary at its base (Ghidra's
 * BinaryLoader) and a stripped vmlinux (Ghidra's ELF loader): the same labels as `list`.
 */
@Tag("corpus")
class KallsymsAnalyzerTest {

    private static Program load(File f, Class<? extends Loader> loader, List<Pair<String, String>> args, String lang,
                                Object consumer) throws Exception {
        return lang != null ? EmbeddedGhidra.importWith(f, loader, args, lang, consumer)
                : EmbeddedGhidra.importWith(f, loader, args, consumer);
    }

    private static void analyzeAndCheck(Program p, Corpus.Kernel k, int expectedLabels) throws Exception {
        KallsymsAnalyzer a = new KallsymsAnalyzer();
        assertTrue(a.getDefaultEnablement(p), "enabled: a table is there");
        assertTrue(a.canAnalyze(p));
        int tx = p.startTransaction("kallsyms");
        try {
            assertTrue(a.added(p, p.getMemory(), TaskMonitor.DUMMY, new MessageLog()));
        } finally {
            p.endTransaction(tx, true);
        }
        assertEquals(expectedLabels, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
        assertEquals(false, p.getOptions(Program.ANALYSIS_PROPERTIES).getBoolean(KernelProgramBuilder.NO_RETURN_DISCOVERY, true),
                "Ghidra's no-return guessing is off for a kernel, as for our loader's programs");
        Map<String, Long> nm = k.firstAddresses();
        Function f = p.getFunctionManager().getFunctionAt(p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("start_kernel")));
        assertNotNull(f, "start_kernel function");
        assertEquals("start_kernel", f.getName());
        // the exports too: as many as Debian's Module.symvers lists, exported data labelled where kallsyms has none
        int exports = Files.readAllLines(k.dir.resolve("Module.symvers")).size();
        assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux exports", "").startsWith(exports + ":"),
                p.getOptions(Program.PROGRAM_INFO).getString("Linux exports", "-"));
        assertNotNull(p.getSymbolTable().getGlobalSymbol("init_task",
                p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("init_task"))), "init_task labelled");
    }

    @Test
    void rawBinaryAtItsBase() throws Exception {
        Corpus.Kernel k = Corpus.kernel("bullseye-armhf-armmp");
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        Path raw = TestFiles.tempDir("raw").resolve("Image");
        try (var o = Files.newOutputStream(raw)) {
            o.write(m.image().data(), 0, m.image().length());
        }
        Object consumer = new Object();
        Program p = load(raw.toFile(), BinaryLoader.class, List.of(new Pair<>("-loader-baseAddr", "0xc0208000")), "ARM:LE:32:v8", consumer);
        try {
            analyzeAndCheck(p, k, m.kallsyms().get().size());
        } finally {
            p.release(consumer);
        }
    }

    @Test
    void rawArm64ImageGetsItsBtf() throws Exception {
        // Debian's arm64 kernel is a raw Image: as a user would load it by hand, at its link address
        Corpus.Kernel k = Corpus.kernel("bookworm-arm64-arm64");
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        Object consumer = new Object();
        Program p = load(k.image().toFile(), BinaryLoader.class, List.of(new Pair<>("-loader-baseAddr", "0xffff800008000000")),
                "AARCH64:LE:64:v8A", consumer);
        try {
            MessageLog log = new MessageLog();
            KallsymsAnalyzer a = new KallsymsAnalyzer();
            int tx = p.startTransaction("kallsyms");
            try {
                assertTrue(a.added(p, p.getMemory(), TaskMonitor.DUMMY, log));
            } finally {
                p.endTransaction(tx, true);
            }
            assertEquals(m.kallsyms().get().size(), p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
            EmbeddedGhidra.lastLog = log.toString();
            LinuxKernelLoaderTest.assertBtfApplied(p, k);
        } finally {
            p.release(consumer);
        }
    }

    @Test
    void strippedVmlinuxThroughGhidrasElfLoader() throws Exception {
        Corpus.Kernel k = Corpus.kernel("bookworm-i386-686");
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        Path dir = TestFiles.tempDir("stripped");
        Path elf = dir.resolve("vmlinux"), stripped = dir.resolve("vmlinux.stripped");
        TestFiles.writeElf(m, elf);
        TestFiles.sh("objcopy --strip-all " + elf + " " + stripped);
        TestFiles.sh("nm " + stripped + " > " + dir.resolve("nm.out") + " 2>&1 || true");
        assertTrue(Files.readString(dir.resolve("nm.out")).contains("no symbols"), "really stripped");
        Object consumer = new Object();
        Program p = load(stripped.toFile(), ElfLoader.class, List.of(), null, consumer);
        try {
            assertEquals("Executable and Linking Format (ELF)", p.getExecutableFormat());
            analyzeAndCheck(p, k, m.kallsyms().get().size());
        } finally {
            p.release(consumer);
        }
    }
}
