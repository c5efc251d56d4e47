package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import ghidra.app.decompiler.DecompInterface;
import ghidra.app.decompiler.DecompileResults;
import ghidra.program.model.address.Address;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.Data;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;
import kernelloader.code.BugTable;
import kernelloader.code.SyscallTablesTest;
import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * A plain import is ready to read: start_kernel disassembled (its body more than its entry) and
 * decompiled, BTF prototypes with the compiler's default calling convention, __fentry__ not
 * no-return and panic no-return, the compiler from the banner in Program Information, and the
 * syscall table's entries commented with the syscalls the kernel's uapi unistd header numbers.
 */
@Tag("corpus")
class ReadyToReadTest {
    @ParameterizedTest
    @CsvSource({
        "trixie-amd64-amd64,   /usr/include/x86_64-linux-gnu/asm/unistd_64.h",
        "bookworm-arm64-arm64, /usr/include/asm-generic/unistd.h",
    })
    void aPlainImportIsReadyToRead(String id, String header) throws Exception {
        Corpus.Kernel k = Corpus.kernel(id);
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(k.image().toFile(), LinuxKernelLoader.class, consumer);
        try {
            Address sk = p.getAddressFactory().getDefaultAddressSpace().getAddress(k.firstAddresses().get("start_kernel"));
            Function f = p.getFunctionManager().getFunctionAt(sk);
            assertNotNull(f, "start_kernel is a function");
            assertNotNull(p.getListing().getInstructionAt(sk), "start_kernel is disassembled");
            assertTrue(f.getBody().getNumAddresses() > 256, "start_kernel's body: " + f.getBody());
            assertTrue(f.hasNoReturn(), "start_kernel never returns (objtool's list)");
            assertTrue(!f.getCallingConventionName().equals("unknown"), f.getCallingConventionName());
            DecompInterface d = new DecompInterface();
            d.openProgram(p);
            DecompileResults r = d.decompileFunction(f, 120, TaskMonitor.DUMMY);
            assertTrue(r.decompileCompleted(), r.getErrorMessage());
            String c = r.getDecompiledFunction().getC();
            assertTrue(c.contains("setup_arch("), "start_kernel calls setup_arch:\n" + c.substring(0, Math.min(c.length(), 2000)));
            assertFalse(c.contains("Unknown calling convention"), c);
            // no warning but the decompiler's note at each call that never returns (panic, BUG
            // paths), and on arm64 its note at a BUG()'s `brk #0x800` (an indirect jump in Ghidra's
            // AARCH64 language, where the kernel dies): the kernel's __bug_table says which sites
            // are BUGs; its WARN sites go on, so their traps were made calls and draw no warning
            Kernel model = Kernel.read(k.image(), KernelOptions.DEFAULT);
            BugTable.Found bugs = BugTable.find(model.kallsyms().get(), model.layout().get(), model.relocated());
            assertNotNull(bugs, "the __bug_table");
            java.util.Set<Long> bugSites = new java.util.HashSet<>();
            for (BugTable.Site site : bugs.sites()) if (!site.warning()) bugSites.add(site.address());
            java.util.regex.Pattern trap = java.util.regex.Pattern.compile("SoftwareBreakpoint\\(0x800,0x([0-9a-f]+)\\)");
            for (String name : List.of("start_kernel", "vfs_read", "do_sys_openat2")) {
                Function g = functionNamed(p, name);
                DecompileResults rg = d.decompileFunction(g, 120, TaskMonitor.DUMMY);
                assertTrue(rg.decompileCompleted(), name + ": " + rg.getErrorMessage());
                List<String> lines = rg.getDecompiledFunction().getC().lines().map(String::strip).toList();
                List<String> warnings = new java.util.ArrayList<>();
                for (int i = 0; i < lines.size(); i++) {
                    String l = lines.get(i);
                    if (!l.contains("WARNING") || l.equals("/* WARNING: Subroutine does not return */")) continue;
                    java.util.regex.Matcher m = i + 1 < lines.size() ? trap.matcher(lines.get(i + 1)) : null;
                    boolean atBug = id.contains("arm64") && l.equals("/* WARNING: Treating indirect jump as call */") && m != null && m.find()
                            && bugSites.contains(Long.parseUnsignedLong(m.group(1), 16) - 4);
                    if (!atBug) warnings.add(l + (i + 1 < lines.size() ? " / " + lines.get(i + 1) : ""));
                }
                assertEquals(List.of(), warnings, name + " decompiles with warnings");
            }
            d.dispose();

            Function fentry = functionNamed(p, id.contains("amd64") ? "__fentry__" : "panic");
            assertNotNull(fentry);
            assertEquals(!id.contains("amd64"), fentry.hasNoReturn(), fentry.getName());
            Function vfsRead = functionNamed(p, "vfs_read");
            assertEquals("ssize_t", vfsRead.getReturnType().getName());
            assertEquals(p.getCompilerSpec().getDefaultCallingConvention().getName(), vfsRead.getCallingConventionName(),
                    "BTF prototypes take the default calling convention");
            assertTrue(p.getCompiler().contains("gcc"), "compiler from the banner: " + p.getCompiler());

            assertTrue(Files.isRegularFile(Path.of(header)), header + " is missing: install Debian's linux-libc-dev (.ci/run does)");
            Map<Integer, String> numbers = SyscallTablesTest.numbers(Path.of(header));
            Address table = p.getSymbolTable().getGlobalSymbols("sys_call_table").get(0).getAddress();
            Data array = p.getListing().getDataAt(table);
            assertNotNull(array, "sys_call_table is typed");
            assertTrue(array.isArray() && array.getNumComponents() > 400, array.toString());
            int w = p.getDefaultPointerSize(), checked = 0;
            for (Map.Entry<Integer, String> e : numbers.entrySet()) {
                if (e.getKey() >= array.getNumComponents()) continue;
                String comment = p.getListing().getComment(CodeUnit.EOL_COMMENT, table.add((long) e.getKey() * w));
                assertNotNull(comment, "entry " + e.getKey());
                String syscall = comment.substring(comment.indexOf("= ") + 2);
                if (syscall.equals("ni_syscall")) continue;
                assertTrue(SyscallTablesTest.same(e.getValue(), syscall), e.getKey() + " " + e.getValue() + ": " + comment);
                checked++;
            }
            assertTrue(checked > 250, checked + " entries checked");
        } finally {
            p.release(consumer);
        }
    }

    private static Function functionNamed(Program p, String name) {
        for (var s : p.getSymbolTable().getGlobalSymbols(name)) {
            Function f = p.getFunctionManager().getFunctionAt(s.getAddress());
            if (f != null) return f;
        }
        return null;
    }
}
