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
import kernelloader.code.SyscallTablesTest;
import kernelloader.corpus.Corpus;

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
            // paths); on arm64 also its note at each WARN()'s `brk #0x800`, an indirect jump in
            // Ghidra's AARCH64 language: which of those return (WARN) and which do not (BUG) only
            // the kernel's __bug_table says (README: limits)
            List<String> allowed = new java.util.ArrayList<>(List.of("/* WARNING: Subroutine does not return */"));
            if (id.contains("arm64")) allowed.add("/* WARNING: Treating indirect jump as call */");
            for (String name : List.of("start_kernel", "vfs_read", "do_sys_openat2")) {
                Function g = functionNamed(p, name);
                DecompileResults rg = d.decompileFunction(g, 120, TaskMonitor.DUMMY);
                assertTrue(rg.decompileCompleted(), name + ": " + rg.getErrorMessage());
                List<String> warnings = rg.getDecompiledFunction().getC().lines().map(String::strip)
                        .filter(l -> l.contains("WARNING") && !allowed.contains(l)).toList();
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
