package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import ghidra.program.model.data.CategoryPath;
import ghidra.program.model.data.FileDataTypeManager;
import kernelloader.TestFiles;
import kernelloader.corpus.BpftoolRaw;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;

/**
 * A real analyzeHeadless run (Ghidra's AnalyzeHeadless, in its own JVM, from the single jar):
 * -import the kernel as Debian ships it, then -postScript ExportKallsyms.java OUT, whose output
 * must equal `./kallsyms list` byte for byte, and -postScript ExportModuleSymvers.java OUT, whose
 * lines must be Debian's Module.symvers.
 */
@Tag("corpus")
class AnalyzeHeadlessTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"bullseye-armhf-armmp, ''", "bookworm-arm64-arm64, LinuxKernelLoader"})
    void postScriptExportKallsymsEqualsList(String id, String loader) throws Exception {
        Corpus.Kernel k = Corpus.kernel(id);
        Path dir = TestFiles.tempDir("headless");
        Path out = dir.resolve("kallsyms.txt");
        Path symvers = dir.resolve("Module.symvers");
        String cp = "target/classes" + File.pathSeparator + Files.readString(Path.of("target/runtime.classpath")).trim()
                + File.pathSeparator + Files.readString(Path.of("target/ghidra.classpath")).trim();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx6g", "-Duser.home=" + dir, "-cp", cp, "kernelloader.ghidra.AnalyzeHeadlessMain",
                dir.toString(), "proj", "-import", k.image().toString(), "-noanalysis",
                "-scriptPath", "ghidra_scripts", "-postScript", "ExportKallsyms.java", out.toString(),
                "-postScript", "ExportModuleSymvers.java", symvers.toString()));
        if (!loader.isEmpty()) cmd.addAll(cmd.indexOf("-noanalysis"), List.of("-loader", loader));
        Path gdt = dir.resolve("kernel.gdt");
        boolean btf = Files.readAllLines(k.dir.resolve("config")).contains("CONFIG_DEBUG_INFO_BTF=y");
        if (btf) cmd.addAll(List.of("-postScript", "ExportBtfArchive.java", gdt.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        assertTrue(log.contains("Using Loader: Linux Kernel (kallsyms)"), log);
        assertTrue(Files.exists(out), "the script wrote nothing (analyzeHeadless exits 0 even when a script fails): " + log);
        StringBuilder expected = new StringBuilder();
        Kernel.read(k.image(), KernelOptions.DEFAULT).kallsyms().get().writeProcKallsyms(expected);
        assertEquals(expected.toString(), Files.readString(out, StandardCharsets.ISO_8859_1));
        assertEquals(new TreeSet<>(Files.readAllLines(k.dir.resolve("Module.symvers"))),
                new TreeSet<>(Files.readAllLines(symvers)), "ExportModuleSymvers.java writes Debian's Module.symvers, order aside");
        if (btf) {
            // the archive opens in another Ghidra session and holds the kernel's structs at bpftool's sizes
            assertTrue(Files.exists(gdt), "ExportBtfArchive.java wrote nothing: " + log);
            EmbeddedGhidra.start();
            BpftoolRaw raw = new BpftoolRaw(BpftoolRaw.truth(k).resolve("bpftool.raw"));
            FileDataTypeManager archive = FileDataTypeManager.openFileArchive(gdt.toFile(), false);
            try {
                CategoryPath cat = new CategoryPath("/BTF");
                assertEquals(raw.only("STRUCT", "task_struct").size(), archive.getDataType(cat, "task_struct").getLength());
                assertEquals(raw.only("STRUCT", "file_operations").size(), archive.getDataType(cat, "file_operations").getLength());
                assertTrue(archive.getDataTypeCount(true) > 10_000, archive.getDataTypeCount(true) + " types in the archive");
            } finally {
                archive.close();
            }
        }
    }
}
