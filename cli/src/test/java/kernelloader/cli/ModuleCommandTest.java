package kernelloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import kernelloader.module.DebianModulesTest;
import kernelloader.running.RunningKernelTest;

/**
 * `module` as a user runs it, on a module a guest loaded (.ci/qemu-dump.sh boot 4): given the
 * guest's /sys/module sections as `grep .` prints them and the dump as the kernel, the ELF
 * written has each section at the guest's address and each of the module's symbols in the
 * guest's /proc/kallsyms at its address there, as Debian's readelf reads the ELF.
 */
@Tag("corpus")
class ModuleCommandTest {
    @Test
    void aModuleAtTheGuestsAddresses(@TempDir Path tmp) throws Exception {
        String id = "trixie-amd64-amd64";
        Path boot = RunningKernelTest.boot(id, 4, Map.of("MODULES", "crc32c_generic ext4 bridge nf_tables xfs", "PAGING", "1"));
        Path dir = DebianModulesTest.modulesOf(id);
        Path ko;
        try (var s = Files.walk(dir)) {
            ko = s.filter(p -> p.getFileName().toString().startsWith("mbcache.ko")).findFirst().orElseThrow();
        }
        // grep . /sys/module/mbcache/sections/*
        StringBuilder grep = new StringBuilder();
        Map<String, Long> sections = new HashMap<>();
        for (String line : Files.readAllLines(boot.resolve("modules"))) {
            String[] f = line.split(" ");
            if (f.length == 3 && f[0].equals("mbcache") && f[2].startsWith("0x")) {
                grep.append("/sys/module/mbcache/sections/").append(f[1]).append(':').append(f[2]).append('\n');
                sections.put(f[1], Long.parseUnsignedLong(f[2].substring(2), 16));
            }
        }
        Path listing = tmp.resolve("sections.txt");
        Files.writeString(listing, grep);
        Path out = tmp.resolve("mbcache.elf");
        KallsymsCliTest.Run r = KallsymsCliTest.run("module", ko.toString(), "--kernel", boot.resolve("core.elf").toString(),
                "--sections", listing.toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("mbcache") && !r.err().contains("refuse"), r.err());

        Process p = new ProcessBuilder("readelf", "-SsW", out.toString()).redirectErrorStream(true).start();
        String elf = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), elf);
        Map<String, Long> sectionAt = new HashMap<>(), symbolAt = new HashMap<>();
        for (String line : elf.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            // "[ 1] .text PROGBITS ffffffffc04f5000 ..." and "12: ffffffffc04f5010 123 FUNC GLOBAL DEFAULT 1 mb_cache_create"
            if (line.contains("] ") && f.length > 4) {
                int at = line.indexOf("] ");
                String[] g = line.substring(at + 2).trim().split("\\s+");
                if (g.length > 2 && g[2].matches("[0-9a-f]{16}")) sectionAt.put(g[0], Long.parseUnsignedLong(g[2], 16));
            } else if (f.length >= 8 && f[0].endsWith(":") && f[1].matches("[0-9a-f]{16}")) {
                symbolAt.putIfAbsent(f[7], Long.parseUnsignedLong(f[1], 16));
            }
        }
        for (String s : List.of(".text", ".data", ".rodata", "__ksymtab_gpl")) {
            if (sections.containsKey(s)) assertEquals(sections.get(s), sectionAt.get(s), s + " in " + elf.substring(0, Math.min(3000, elf.length())));
        }
        int checked = 0;
        for (String line : Files.readAllLines(boot.resolve("kallsyms"), StandardCharsets.ISO_8859_1)) {
            if (!line.endsWith("\t[mbcache]")) continue;
            String[] f = line.substring(0, line.indexOf('\t')).split(" ");
            if (!"tT".contains(f[1])) continue;
            assertEquals(Long.parseUnsignedLong(f[0], 16), symbolAt.get(f[2]), f[2]);
            checked++;
        }
        assertTrue(checked > 10, checked + " functions");
        // the imports are absolute symbols at the running kernel's addresses
        assertTrue(symbolAt.containsKey("kmem_cache_alloc_noprof") || symbolAt.containsKey("kfree"), "imports in .symtab");
    }
}
