package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

import ghidra.program.model.lang.CompilerSpecID;
import ghidra.program.model.lang.Language;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.util.DefaultLanguageService;
import kernelloader.layout.Architecture;

/**
 * Every language and compiler spec our architecture table names exists in the embedded Ghidra
 * 10.3, with the word size and byte order we pair it with (LoongArch: 11.0+; s390x: none).
 */
class GhidraLanguageTest {
    @Test
    void everyLanguageInTheTableLoads() throws Exception {
        EmbeddedGhidra.start();
        var service = DefaultLanguageService.getLanguageService();
        int checked = 0;
        for (Architecture a : Architecture.values()) {
            for (int bits : new int[] {32, 64}) {
                for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                    String id = a.ghidraLanguage(bits, order);
                    if (a == Architecture.S390X) {
                        assertNull(id);
                        continue;
                    }
                    if (!a.inGhidra10_3() || !plausible(a, bits, order)) continue;
                    Language lang = service.getLanguage(new LanguageID(id));
                    assertNotNull(lang, id);
                    assertEquals(bits, lang.getDefaultSpace().getSize(), id + " pointer size");
                    assertEquals(order == ByteOrder.BIG_ENDIAN, lang.isBigEndian(), id + " byte order");
                    assertNotNull(lang.getCompilerSpecByID(new CompilerSpecID(a.compilerSpec())), id + " / " + a.compilerSpec());
                    checked++;
                }
            }
        }
        assertEquals(19, checked);   // x86 2, ARM 2, SuperH 2, AArch64 2, MIPS 4, PowerPC 3, SPARC 2, RISC-V 2
    }

    /** The (word size, byte order) pairs Linux kernels exist in for each architecture. */
    private static boolean plausible(Architecture a, int bits, ByteOrder order) {
        boolean le = order == ByteOrder.LITTLE_ENDIAN;
        return switch (a) {
            case X86 -> le;
            case ARM, SUPERH -> bits == 32;
            case AARCH64 -> bits == 64;
            case MIPS -> true;
            case POWERPC -> bits == 32 ? !le : true;
            case SPARC -> !le;
            case RISCV -> le;
            default -> false;
        };
    }
}
