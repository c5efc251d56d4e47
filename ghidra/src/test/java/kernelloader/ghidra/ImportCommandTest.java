package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.google.gson.Gson;

import ghidra.base.project.GhidraProject;
import kernelloader.TestFiles;
import kernelloader.cli.KallsymsCli;
import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/** `./kallsyms import`: a saved Ghidra project with the kernel loaded by our loader, and its summary. */
@Tag("corpus")
class ImportCommandTest {
    @Test
    @SuppressWarnings("unchecked")
    void importSavesAProjectAndSummarisesIt() throws Exception {
        EmbeddedGhidra.start();
        Path project = TestFiles.tempDir("import").resolve("kernels");
        String image = Corpus.kernel("bullseye-armhf-armmp").image().toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(new String[] {"import", image, "--project", project.toString(), "--name", "armhf-5.10", "--json"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString());
        Map<String, Object> r = new Gson().fromJson(out.toString(StandardCharsets.UTF_8).trim(), Map.class);
        assertEquals("/armhf-5.10", r.get("program"));
        assertEquals("Linux Kernel (kallsyms)", r.get("loader"));
        assertEquals("ARM:LE:32:v8", r.get("language"));
        assertEquals("0xc0208000", r.get("base_address"));
        assertEquals(43274.0, r.get("labels"));
        assertEquals(5.0, r.get("blocks"), "text, rodata, init.text, init.data, and the bss its exported variables reveal");
        assertTrue((Double) r.get("functions") > 40000, r.toString());
        assertTrue(r.containsKey("seconds"));
        assertTrue(Files.exists(project.resolve("kernels.gpr")), "project file");
    }

    @Test
    @SuppressWarnings("unchecked")
    void manyFilesGoIntoOneProjectAndOneBadFileDoesNotStopTheOthers() throws Exception {
        EmbeddedGhidra.start();
        Path dir = TestFiles.tempDir("import-many");
        Path project = dir.resolve("fleet");
        Path noise = dir.resolve("noise.bin");
        byte[] junk = new byte[1 << 20];
        new Random(4).nextBytes(junk);
        Files.write(noise, junk);
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(new String[] {"import", Corpus.kernel("bullseye-armhf-armmp").image().toString(), noise.toString(),
                        Corpus.kernel("bookworm-i386-686").image().toString(), "--project", project.toString(), "--json"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, code, "one file failed: " + err);
        String[] lines = out.toString(StandardCharsets.UTF_8).trim().split("\n");
        assertEquals(3, lines.length, out.toString());
        Map<String, Object> armhf = new Gson().fromJson(lines[0], Map.class);
        Map<String, Object> bad = new Gson().fromJson(lines[1], Map.class);
        Map<String, Object> i386 = new Gson().fromJson(lines[2], Map.class);
        assertEquals("ARM:LE:32:v8", armhf.get("language"));
        assertTrue(((String) bad.get("error")).length() > 0, lines[1]);
        assertEquals("x86:LE:32:default", i386.get("language"));
        assertEquals(45166.0, i386.get("labels"));
        // both programs are in the one project
        GhidraProject p = GhidraProject.openProject(project.toString(), "fleet");
        try {
            assertEquals(2, p.getProject().getProjectData().getRootFolder().getFiles().length);
        } finally {
            p.close();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void theSameFileTwiceIsAnErrorUnlessOverwrite() throws Exception {
        EmbeddedGhidra.start();
        Path project = TestFiles.tempDir("import-twice").resolve("p");
        String image = Corpus.kernel("bullseye-armhf-armmp").image().toString();
        String[] once = {"import", image, "--project", project.toString(), "--no-functions", "--json"};
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        assertEquals(0, KallsymsCli.run(once, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)), err.toString());
        Map<String, Object> first = new Gson().fromJson(out.toString(StandardCharsets.UTF_8).trim(), Map.class);
        assertEquals(0.0, first.get("functions"), "--no-functions");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("kallsyms: import:"), "progress lines on stderr: " + err);

        out.reset();
        err.reset();
        assertEquals(1, KallsymsCli.run(once, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
        // after --json, the error is a JSON object on stdout
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("already holds " + image + " as /image: --overwrite replaces it"), out.toString());

        String[] again = {"import", image, "--project", project.toString(), "--no-functions", "--overwrite", "--json"};
        out.reset();
        assertEquals(0, KallsymsCli.run(again, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)), err.toString());
        GhidraProject p = GhidraProject.openProject(project.toString(), "p");
        try {
            assertEquals(1, p.getProject().getProjectData().getRootFolder().getFiles().length, "replaced, not added");
        } finally {
            p.close();
        }
    }

    @Test
    void aRepositoryUrlWithNoServerIsOneLine() throws Exception {
        EmbeddedGhidra.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(new String[] {"import", Corpus.kernel("bullseye-armhf-armmp").image().toString(),
                        "--project", "ghidra://localhost:1/kernels"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, code, out.toString());
        String e = err.toString(StandardCharsets.UTF_8).trim();
        assertTrue(e.startsWith("kallsyms: cannot reach the Ghidra Server of ghidra://localhost:1/kernels (localhost:1)"), e);
        assertEquals(1, e.split("\n").length, e);
    }

    @Test
    void aRelativeProjectFolderWorksAndAFailedImportLeavesNothingBehind() throws Exception {
        EmbeddedGhidra.start();
        // relative to the working directory, as README's first command gives it
        Path rel = Path.of("target", "relative-" + System.nanoTime(), "kernels");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(new String[] {"import", Corpus.kernel("bullseye-armhf-armmp").image().toString(), "--project", rel.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString());
        assertTrue(Files.exists(rel.resolve("kernels.gpr")), "project in the relative folder");
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("program:       /image"), out.toString());

        // a file that is no kernel, into a project that does not exist yet: one line, and no folder left
        Path noise = TestFiles.tempDir("noise").resolve("noise.bin");
        byte[] junk = new byte[1 << 20];
        new Random(8).nextBytes(junk);
        Files.write(noise, junk);
        Path fresh = Path.of("target", "fresh-" + System.nanoTime(), "kernels");
        ByteArrayOutputStream out2 = new ByteArrayOutputStream(), err2 = new ByteArrayOutputStream();
        int failed = KallsymsCli.run(new String[] {"import", noise.toString(), "--project", fresh.toString()},
                new PrintStream(out2, true, StandardCharsets.UTF_8), new PrintStream(err2, true, StandardCharsets.UTF_8));
        assertEquals(1, failed);
        String e = err2.toString(StandardCharsets.UTF_8).trim();
        assertEquals(1, e.split("\n").length, e);
        assertTrue(e.startsWith("kallsyms: " + noise + ": no kallsyms table found (searched 1048576 bytes"), e);
        assertTrue(!Files.exists(fresh.getParent()), "the project folder the import made, and its parent, are gone");
        // an existing project keeps what it had
        ByteArrayOutputStream out3 = new ByteArrayOutputStream(), err3 = new ByteArrayOutputStream();
        assertEquals(1, KallsymsCli.run(new String[] {"import", noise.toString(), "--project", rel.toString()},
                new PrintStream(out3, true, StandardCharsets.UTF_8), new PrintStream(err3, true, StandardCharsets.UTF_8)));
        assertTrue(Files.exists(rel.resolve("kernels.gpr")), "an existing project is left as it was");
    }

    @Test
    void aProjectIsNeverRemovedUnlessThisImportMadeIt() throws Exception {
        EmbeddedGhidra.start();
        Path noise = TestFiles.tempDir("noise-rep").resolve("noise.bin");
        byte[] junk = new byte[1 << 20];
        new java.util.Random(9).nextBytes(junk);
        Files.write(noise, junk);
        // a project folder holding a .rep whose .gpr is gone: a failed import leaves the .rep alone
        Path dir = TestFiles.tempDir("orphan").resolve("kernels");
        Path rep = Files.createDirectories(dir.resolve("kernels.rep"));
        Files.writeString(rep.resolve("precious"), "data");
        CliRun orphan = run("import", noise.toString(), "--project", dir.toString());
        assertEquals(1, orphan.code());
        assertTrue(orphan.err().contains("holds kernels.rep but no kernels.gpr"), orphan.err());
        assertTrue(Files.exists(rep.resolve("precious")), "a .rep this import did not make is left alone");
        // nested folders the import made are all removed again
        Path top = TestFiles.tempDir("nested").resolve("a");
        assertEquals(1, run("import", noise.toString(), "--project", top.resolve("b/c/kernels").toString()).code());
        assertTrue(!Files.exists(top), "the folders the failed import made are gone");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theKernelOptionsChooseWhatIsImportedAndItsLanguage() throws Exception {
        // a dump of two kernels of two architectures: Debian's armhf zImage, then at the next MiB the
        // RISC-V Image. The file as it is is searched first, so the raw RISC-V table is table 0 and
        // the zImage's xz stream table 1: --table 1 must give an ARM program, as list --table 1 does
        EmbeddedGhidra.start();
        Path dir = TestFiles.tempDir("two-arches");
        Path dump = dir.resolve("dump.bin");
        byte[] zimage = Files.readAllBytes(Corpus.kernel("bullseye-armhf-armmp").image());
        try (var o = Files.newOutputStream(dump)) {
            o.write(zimage);
            o.write(new byte[(1 << 20) - zimage.length % (1 << 20)]);
            o.write(Files.readAllBytes(Corpus.kernel("sid-riscv64-riscv64").image()));
        }
        // table 0 is the RISC-V kernel, though the file starts with the zImage's header
        Kernel first = Kernel.read(dump, KernelOptions.DEFAULT);
        assertEquals("RISCV:LE:64:RV64GC", first.layout().get().ghidraLanguage(), first.layout().get().arch().evidence());
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(new String[] {"import", dump.toString(), "--table", "1", "--project", dir.resolve("p").toString(), "--json"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString());
        Map<String, Object> r = new Gson().fromJson(out.toString(StandardCharsets.UTF_8).trim(), Map.class);
        assertEquals("ARM:LE:32:v8", r.get("language"), r.toString());
        assertEquals(43274.0, r.get("labels"));
        assertEquals("0xc0208000", r.get("base_address"));
    }

    private static CliRun run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private record CliRun(int code, String out, String err) {}
}
