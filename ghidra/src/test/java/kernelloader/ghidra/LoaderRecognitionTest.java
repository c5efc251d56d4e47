package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import ghidra.app.util.bin.ByteArrayProvider;
import ghidra.app.util.opinion.LoadSpec;
import kernelloader.corpus.Corpus;

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
    }
}
