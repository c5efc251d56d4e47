package kernelloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.Gson;

import kernelloader.corpus.Corpus;

/** The command line as a user runs it: output formats, overrides and errors. */
class KallsymsCliTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = KallsymsCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void listPrintsProcKallsymsLines() {
        Run r = run("list", Corpus.kernel("bookworm-i386-686").image().toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines.length > 40000, "lines: " + lines.length);
        for (String l : lines) assertTrue(l.matches("[0-9a-f]{8} [A-Za-z] \\S+"), "32-bit line: " + l);
    }

    @Test
    @SuppressWarnings("unchecked")
    void infoJsonHasTheDocumentedKeys() {
        Run r = run("info", "--json", Corpus.kernel("trixie-amd64-amd64").image().toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> info = new Gson().fromJson(r.out(), Map.class);
        for (String key : List.of("layers", "kernel_version", "bits", "endian", "symbols", "kallsyms", "timings")) {
            assertTrue(info.containsKey(key), "missing " + key + " in " + r.out());
        }
        assertEquals(64.0, info.get("bits"));
        assertEquals("little", info.get("endian"));
        List<Map<String, Object>> layers = (List<Map<String, Object>>) info.get("layers");
        assertEquals(List.of("PE", "bzImage", "zstd", "ELF"), layers.stream().map(l -> l.get("kind")).toList());
        assertTrue(((String) info.get("kernel_version")).startsWith("Linux version 6.12"));
        Map<String, Object> k = (Map<String, Object>) info.get("kallsyms");
        assertEquals("absolute_percpu", k.get("address_encoding"));
        assertTrue(((Map<String, Object>) k.get("arrays")).containsKey("kallsyms_token_table"));
    }

    @Test
    void infoTextNamesLayersAndArrays() {
        Run r = run("info", Corpus.kernel("bullseye-armhf-armmp").image().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layers:          PE → zImage → xz"), r.out());
        assertTrue(r.out().contains("kallsyms_markers"), r.out());
        assertTrue(r.out().contains("32-bit"), r.out());
    }

    @Test
    void baseOverrideGivesTheSameTableAsTheVote() {
        String image = Corpus.kernel("sid-riscv64-riscv64").image().toString();
        Run auto = run("list", image);
        Run given = run("list", "--base", "0xffffffff80000000", image);
        assertEquals(0, given.code(), given.err());
        assertEquals(auto.out(), given.out());
        Run info = run("info", "--base", "ffffffff80000000", image);
        assertTrue(info.out().contains("given by the user"), info.out());
    }

    @Test
    void errorsAreOneLineWithExitCode1() {
        Run missing = run("list", "/nonexistent/vmlinuz");
        assertEquals(1, missing.code());
        assertEquals(1, missing.err().strip().split("\n").length, missing.err());
        assertTrue(missing.err().startsWith("kallsyms: "), missing.err());

        Run bits = run("list", "--bits", "48", Corpus.kernel("bookworm-i386-686").image().toString());
        assertEquals(1, bits.code());
        assertTrue(bits.err().contains("--bits must be 32 or 64"), bits.err());
    }

    @Test
    void unpackWritesTheInnermostImage() throws Exception {
        java.nio.file.Path out = kernelloader.TestFiles.tempDir("unpack").resolve("Image");
        String image = Corpus.kernel("sid-loong64-loong64").image().toString();
        Run r = run("unpack", image, out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("EFI zboot → zstd"), r.err());
        assertEquals(run("list", image).out(), run("list", out.toString()).out());
        Run info = run("info", out.toString());
        assertTrue(info.out().contains("layers:          PE\n") || info.out().contains("layers:          PE" + System.lineSeparator()), info.out());
    }

    @Test
    void configPrintsTheEmbeddedDotConfig() throws Exception {
        // the way kernel/configs.c embeds it: "IKCFG_ST", gzip -9 of .config, "IKCFG_ED"
        Corpus.Kernel k = Corpus.kernel("trixie-arm64-arm64");
        java.nio.file.Path dir = kernelloader.TestFiles.tempDir("ikconfig");
        java.nio.file.Path gz = dir.resolve("config_data.gz");
        kernelloader.TestFiles.sh("gzip -n -9 -c " + k.dir.resolve("config") + " > " + gz);
        java.nio.file.Path img = dir.resolve("Image");
        try (var o = java.nio.file.Files.newOutputStream(img)) {
            o.write(java.nio.file.Files.readAllBytes(k.image()));
            o.write("IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1));
            o.write(java.nio.file.Files.readAllBytes(gz));
            o.write("IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1));
        }
        Run r = run("config", img.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(java.nio.file.Files.readString(k.dir.resolve("config"), StandardCharsets.ISO_8859_1), r.out());
        assertTrue(run("info", img.toString()).out().contains("CONFIG_RELOCATABLE=y"));

        Run none = run("config", k.image().toString());
        assertEquals(1, none.code());
        assertTrue(none.err().contains("CONFIG_IKCONFIG"), none.err());
    }
}
