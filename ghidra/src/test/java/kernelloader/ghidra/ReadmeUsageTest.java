package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.TestFiles;
import kernelloader.cli.KallsymsCli;
import kernelloader.corpus.Corpus;

/**
 * Every line of README's usage block runs as written: FILE, OUT, PATH, DIR and System.map
 * replaced by a real kernel, fresh output paths, a folder holding kernels, a relative project
 * folder and the kernel's nm list; the
 * command must succeed and produce what it says. A line README adds is tested by adding it.
 */
@Tag("corpus")
class ReadmeUsageTest {
    /** The repository's README, wherever Maven runs the tests from. */
    static Path readme() {
        Path root = Path.of(System.getProperty("repository.root", ".."));
        return root.resolve("README.md");
    }

    /** The command lines of README's "## Usage" block, comments stripped. */
    static List<String> usageLines() throws Exception {
        List<String> lines = Files.readAllLines(readme());
        List<String> out = new ArrayList<>();
        int at = lines.indexOf("## Usage");
        assertTrue(at >= 0, "README has a ## Usage section");
        boolean in = false;
        for (int i = at + 1; i < lines.size() && !lines.get(i).startsWith("## "); i++) {
            String l = lines.get(i);
            if (l.startsWith("```")) {
                if (in) break;
                in = true;
                continue;
            }
            if (in && !l.isBlank()) out.add(l.replaceFirst("\\s+#.*$", "").trim());
        }
        assertTrue(out.size() >= 10, "usage lines: " + out);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageLines")
    void runsAsWritten(String line) throws Exception {
        assertTrue(line.startsWith("./kallsyms "), line);
        if (line.startsWith("./kallsyms gui")) {
            // the front end needs a display, which this JVM has not: GuiTest runs it under Xvfb,
            // from this very command (KallsymsCli gui PROJECT); here its usage as written
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code = KallsymsCli.run(new String[] {"gui", "--help"}, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
            assertEquals(0, code);
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("Usage: kallsyms gui [-hV] [PROJECT]"), out.toString());
            return;
        }
        Path dir = TestFiles.tempDir("readme");
        // a kernel with BTF for btf and isf, a raw Image with a .config embedded for config, else Debian's armhf zImage
        Corpus.Kernel k = Corpus.kernel(line.contains(" btf ") || line.contains(" isf ") ? "sid-riscv64-riscv64" : line.contains(" config ") ? "bookworm-arm64-arm64" : "bullseye-armhf-armmp");
        Path file = k.image();
        if (line.contains(" config ")) file = withConfig(k, dir);
        Path kernels = Files.createDirectories(dir.resolve("firmware"));
        Files.copy(file, kernels.resolve("zImage"));
        Path project = Path.of("target", "readme-" + dir.getFileName(), "kernels");   // relative, as a user types it
        List<String> args = new ArrayList<>();
        byte[] stdin = null;
        Path written = null;
        String[] words = line.substring("./kallsyms ".length()).split("\\s+");
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            switch (w) {
                case "FILE" -> args.add(file.toString());
                case "PATH" -> args.add(kernels.toString());
                case "System.map" -> args.add(k.dir.resolve("symbols.nm").toString());   // nm -n of the -dbg vmlinux
                case "DIR" -> args.add(project.toString());
                case "OUT", "OUT.elf", "OUT.json" -> {
                    written = dir.resolve(w);
                    args.add(written.toString());
                }
                case "<" -> {
                    stdin = Files.readAllBytes(words[++i].equals("FILE") ? file : Path.of(words[i]));
                }
                default -> args.add(w);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        InputStream saved = System.in;
        if (stdin != null) System.setIn(new ByteArrayInputStream(stdin));
        int code;
        try {
            code = KallsymsCli.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
        } finally {
            System.setIn(saved);
        }
        assertEquals(0, code, line + " → " + args + ": " + err);
        if (written != null) {
            assertTrue(Files.size(written) > 0, written + " written");
        } else if (args.get(0).equals("import")) {
            assertTrue(Files.exists(project.resolve("kernels.gpr")), "the relative project folder holds the project");
        } else {
            assertFalse(out.toString(StandardCharsets.UTF_8).isBlank(), line + " printed nothing; stderr: " + err);
        }
    }

    /** The kernel with its .config embedded the way kernel/configs.c does it (IKCFG_ST, gzip, IKCFG_ED). */
    private static Path withConfig(Corpus.Kernel k, Path dir) throws Exception {
        Path gz = dir.resolve("config.gz"), img = dir.resolve("zImage-ikconfig");
        TestFiles.sh("gzip -n -9 -c " + k.dir.resolve("config") + " > " + gz);
        try (var o = Files.newOutputStream(img)) {
            o.write(Files.readAllBytes(k.image()));
            o.write("IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1));
            o.write(Files.readAllBytes(gz));
            o.write("IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1));
        }
        return img;
    }
}
