package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;
import kernelloader.TestFiles;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;

/** File→Export from a program our loader made: /proc/kallsyms equal to `list`; an ELF binutils reads; Debian's Module.symvers. */
@Tag("corpus")
class ExporterTest {
    @Test
    void exportersWriteKallsymsElfAndModuleSymvers() throws Exception {
        Corpus.Kernel k = Corpus.kernel("bookworm-arm64-arm64");
        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importBestGuess(k.image().toFile(), consumer);
        Path dir = TestFiles.tempDir("export");
        try {
            Path ks = dir.resolve("kallsyms");
            assertTrue(new KallsymsExporter().export(ks.toFile(), p, null, TaskMonitor.DUMMY));
            StringBuilder expected = new StringBuilder();
            Kernel.read(k.image(), KernelOptions.DEFAULT).kallsyms().get().writeProcKallsyms(expected);
            assertEquals(expected.toString(), Files.readString(ks, StandardCharsets.ISO_8859_1));

            Path elf = dir.resolve("vmlinux.elf");
            assertTrue(new KernelElfExporter().export(elf.toFile(), p, null, TaskMonitor.DUMMY));
            TestFiles.sh("readelf -a -W " + elf + " > /dev/null 2> " + dir.resolve("err"));
            assertEquals("", Files.readString(dir.resolve("err")));
            TestFiles.sh("nm " + elf + " > " + dir.resolve("nm"));
            String line = Long.toHexString(k.firstAddresses().get("start_kernel")) + " T start_kernel";
            assertTrue(Files.readAllLines(dir.resolve("nm")).contains(line), line);

            Path symvers = dir.resolve("Module.symvers");
            assertTrue(new ModuleSymversExporter().export(symvers.toFile(), p, null, TaskMonitor.DUMMY));
            assertEquals(new TreeSet<>(Files.readAllLines(k.dir.resolve("Module.symvers"))),
                    new TreeSet<>(Files.readAllLines(symvers)), "Debian's Module.symvers, order aside");
        } finally {
            p.release(consumer);
        }
    }
}
