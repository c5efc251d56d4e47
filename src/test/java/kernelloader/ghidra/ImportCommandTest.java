package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.Gson;

import kernelloader.TestFiles;
import kernelloader.cli.KallsymsCli;
import kernelloader.corpus.Corpus;

/** `./kallsyms import`: a saved Ghidra project with the kernel loaded by our loader, and its summary. */
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
        assertEquals(4.0, r.get("blocks"));
        assertTrue((Double) r.get("functions") > 40000, r.toString());
        assertTrue(r.containsKey("seconds"));
        assertTrue(Files.exists(project.resolve("kernels.gpr")), "project file");
    }
}
