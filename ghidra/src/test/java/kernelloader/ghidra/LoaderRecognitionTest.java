package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteArrayProvider;
import ghidra.app.util.importer.AutoImporter;
import ghidra.app.util.importer.MessageLog;
import ghidra.app.util.opinion.BinaryLoader;
import ghidra.app.util.opinion.LoadResults;
import ghidra.app.util.opinion.LoadSpec;
import ghidra.program.model.lang.Language;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.model.listing.Program;
import ghidra.program.util.DefaultLanguageService;
import ghidra.util.task.TaskMonitor;
import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.Architecture;

/** The loader claims kernels and nothing else: other files go to other loaders, quietly. */
class LoaderRecognitionTest {
    @Test
    void nonKernelsAreLeftToOtherLoaders() throws Exception {
        EmbeddedGhidra.start();
        LinuxKernelLoader loader = new LinuxKernelLoader();
        byte[] random = new byte[4 << 20];
        new Random(9).nextBytes(random);
        assertTrue(loader.findSupportedLoadSpecs(new ByteArrayProvider(random)).isEmpty(), "random bytes");
        byte[] ls = Files.readAllBytes(Path.of("/bin/ls"));    // an ELF, but no kernel
        assertTrue(loader.findSupportedLoadSpecs(new ByteArrayProvider(ls)).isEmpty(), "/bin/ls");
        assertTrue(loader.findSupportedLoadSpecs(new ByteArrayProvider(new byte[100])).isEmpty(), "tiny file");
    }

    @Test
    @Tag("corpus")
    void aKernelGetsOnePreferredLoadSpec() throws Exception {
        EmbeddedGhidra.start();
        byte[] img = Files.readAllBytes(Corpus.kernel("sid-riscv64-riscv64").image());
        var specs = new LinuxKernelLoader().findSupportedLoadSpecs(new ByteArrayProvider(img));
        assertEquals(1, specs.size());
        LoadSpec s = specs.iterator().next();
        assertTrue(s.isPreferred());
        assertEquals("RISCV:LE:64:RV64GC", s.getLanguageCompilerSpec().languageID.getIdAsString());
        assertEquals("gcc", s.getLanguageCompilerSpec().compilerSpecID.getIdAsString());
        // the import dialog's base shows the base the core reads; left so, it still means "inferred"
        List<Option> options = KernelLoad.defaultOptions(new ByteArrayProvider(img));
        Option base = options.stream().filter(o -> o.getArg().equals("-loader-kernelBase")).findFirst().orElseThrow();
        long expected = kernelloader.kernel.Kernel.read("riscv", img, img.length, KernelOptions.DEFAULT).layout().get().base().value();
        assertEquals("inferred 0x" + Long.toHexString(expected), base.getValue());
        assertEquals(KernelOptions.DEFAULT.base(), LoaderOptions.read(options).kernel().base());
    }

    @Test
    void programsOfOtherShapesAreNoKernelAndNoError() throws Exception {
        // a 16-bit x86 program and one of a processor Linux has no table for: the analyzer says
        // "not mine" and the scripts say why, nothing is thrown at Ghidra
        EmbeddedGhidra.start();
        byte[] random = new byte[1 << 20];
        new Random(3).nextBytes(random);
        Path f = TestFiles.tempDir("odd").resolve("blob.bin");
        Files.write(f, random);
        for (String lang : List.of("x86:LE:16:Real Mode", "6502:LE:16:default")) {
            Object consumer = new Object();
            Program p = EmbeddedGhidra.importWith(f.toFile(), BinaryLoader.class, List.of(), lang, consumer);
            try {
                KallsymsAnalyzer a = new KallsymsAnalyzer();
                assertFalse(a.canAnalyze(p), lang);
                assertFalse(a.getDefaultEnablement(p), lang);
                IOException e = assertThrows(IOException.class, () -> ScriptSupport.exportKallsyms(p, f.resolveSibling("out")));
                assertTrue(e.getMessage().contains("no kallsyms table in the program's memory"), e.getMessage());
            } finally {
                p.release(consumer);
            }
        }
    }

    @Test
    void loaderOptionsGoThroughTheCoresParser() throws Exception {
        EmbeddedGhidra.start();
        List<Option> options = LoaderOptions.defaults();
        assertEquals(null, LoaderOptions.validate(options), "the defaults are usable");
        java.nio.file.Path map = kernelloader.TestFiles.tempDir("map").resolve("System.map").toAbsolutePath();
        java.nio.file.Files.writeString(map, "c0008000 T _text\n");
        List<Option> set = new ArrayList<>();
        for (Option o : options) {
            Object v = switch (o.getArg()) {
                case "-loader-kernelBase" -> "ffff800008000000";
                case "-loader-bits" -> "64";
                case "-loader-arch" -> "aarch64";
                case "-loader-fileOffset" -> "0x1000";
                case "-loader-kallsymsTable" -> 1;
                case "-loader-symbolsFile" -> map.toString();
                case "-loader-applyRelocations", "-loader-createFunctions", "-loader-applyBtf" -> false;
                default -> throw new AssertionError(o.getArg());
            };
            set.add(new Option(o.getName(), v, o.getValueClass(), o.getArg()));
        }
        LoaderOptions.Settings s = LoaderOptions.read(set);
        assertEquals(new KernelOptions(64, 0xffff800008000000L, Architecture.AARCH64, 0x1000, 1, false, map.toString()), s.kernel());
        assertFalse(s.functions());
        assertFalse(s.btf());
        // the analyzeHeadless arguments of those options read back to the same
        List<String[]> args = LoaderOptions.arguments(s.kernel(), false);
        assertEquals(List.of("-loader-kernelBase=0xffff800008000000", "-loader-bits=64", "-loader-arch=aarch64", "-loader-fileOffset=0x1000",
                "-loader-kallsymsTable=1", "-loader-applyRelocations=false", "-loader-symbolsFile=" + map, "-loader-applyBtf=false"),
                args.stream().map(a -> a[0] + "=" + a[1]).toList());
        List<Option> bad = new ArrayList<>(options);
        bad.set(0, new Option(options.get(0).getName(), "zz", String.class, options.get(0).getArg()));
        assertEquals("Base address (hex, or inferred): zz is not a hexadecimal address (e.g. 0xffffffc008000000)",
                LoaderOptions.validate(bad));
    }
}
