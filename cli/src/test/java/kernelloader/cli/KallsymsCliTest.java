package kernelloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.google.gson.Gson;

import kernelloader.TestFiles;
import kernelloader.btf.Btf;
import kernelloader.btf.BtfBuilder;
import kernelloader.btf.BtfKind;
import kernelloader.corpus.Corpus;
import kernelloader.corpus.DebianBtfTest;

/** The command line as a user runs it: output formats, overrides and errors. */
@Tag("corpus")
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
        assertTrue(((String) info.get("banner")).startsWith("Linux version 6.12"), r.out());
        assertTrue(((String) info.get("kernel_version")).startsWith("6.12."), r.out());
        Map<String, Object> k = (Map<String, Object>) info.get("kallsyms");
        assertEquals("absolute_percpu", k.get("address_encoding"));
        assertEquals("x86", info.get("arch"));
        assertEquals("x86:LE:64:default", info.get("ghidra_language"));
        assertEquals("gcc", info.get("ghidra_compiler_spec"));
        assertEquals("0xffffffff81000000", info.get("base_address"));
        List<Map<String, Object>> regions = (List<Map<String, Object>>) info.get("regions");
        assertTrue(regions.stream().anyMatch(g -> g.get("name").equals(".text") && g.get("permissions").equals("r-x")), regions.toString());
        assertTrue(((Map<String, Object>) k.get("arrays")).containsKey("kallsyms_token_table"));
        Map<String, Object> exports = (Map<String, Object>) info.get("exports");
        assertEquals(11245.0, exports.get("count"), exports.toString());
        assertEquals(Map.of("EXPORT_SYMBOL", 5091.0, "EXPORT_SYMBOL_GPL", 6154.0), exports.get("kinds"));
        assertEquals("32-bit values", exports.get("crcs"));
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
        assertEquals(2, bits.code());
        assertEquals("kallsyms: --bits: 48 is not a word size (32 or 64) (see: kallsyms help list)\n", bits.err());
    }

    @Test
    void unpackWritesTheInnermostImage() throws Exception {
        Path out = TestFiles.tempDir("unpack").resolve("Image");
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
        Corpus.Kernel k = Corpus.kernel("bookworm-arm64-arm64");
        Path dir = TestFiles.tempDir("ikconfig");
        Path gz = dir.resolve("config_data.gz");
        TestFiles.sh("gzip -n -9 -c " + k.dir.resolve("config") + " > " + gz);
        Path img = dir.resolve("Image");
        try (var o = Files.newOutputStream(img)) {
            o.write(Files.readAllBytes(k.image()));
            o.write("IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1));
            o.write(Files.readAllBytes(gz));
            o.write("IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1));
        }
        Run r = run("config", img.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(k.dir.resolve("config"), StandardCharsets.ISO_8859_1), r.out());
        assertTrue(run("info", img.toString()).out().contains("CONFIG_RELOCATABLE=y"));

        Run none = run("config", k.image().toString());
        assertEquals(1, none.code());
        assertTrue(none.err().contains("CONFIG_IKCONFIG"), none.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void overridesAreAppliedAndShown() {
        // the s390x boot image's xz stream starts at 0x2e818: read from there, as a user would
        String image = Corpus.kernel("bookworm-s390x-s390x").image().toString();
        Run r = run("info", "--json", "--file-offset", "0x2e818", "--arch", "s390x", image);
        assertEquals(0, r.code(), r.err());
        Map<String, Object> info = new Gson().fromJson(r.out(), Map.class);
        assertEquals(Map.of("arch", "s390x", "file_offset", "0x2e818"), info.get("overrides"));
        assertEquals("xz", ((List<Map<String, Object>>) info.get("layers")).get(0).get("kind"));
        assertEquals(0.0, ((List<Map<String, Object>>) info.get("layers")).get(0).get("offset"));
        assertEquals(null, info.get("ghidra_language"));
        assertTrue(((String) info.get("ghidra_note")).contains("no processor"), r.out());
        assertEquals(run("list", image).out(), run("list", "--file-offset", "2e818", image).out());
        Run outside = run("list", "--file-offset", "0x7fffffff", image);
        assertEquals(1, outside.code());
        assertTrue(outside.err().contains("outside the file"), outside.err());
    }

    @Test
    void zImageWithAnAppendedDeviceTree() throws Exception {
        // a minimal flattened device tree, appended the way bootloaders expect (cat zImage dtb)
        ByteBuffer fdt = ByteBuffer.allocate(64).order(ByteOrder.BIG_ENDIAN);
        fdt.putInt(0xd00dfeed).putInt(64).putInt(40).putInt(60).putInt(40).putInt(17).putInt(16).putInt(0).putInt(0).putInt(20);
        fdt.putInt(40, 1).putInt(44, 0).putInt(48, 2).putInt(52, 9);
        Path z = TestFiles.tempDir("dtb").resolve("zImage-dtb");
        try (var o = Files.newOutputStream(z)) {
            o.write(Files.readAllBytes(Corpus.kernel("bullseye-armhf-armmp").image()));
            o.write(fdt.array());
        }
        Run info = run("info", z.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("appended dtb 64 bytes"), info.out());
        assertEquals(run("list", Corpus.kernel("bullseye-armhf-armmp").image().toString()).out(), run("list", z.toString()).out());
    }

    @Test
    void elfCommandWritesAnElfAndSaysWhat() throws Exception {
        Path out = TestFiles.tempDir("elfcli").resolve("vmlinux.elf");
        Run r = run("elf", Corpus.kernel("bookworm-arm64-arm64").image().toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("applied 187438 RELATIVE relocations"), r.err());
        assertTrue(r.err().contains("AArch64 64-bit, base 0xffff800008000000"), r.err());
        byte[] head = Arrays.copyOf(Files.readAllBytes(out), 20);
        assertEquals(0x7f, head[0]);
        assertEquals(183, (head[18] & 0xff) | (head[19] & 0xff) << 8);
        Files.delete(out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void btfWritesAHeaderAndSaysWhatItFoundOrWhyNot() throws Exception {
        Corpus.Kernel k = Corpus.kernel("sid-riscv64-riscv64");
        Run r = run("btf", k.image().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("#ifndef __VMLINUX_H__") && r.out().contains("struct task_struct {"), r.out().substring(0, 200));
        assertTrue(r.err().matches("kallsyms: BTF at image offset 0x[0-9a-f]+ \\(kallsyms __start_BTF\\), 4853002 bytes, little-endian, 111942 types: .*\n"), r.err());

        // info reports it; --raw is bpftool's text; a bare .BTF blob (the truth file) is read by its header
        Map<String, Object> info = new Gson().fromJson(run("info", "--json", k.image().toString()).out(), Map.class);
        Map<String, Object> btf = (Map<String, Object>) info.get("btf");
        assertEquals(Boolean.TRUE, btf.get("present"));
        assertEquals(111942.0, btf.get("types"));
        assertEquals(4853002.0, btf.get("bytes"));
        Path blob = DebianBtfTest.truth(k).resolve("vmlinux.btf");
        Run bare = run("btf", "--raw", blob.toString());
        assertEquals(0, bare.code(), bare.err());
        assertEquals(Files.readString(blob.resolveSibling("bpftool.raw")), bare.out());
        assertTrue(bare.err().contains("BTF at image offset 0x0 (header search)"), bare.err());

        // a kernel built without BTF: one line naming what was searched, exit 1
        Run none = run("btf", Corpus.kernel("bullseye-armhf-armmp").image().toString());
        assertEquals(1, none.code());
        assertEquals(1, none.err().strip().split("\n").length, none.err());
        assertTrue(none.err().startsWith("kallsyms: " + Corpus.kernel("bullseye-armhf-armmp").image() + ": no BTF found (searched "), none.err());
        assertTrue(none.err().contains("built without CONFIG_DEBUG_INFO_BTF"), none.err());
        Map<String, Object> noInfo = new Gson().fromJson(run("info", "--json", Corpus.kernel("bullseye-armhf-armmp").image().toString()).out(), Map.class);
        assertEquals(Boolean.FALSE, ((Map<String, Object>) noInfo.get("btf")).get("present"));
    }

    @Test
    void btfReadsSplitBtfOverItsBase() throws Exception {
        // a module's split BTF over a kernel's: here the riscv64 kernel's .BTF and a module blob continuing it
        Corpus.Kernel k = Corpus.kernel("sid-riscv64-riscv64");
        Path dir = TestFiles.tempDir("split");
        Path base = DebianBtfTest.truth(k).resolve("vmlinux.btf");
        Btf kernel = Btf.parse(Files.readAllBytes(base),
                (int) Files.size(base), 0, Long.MAX_VALUE);
        BtfBuilder mod = new BtfBuilder(ByteOrder.LITTLE_ENDIAN, kernel.lastId() + 1,
                kernel.header().stringLength());
        int task = kernel.named("task_struct", BtfKind.STRUCT).id();
        int pTask = mod.ref(BtfKind.PTR, "", task);
        mod.composite(BtfKind.STRUCT, "mydrv_ctx", 8, "owner", pTask, 0, 0);
        Path ko = dir.resolve("mydrv.btf");
        Files.write(ko, mod.build());

        Run r = run("btf", "--raw", "--base-btf", k.image().toString(), ko.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals((kernel.lastId() + 1) + " PTR '(anon)' type_id=" + task, r.out().lines().findFirst().orElse("").substring(1).replace("]", ""));
        Process p = new ProcessBuilder("bpftool", "btf", "dump", "file", ko.toString(), "--base-btf", base.toString()).start();
        assertEquals(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8), r.out());
        Run c = run("btf", "--base-btf", k.image().toString(), ko.toString());
        assertTrue(c.out().contains("struct mydrv_ctx {\n\tstruct task_struct *owner;\n};"), c.out());
    }

    @Test
    void symversPrintsDebiansLinesAndSaysHowItReadThem() throws Exception {
        Corpus.Kernel k = Corpus.kernel("bookworm-arm64-arm64");
        Run r = run("symvers", k.image().toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(new TreeSet<>(Files.readAllLines(k.dir.resolve("Module.symvers"))),
                new TreeSet<>(List.of(r.out().split("\n"))));
        assertTrue(r.err().startsWith("kallsyms: 10941 exports (4880 EXPORT_SYMBOL, 6061 EXPORT_SYMBOL_GPL) at 0xffff80000914a720,"
                + " PREL32 offsets (value, name, namespace); CRCs: 32-bit values"), r.err());

        Run none = run("symvers", Corpus.kernel("sid-amd64-amd64").image().toString());
        assertEquals(0, none.code(), none.err());
        assertTrue(none.err().contains("CRCs: none (built without CONFIG_MODVERSIONS); kinds from __kflagstab"), none.err());
        assertTrue(none.out().startsWith("0x00000000\t"), none.out().substring(0, 80));
    }

    @Test
    void symversOnCutTablesIsOneLineSayingSo() throws Exception {
        // bookworm arm64 is a raw Image from _text (0xffff800008000000): cut it inside __ksymtab, then inside __ksymtab_strings
        byte[] image = Files.readAllBytes(Corpus.kernel("bookworm-arm64-arm64").image());
        Path dir = TestFiles.tempDir("symvers-cut");
        long ksymtab = 0xffff80000914a720L - 0xffff800008000000L, strings = 0xffff8000091752f0L - 0xffff800008000000L;
        String[][] cuts = {{"ksymtab", Long.toString(ksymtab + 0x8000), "no exported-symbol table (__ksymtab) found"},
                           {"strings", Long.toString(strings + 0x30000), "is not followed by __kcrctab/__kflagstab/__ksymtab_strings"}};
        for (String[] c : cuts) {
            Path f = dir.resolve(c[0]);
            Files.write(f, Arrays.copyOf(image, Integer.parseInt(c[1])));
            // the pointers that place a relocatable arm64 image are cut off with the rest: the base is given
            Run r = run("symvers", "--base", "ffff800008000000", f.toString());
            assertEquals(1, r.code(), r.err());
            assertEquals(1, r.err().strip().split("\n").length, r.err());
            assertTrue(r.err().startsWith("kallsyms: " + f + ": ") && r.err().contains(c[2]) && r.err().contains("cut off"), r.err());
        }
    }

    @Test
    void tableChoosesAmongSeveralKernelsInOneFile() throws Exception {
        String dump = TestFiles.twoKernelDump().toString();
        assertEquals(run("list", Corpus.kernel("sid-arm64-arm64").image().toString()).out(), run("list", dump).out());
        assertEquals(run("list", Corpus.kernel("bookworm-arm64-arm64").image().toString()).out(), run("list", "--table", "1", dump).out());
        Run none = run("list", "--table", "2", dump);
        assertEquals(1, none.code());
        assertTrue(none.err().contains("kallsyms table 2 asked for, but only 2 found: raw (209893 symbols); gzip \u2192 PE \u2192 arm64 Image (50218 symbols)"),
                none.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void sweepReadsADirectoryInParallelOneJsonLinePerFile() throws Exception {
        Path dir = TestFiles.tempDir("sweep");
        Path sub = Files.createDirectories(dir.resolve("firmware/nested"));
        Files.copy(Corpus.kernel("bullseye-armhf-armmp").image(), dir.resolve("firmware/zImage"));
        Files.copy(Corpus.kernel("bookworm-i386-686").image(), sub.resolve("vmlinuz"));
        Files.copy(Corpus.kernel("sid-riscv64-riscv64").image(), dir.resolve("firmware/Image"));
        byte[] noise = new byte[1 << 20];
        new Random(1).nextBytes(noise);
        Files.write(sub.resolve("rootfs.bin"), noise);
        Files.write(dir.resolve("empty"), new byte[0]);
        Path symvers = dir.resolve("symvers");

        Run r = run("sweep", "--json", "--jobs", "2", "--symvers-dir", symvers.toString(), dir.resolve("firmware").toString(),
                dir.resolve("empty").toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(5, lines.length, r.out());
        Map<String, Map<String, Object>> byName = new HashMap<>();
        for (String l : lines) {
            Map<String, Object> m = new Gson().fromJson(l, Map.class);
            byName.put(Path.of((String) m.get("file")).getFileName().toString(), m);
        }
        assertEquals(Boolean.TRUE, byName.get("zImage").get("kernel"));
        assertEquals(43274.0, byName.get("zImage").get("symbols"));
        assertEquals(10086.0, ((Map<String, Object>) byName.get("zImage").get("exports")).get("count"));
        assertEquals("arm", byName.get("zImage").get("arch"));
        assertEquals("x86", byName.get("vmlinuz").get("arch"));
        assertEquals(32.0, byName.get("vmlinuz").get("bits"));
        assertEquals(0.0, ((Map<String, Object>) byName.get("zImage").get("btf")).get("types"));
        assertEquals(111942.0, ((Map<String, Object>) byName.get("Image").get("btf")).get("types"));
        assertEquals(Boolean.FALSE, byName.get("rootfs.bin").get("kernel"));
        assertTrue(((String) byName.get("rootfs.bin").get("error")).contains("no kallsyms table found"), lines[0]);
        assertEquals(Boolean.FALSE, byName.get("empty").get("kernel"));
        assertTrue(r.err().contains("kallsyms: 5 files, 3 kernels"), r.err());
        // the Module.symvers of each kernel, as Debian ships it (order aside)
        assertEquals(new TreeSet<>(Files.readAllLines(Corpus.kernel("bullseye-armhf-armmp").dir.resolve("Module.symvers"))),
                new TreeSet<>(Files.readAllLines(symvers.resolve("firmware/zImage.symvers"))));
        // in path order (each directory walked in name order), whatever order the jobs finished in
        assertTrue(lines[0].contains("firmware/Image") && lines[1].contains("nested/rootfs.bin") && lines[2].contains("nested/vmlinuz")
                && lines[3].contains("firmware/zImage") && lines[4].contains("/empty"), r.out());
    }

    @Test
    void sweepOutputsNeverCollideAndNamesStayOnOneLine() throws Exception {
        Path dir = TestFiles.tempDir("sweep-names");
        Path kernel = Corpus.kernel("bullseye-armhf-armmp").image();
        Files.createDirectories(dir.resolve("fw/a"));
        Files.createDirectories(dir.resolve("fw/b"));
        Files.copy(kernel, dir.resolve("fw/a/vmlinuz"));
        Files.copy(kernel, dir.resolve("fw/b/vmlinuz"));
        Files.copy(kernel, dir.resolve("fw/two\nlines"));
        Path out = dir.resolve("lists");

        // a directory PATH and a file PATH: the directory's files under its name, the file by its own
        Run r = run("sweep", "--kallsyms-dir", out.toString(), dir.resolve("fw").toString(), dir.resolve("fw/a/vmlinuz").toString());
        assertEquals(0, r.code(), r.err());
        String expected = run("list", kernel.toString()).out();
        for (String name : List.of("fw/a/vmlinuz.kallsyms", "fw/b/vmlinuz.kallsyms", "fw/two\nlines.kallsyms", "vmlinuz.kallsyms")) {
            assertEquals(expected, Files.readString(out.resolve(name)), name);
        }
        String[] lines = r.out().split("\n");
        assertEquals(4, lines.length, "one line per file, whatever its name holds:\n" + r.out());
        assertTrue(r.out().contains("fw/two\\nlines: Linux 5.10"), r.out());

        // several PATHs of one name: each under its own
        Path out2 = dir.resolve("lists2");
        r = run("sweep", "--kallsyms-dir", out2.toString(), dir.resolve("fw/a").toString(), dir.resolve("fw/b").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(expected, Files.readString(out2.resolve("a/vmlinuz.kallsyms")));
        assertEquals(expected, Files.readString(out2.resolve("b/vmlinuz.kallsyms")));
    }
}
