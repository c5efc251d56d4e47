package kernelloader.code;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Architecture;

/** The code facts that need no corpus: extents, flow names, preambles, Thumb, banners of real kernels. */
class CodeFactsTest {
    private static KallsymsTable table(long[] addresses, String types, String... names) {
        return KallsymsTable.of(KallsymsTable.Origin.SYMBOLS_FILE, 64, ByteOrder.LITTLE_ENDIAN, addresses, types.getBytes(), names, "test");
    }

    @Test
    void aFunctionEndsWhereTheNextSymbolStartsAlsoInTheTopHalf() {
        // kernel addresses are negative as signed longs: the last symbol has no next one
        KallsymsTable t = table(new long[] {0xffffffff810007b0L, 0xffffffff810007c0L, 0xffffffff810007c0L, 0xffffffff810007d0L, 0x1000L},
                "TTtTD", "__pfx_snp_abort", "snp_abort", "snp_abort_alias", "__pfx_snp_init", "per_cpu_thing");
        FunctionExtents e = FunctionExtents.of(t);
        assertEquals(16, e.extent(0xffffffff810007b0L, 64));
        assertEquals(16, e.extent(0xffffffff810007c0L, 64), "names sharing an address end at the next address");
        assertEquals(64, e.extent(0xffffffff810007d0L, 64), "the last kernel symbol: the cap");
    }

    @Test
    void dataObjectsRunToTheNextNameExportsOnlyAWord() {
        // pv_ops 0x2a0 bytes to pv_info; jiffies 8; memstart_addr an export kallsyms lacks, the next name far off
        KallsymsTable t = table(new long[] {0xffffffff82c35440L, 0xffffffff82c356e0L, 0xffffffff82c35700L, 0xffffffff82c35708L,
                0xffffffff82d00000L, 0xffffffff81000000L}, "DDdDdT", "pv_ops", "pv_info", "jiffies", "jiffies_end", "far", "_text");
        var exports = new kernelloader.ksymtab.ExportTable(java.util.List.of(
                new kernelloader.ksymtab.KernelExport("memstart_addr", 0xffffffff82c40000L, kernelloader.ksymtab.ExportKind.EXPORT_SYMBOL, "", 0),
                new kernelloader.ksymtab.KernelExport("pv_ops", 0xffffffff82c35440L, kernelloader.ksymtab.ExportKind.EXPORT_SYMBOL_GPL, "", 0)),
                null, kernelloader.ksymtab.CrcStorage.NONE, 0, 0, 0, 0, "", java.util.List.of());
        java.util.Map<String, Long> len = new java.util.HashMap<>();
        for (DataObjects.DataObject o : DataObjects.of(t, exports, 8)) len.put(o.name(), o.length());
        assertEquals(0x2a0L, len.get("pv_ops"));
        assertEquals(0x20L, len.get("pv_info"));
        assertEquals(8L, len.get("jiffies"));
        assertEquals(8L, len.get("memstart_addr"), "an export kallsyms lacks: one word, not to the next name");
        assertEquals(0xa8f8L, len.get("jiffies_end"), "up to the next name, even an export's");
        assertFalse(len.containsKey("far"), "no next name within 1 MiB: no size");
        assertFalse(len.containsKey("_text"), "text is not data");
    }

    @Test
    void flowNames() {
        assertTrue(ControlFlow.neverReturns("panic"));
        assertTrue(ControlFlow.neverReturns("__stack_chk_fail"));
        assertFalse(ControlFlow.neverReturns("__warn_printk"), "warnings return");
        assertTrue(ControlFlow.alwaysReturns("__fentry__"));
        assertTrue(ControlFlow.alwaysReturns("__x86_return_thunk"));
        assertTrue(ControlFlow.alwaysReturns("__x86_indirect_thunk_rax"));
        assertFalse(ControlFlow.alwaysReturns("panic"));
        assertTrue(ControlFlow.isPreamble("__pfx_snp_init"));
        assertTrue(ControlFlow.isPreamble("__cfi_snp_init"));
        assertFalse(ControlFlow.isPreamble("snp_init"));
    }

    @Test
    void thumbTextIsToldByFunctionsAtTwoModFour() {
        long[] a = new long[200];
        String[] n = new String[200];
        for (int i = 0; i < a.length; i++) {
            a[i] = 0xc0100000L + i * 0x40L + (i % 3 == 0 ? 2 : 0);
            n[i] = "f" + i;
        }
        assertTrue(InstructionSet.thumb(table(a, "T".repeat(200), n), Architecture.ARM));
        assertFalse(InstructionSet.thumb(table(a, "T".repeat(200), n), Architecture.AARCH64), "only 32-bit ARM has Thumb");
        for (int i = 0; i < a.length; i++) a[i] &= ~3L;
        assertFalse(InstructionSet.thumb(table(a, "T".repeat(200), n), Architecture.ARM));
    }

    @Test
    void theCompilerOfRealBanners() {
        // Debian trixie amd64 (6.12), an Android GKI (clang), a 2.6 kernel
        assertEquals("x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0", CompilerBanner.compiler(
                "Linux version 6.12.48+deb13-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0,"
                        + " GNU ld (GNU Binutils for Debian) 2.44) #1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)\n"));
        assertEquals("Android (8508608, based on r450784e) clang version 14.0.7 (https://android.googlesource.com/toolchain/llvm-project"
                + " 4c603efb0cca074e9238af8b4106c30add4418f6)", CompilerBanner.compiler(
                "Linux version 5.15.94-android14-11 (build-user@build-host) (Android (8508608, based on r450784e) clang version 14.0.7"
                        + " (https://android.googlesource.com/toolchain/llvm-project 4c603efb0cca074e9238af8b4106c30add4418f6), LLD 14.0.7)"
                        + " #1 SMP PREEMPT Mon Apr 3 12:00:00 UTC 2023"));
        assertEquals("gcc version 4.4.3 (GCC)", CompilerBanner.compiler(
                "Linux version 2.6.32.9 (root@host) (gcc version 4.4.3 (GCC) ) #1 SMP Mon Mar 1 12:00:00 CET 2010\n"));
        assertNull(CompilerBanner.compiler("no banner here"));
    }
}
