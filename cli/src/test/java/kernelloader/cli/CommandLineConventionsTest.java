package kernelloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.google.gson.Gson;

import kernelloader.TestFiles;
import kernelloader.kallsyms.SeedImages;

/**
 * The command line keeps its ecosystem's conventions: - for standard input and output, help
 * per command, one line for a bad value (JSON after --json), a completion script, a version
 * that names the build. On a synthetic kernel: no corpus needed (the fast tier).
 */
class CommandLineConventionsTest {
    record Run(int code, String out, String err, byte[] bytes) {}

    static Run run(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin == null ? new byte[0] : stdin));
        try {
            int code = KallsymsCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Run(code, out.toString(StandardCharsets.ISO_8859_1), err.toString(StandardCharsets.UTF_8), out.toByteArray());
        } finally {
            System.setIn(saved);
        }
    }

    static Run run(String... args) {
        return run(null, args);
    }

    private static Path kernel() throws Exception {
        Path f = TestFiles.tempDir("conventions").resolve("Image");
        Files.write(f, SeedImages.armhf420(3000));
        return f;
    }

    @Test
    void dashReadsStandardInput() throws Exception {
        Path f = kernel();
        Run fromFile = run("list", f.toString());
        assertEquals(0, fromFile.code(), fromFile.err());
        assertEquals(3000, fromFile.out().split("\n").length);
        Run fromStdin = run(Files.readAllBytes(f), "list", "-");
        assertEquals(0, fromStdin.code(), fromStdin.err());
        assertEquals(fromFile.out(), fromStdin.out());
    }

    @Test
    void dashWritesStandardOutputAndAFileIsWrittenWholeOrNotAtAll() throws Exception {
        Path f = kernel();
        Path dir = f.getParent();
        // random bytes have nothing to peel: one line, no output
        Path noise = dir.resolve("noise");
        byte[] junk = new byte[1 << 16];
        new Random(3).nextBytes(junk);
        Files.write(noise, junk);
        Run nothing = run("unpack", noise.toString(), "-");
        assertEquals(1, nothing.code());
        assertEquals(0, nothing.bytes().length);
        assertTrue(nothing.err().startsWith("kallsyms: " + noise + ": nothing to unpack"), nothing.err());
        Path gz = dir.resolve("Image.gz");
        TestFiles.sh("gzip -n -c " + f + " > " + gz);
        Run unpacked = run("unpack", gz.toString(), "-");
        assertEquals(0, unpacked.code(), unpacked.err());
        assertTrue(Arrays.equals(Files.readAllBytes(f), unpacked.bytes()), "stdout holds the image");
        Path out = dir.resolve("Image.out");
        assertEquals(0, run("unpack", gz.toString(), out.toString()).code());
        assertTrue(Arrays.equals(Files.readAllBytes(f), Files.readAllBytes(out)));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no temporary file left");
        }
        // a write that fails half-way (no room: the ELF of a raw image whose architecture cannot be
        // inferred fails after the file is opened) leaves neither OUT nor a temporary file
        Path elf = dir.resolve("Image.elf");
        Run failed = run("elf", f.toString(), elf.toString());
        assertEquals(1, failed.code());
        assertTrue(failed.err().contains("the architecture could not be inferred"), failed.err());
        assertTrue(!Files.exists(elf), "no half-written ELF");
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no temporary file left");
        }
        // /dev/null stays a device: what is not a regular file is written to, not replaced
        assertEquals(0, run("unpack", gz.toString(), "/dev/null").code());
        assertTrue(!Files.isRegularFile(Path.of("/dev/null")));
        // a new file gets the umask's permissions, not a temporary file's 0600
        Path perm = dir.resolve("perm.out");
        assertEquals(0, run("unpack", gz.toString(), perm.toString()).code());
        TestFiles.sh("touch " + dir.resolve("touched") + " && [ \"$(stat -c %a " + perm + ")\" = \"$(stat -c %a " + dir.resolve("touched") + ")\" ]");
    }

    @Test
    void helpNamesACommandsOwnOptions() {
        Run help = run("help", "list");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: kallsyms list"), help.out());
        assertTrue(help.out().contains("--file-offset"), help.out());
        Run top = run("help");
        assertEquals(0, top.code());
        assertTrue(top.out().contains("symvers") && top.out().contains("completion"), top.out());
    }

    @Test
    void aBadValueIsOneLineNamingTheOption() throws Exception {
        String f = kernel().toString();
        Run base = run("list", "--base", "zz", f);
        assertEquals(2, base.code(), "a command line that cannot be used");
        assertEquals("kallsyms: --base: zz is not a hexadecimal address (e.g. 0xffffffc008000000) (see: kallsyms help list)\n", base.err());
        Run table = run("list", "--table", "-1", f);
        assertEquals(2, table.code());
        assertEquals(1, table.err().split("\n").length, table.err());
        assertTrue(table.err().startsWith("kallsyms: --table: -1 is not a table number"), table.err());
        Run arch = run("info", "--arch", "vax", f);
        assertEquals(2, arch.code());
        assertEquals(1, arch.err().split("\n").length, arch.err());
        assertTrue(arch.err().startsWith("kallsyms: --arch: vax is not one of x86, arm, aarch64"), arch.err());
        Run unknown = run("list", "--frobnicate", f);
        assertEquals(2, unknown.code());
        assertEquals(1, unknown.err().split("\n").length, unknown.err());
        assertTrue(unknown.err().startsWith("kallsyms: Unknown option: '--frobnicate' (see: kallsyms help list)"), unknown.err());
        Run missing = run("list");
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("kallsyms: Missing required parameter: 'FILE'"), missing.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void withJsonErrorsAreJsonToo() throws Exception {
        Run r = run("info", "--json", "/nonexistent/vmlinuz");
        assertEquals(1, r.code());
        assertEquals("", r.err());
        Map<String, Object> e = new Gson().fromJson(r.out(), Map.class);
        assertEquals("/nonexistent/vmlinuz: no such file", e.get("error"));
        Run bad = run("info", "--json", "--bits", "7", kernel().toString());
        assertEquals(2, bad.code());
        assertEquals("--bits: 7 is not a word size (32 or 64) (see: kallsyms help info)", new Gson().fromJson(bad.out(), Map.class).get("error"));
        Run usage = run("sweep", "--json", "--jobs");
        assertEquals(2, usage.code());
        assertTrue(((String) new Gson().fromJson(usage.out(), Map.class).get("error")).startsWith("Missing required parameter for option '--jobs'"),
                usage.out());
    }

    @Test
    void completionScriptCompletesCommandsInBash() throws Exception {
        Run r = run("completion");
        assertEquals(0, r.code(), r.err());
        Path script = TestFiles.tempDir("completion").resolve("kallsyms.bash");
        Files.writeString(script, r.out());
        // what bash does on "kallsyms s<TAB>" and "kallsyms list --ar<TAB>"
        Path result = script.resolveSibling("out");
        TestFiles.sh("source " + script + " 2>/dev/null"
                + "; COMP_WORDS=(kallsyms s); COMP_CWORD=1; COMP_LINE='kallsyms s'; _complete_kallsyms kallsyms s kallsyms 2>/dev/null"
                + "; printf '%s\\n' \"${COMPREPLY[@]}\" > " + result
                + "; COMP_WORDS=(kallsyms list --ar); COMP_CWORD=2; COMP_LINE='kallsyms list --ar'; _complete_kallsyms kallsyms --ar list 2>/dev/null"
                + "; printf '%s\\n' \"${COMPREPLY[@]}\" >> " + result);
        String words = Files.readString(result);
        assertTrue(words.contains("symvers") && words.contains("sweep") && words.contains("--arch"), words);
    }

    @Test
    void versionNamesTheCommitAndTheGhidra() {
        Run r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)LinuxKernelLoader 0\\.1\\.0, commit [0-9a-f]{7,}.*built for Ghidra 10\\.3.*"), r.out());
    }
}
