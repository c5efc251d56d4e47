package kernelloader.code;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * The system call tables read from real kernels, against the kernel's own numbering: the uapi
 * unistd headers that Debian's linux-libc-dev installs (asm/unistd_64.h for x86-64, and
 * asm-generic/unistd.h, the table arm64 and riscv use). Numbers are only ever appended, so a
 * header of another release still names every number both know.
 */
@Tag("corpus")
public class SyscallTablesTest {
    static final Path X86_64 = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
    static final Path GENERIC = Path.of("/usr/include/asm-generic/unistd.h");

    @ParameterizedTest
    @CsvSource({
        "bookworm-amd64-amd64, /usr/include/x86_64-linux-gnu/asm/unistd_64.h",
        "trixie-amd64-amd64,   /usr/include/x86_64-linux-gnu/asm/unistd_64.h",
        "bookworm-arm64-arm64, /usr/include/asm-generic/unistd.h",
        "trixie-arm64-arm64,   /usr/include/asm-generic/unistd.h",
    })
    void entriesAreTheSyscallsTheHeadersNumber(String id, String header) throws Exception {
        assertTrue(Files.isRegularFile(Path.of(header)), header + " is missing: install Debian's linux-libc-dev (.ci/run does)");
        Kernel k = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
        List<SyscallTables.Table> tables = SyscallTables.find(k.kallsyms().get(), k.layout().get(), k.relocated());
        assertTrue(!tables.isEmpty() && tables.get(0).name().equals("sys_call_table"), id + ": " + tables);
        SyscallTables.Table t = tables.get(0);
        Map<Integer, String> numbered = numbers(Path.of(header));
        int compared = 0, notConfigured = 0;
        List<String> mismatched = new java.util.ArrayList<>();
        for (Map.Entry<Integer, String> e : numbered.entrySet()) {
            if (e.getKey() >= t.entries().size()) continue;
            SyscallTables.Entry entry = t.entries().get(e.getKey());
            if (entry.function().equals("sys_ni_syscall") || entry.function().endsWith("_sys_ni_syscall")) {
                notConfigured++;
                continue;
            }
            if (!same(e.getValue(), entry.syscall())) mismatched.add(e.getKey() + " " + e.getValue() + ": " + entry.function());
            compared++;
        }
        assertEquals(List.of(), mismatched, id);
        assertTrue(compared > 250, id + ": " + compared + " syscalls compared, " + notConfigured + " not configured");
        System.out.println(id + ": " + t.entries().size() + " entries, " + compared + " named as the header numbers them, "
                + notConfigured + " sys_ni_syscall; tables " + tables.stream().map(x -> x.name() + "[" + x.entries().size() + "]").toList());
    }

    /**
     * The header's name and the table's entry point name the same syscall: syscall_64.tbl and
     * the generic table give some syscalls an entry point of another name (4 stat: sys_newstat,
     * 39 umount2: sys_umount, 17 pread64: sys_pread64, 221 fadvise64: ksys_fadvise64_64, arm64's
     * 92 personality: sys_arm64_personality).
     */
    public static boolean same(String header, String entry) {
        return norm(header).equals(norm(entry));
    }

    private static String norm(String s) {
        s = s.replaceFirst("^_+", "").replaceFirst("^(new|old|ksys_|arm64_)", "").replaceFirst("(64_64|64|2)$", "");
        return s;
    }

    /** __NR_name N from a uapi header (the 32-bit arm64 compat aliases like __NR3264_ resolved). */
    public static Map<Integer, String> numbers(Path header) throws IOException {
        Map<String, Integer> aliases = new LinkedHashMap<>();
        Map<Integer, String> out = new LinkedHashMap<>();
        Pattern p = Pattern.compile("^#define __NR(3264)?_(\\w+)\\s+(\\d+|__NR3264_\\w+)\\s*$");
        for (String line : Files.readAllLines(header)) {
            Matcher m = p.matcher(line.trim());
            if (!m.matches()) continue;
            String name = m.group(2), value = m.group(3);
            if (name.equals("syscalls") || name.equals("arch_specific_syscall")) continue;
            int n;
            if (value.startsWith("__NR3264_")) {
                Integer v = aliases.get(value.substring("__NR3264_".length()));
                if (v == null) continue;
                n = v;
            } else {
                n = Integer.parseInt(value);
            }
            if (m.group(1) != null) aliases.put(name, n);
            else out.putIfAbsent(n, name);
        }
        return out;
    }
}
