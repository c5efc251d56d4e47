package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import ghidra.app.util.opinion.ElfLoader;
import ghidra.program.model.address.Address;
import ghidra.program.model.listing.Program;
import ghidra.program.model.symbol.Symbol;
import kernelloader.TestFiles;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;

/**
 * The ELF we write, imported by Ghidra 10.3's own ELF loader (the embedded Ghidra): the right
 * language, the "Linux version" string at linux_banner's address, start_kernel labelled where
 * the -dbg vmlinux has it.
 */
@Tag("corpus")
class GhidraElfImportTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "bullseye-armhf-armmp, ARM:LE:32:v8",
        "bookworm-arm64-arm64, AARCH64:LE:64:v8A",
        "bookworm-i386-686,    x86:LE:32:default",
    })
    void ghidraImportsOurElf(String id, String language) throws Exception {
        Corpus.Kernel k = Corpus.kernel(id);
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        Path elf = TestFiles.tempDir("ghidra-elf").resolve(id + ".elf");
        // as `elf` writes it: with the kernel's BTF in a .BTF section where it has one (arm64 here)
        TestFiles.writeElf(m, elf);

        Object consumer = new Object();
        // Ghidra's own ELF loader (best guess would pick ours once registered: the ELF has kallsyms)
        Program p = EmbeddedGhidra.importWith(elf.toFile(), ElfLoader.class, consumer);
        try {
            assertEquals("Executable and Linking Format (ELF)", p.getExecutableFormat());
            assertEquals(language, p.getLanguageID().getIdAsString());
            Map<String, Long> nm = k.firstAddresses();
            Address banner = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("linux_banner"));
            byte[] b = new byte[14];
            p.getMemory().getBytes(banner, b);
            assertEquals("Linux version ", new String(b, StandardCharsets.ISO_8859_1));
            Symbol start = p.getSymbolTable().getGlobalSymbols("start_kernel").stream().findFirst().orElse(null);
            assertNotNull(start, "start_kernel label");
            assertEquals(nm.get("start_kernel").longValue(), start.getAddress().getOffset());
            if (m.btf().present()) {
                // Ghidra keeps the non-allocated .BTF as a block outside the address space, the program intact
                assertNotNull(p.getMemory().getBlock(".BTF"), Arrays.toString(p.getMemory().getBlocks()));
                assertTrue(!p.getMemory().getBlock(".BTF").isLoaded());
            }
        } finally {
            p.release(consumer);
        }
    }
}
