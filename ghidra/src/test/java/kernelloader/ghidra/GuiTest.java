package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.google.gson.Gson;

import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * {@code ./kallsyms gui} on a real X server (Debian's Xvfb): a new user's first session, driven
 * by {@link GuiSession} in a JVM of its own, imports a real kernel through Ghidra's own File →
 * Import dialogs. The screenshots stay in target/gui-screenshots.
 */
@Tag("corpus")
class GuiTest {
    @Test
    void aNewUsersFirstSessionImportsAKernelThroughTheFrontEnd() throws Exception {
        Path kernel = Corpus.kernel("bullseye-armhf-armmp").image();
        Path work = TestFiles.tempDir("gui");
        Path shots = Path.of("target", "gui-screenshots").toAbsolutePath();
        if (Files.isDirectory(shots)) try (var old = Files.list(shots)) {
            for (Path f : old.toList()) Files.delete(f);
        }
        Process xvfb = startXvfb();
        try {
            String display = readDisplay(xvfb);
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx6g",
                    "-Duser.home=" + work.resolve("home"),    // a user who never ran Ghidra
                    "-cp", System.getProperty("java.class.path"), GuiSession.class.getName(),
                    work.resolve("projects").resolve("first").toString(), kernel.toString(), shots.toString());
            pb.environment().put("DISPLAY", ":" + display);
            pb.redirectErrorStream(true);
            Process session = pb.start();
            List<String> output = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(session.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) synchronized (output) { output.add(line); }
                } catch (IOException e) {
                    // the session ended
                }
            });
            reader.start();
            if (!session.waitFor(20, TimeUnit.MINUTES)) {
                session.destroyForcibly();
                fail("the GUI session did not end in 20 minutes; screenshots in " + shots);
            }
            reader.join();
            String line = output.stream().filter(l -> l.startsWith("GUI-SESSION {")).findFirst()
                    .orElseThrow(() -> new AssertionError("the session printed no result:\n" + String.join("\n", tail(output))));
            @SuppressWarnings("unchecked")
            Map<String, Object> seen = new Gson().fromJson(line.substring("GUI-SESSION ".length()), Map.class);
            assertFalse(seen.containsKey("error"), () -> seen.get("error") + "\n" + String.join("\n", tail(output)));
            assertEquals(0, session.exitValue());

            // the front end of a real display, the project from the command line, created there
            assertEquals(false, seen.get("headless"));
            assertEquals("first", seen.get("project"));
            assertTrue(Files.isRegularFile(work.resolve("projects/first/first.gpr")));
            // the Script Manager's "Linux Kernel" category holds our four scripts
            assertEquals(List.of("ExportBtfArchive.java", "ExportKallsyms.java", "ExportKernelElf.java", "ExportModuleSymvers.java"),
                    seen.get("linuxKernelScripts"));

            // the import dialog picked our loader and the language by itself, its base option shows the base read
            Kernel k = Kernel.read(kernel, KernelOptions.DEFAULT);
            @SuppressWarnings("unchecked")
            List<String> dialog = (List<String>) seen.get("importDialogTexts");
            assertTrue(dialog.contains(KernelLoad.NAME), dialog.toString());
            assertTrue(dialog.contains("ARM:LE:32:v8:default"), dialog.toString());
            assertEquals("inferred 0x" + Long.toHexString(k.layout().get().base().value()), seen.get("baseOption"));

            // the program saved in the project: every kallsyms symbol labelled where the kernel has it, functions made
            assertEquals("/" + kernel.getFileName(), seen.get("program"));
            assertEquals("ARM:LE:32:v8", seen.get("language"));
            KallsymsTable table = k.kallsyms().get();
            Set<String> labels = new HashSet<>(Files.readAllLines(shots.resolve("labels.txt")));
            int missing = 0;
            String firstMissing = null;
            for (int i = 0; i < table.size(); i++) {
                String want = Long.toHexString(table.address(i)) + " " + table.name(i);
                if (!labels.contains(want)) {
                    missing++;
                    if (firstMissing == null) firstMissing = want;
                }
            }
            assertEquals(0, missing, "kallsyms symbols without their label, first: " + firstMissing);
            assertEquals((double) table.addressOf("start_kernel"), seen.get("start_kernel"));
            assertTrue(((Number) seen.get("functions")).intValue() > 40_000, "functions: " + seen.get("functions"));
            assertTrue(String.valueOf(seen.get("summary")).contains("Executable Format:\n" + KernelLoad.NAME), "summary");

            // the screenshots show windows, not an empty screen
            for (String name : List.of("1-user-agreement", "2-front-end", "3-file-chooser", "4-import-dialog", "5-import-options",
                    "6-import-results")) {
                File f = shots.resolve(name + ".png").toFile();
                assertTrue(f.isFile(), name);
                assertTrue(colours(ImageIO.read(f)) > 20, name + ": a blank screen");
            }
        } finally {
            xvfb.destroy();
            if (!xvfb.waitFor(10, TimeUnit.SECONDS)) xvfb.destroyForcibly();
        }
    }

    /** Debian's Xvfb on a display of its own choosing (-displayfd), or a failure saying what to install. */
    private static Process startXvfb() throws IOException {
        if (!Files.isExecutable(Path.of("/usr/bin/Xvfb"))) {
            fail("the GUI test needs Debian's Xvfb (apt-get install xvfb; .ci/run installs it)");
        }
        return new ProcessBuilder("/usr/bin/Xvfb", "-displayfd", "1", "-screen", "0", "1600x1000x24", "-nolisten", "tcp")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static String readDisplay(Process xvfb) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(xvfb.getInputStream(), StandardCharsets.US_ASCII));
        String n = r.readLine();
        if (n == null || !n.strip().matches("\\d+")) fail("Xvfb did not start (it printed no display number)");
        return n.strip();
    }

    private static int colours(BufferedImage img) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 4) for (int x = 0; x < img.getWidth(); x += 4) seen.add(img.getRGB(x, y));
        return seen.size();
    }

    private static List<String> tail(List<String> lines) {
        synchronized (lines) {
            return new ArrayList<>(lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        }
    }
}
