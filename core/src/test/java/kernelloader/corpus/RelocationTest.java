package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

import org.junit.jupiter.api.Test;

import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.layout.RelativeRelocations;

/**
 * Relocatable kernels whose data pointers are only filled in at boot: after applying the RELA
 * table, sys_call_table[0] holds the address of the first system call, as in the -dbg vmlinux.
 */
class RelocationTest {
    private static long firstSyscallAfterRelocation(String id, String expectedSymbol) throws Exception {
        Corpus.Kernel k = Corpus.kernel(id);
        KernelModel m = KernelReader.read(k.image(), KallsymsFinder.Hints.NONE);
        KernelLayout layout = LayoutInference.infer(m.image(), m.kallsyms(), LayoutInference.Overrides.NONE);
        Map<String, Long> nm = k.firstAddresses();
        long table = layout.fileOffsetOf(nm.get("sys_call_table"));
        ByteBuffer b = ByteBuffer.wrap(m.image().data()).order(k.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        long before = b.getLong((int) table);
        RelativeRelocations.Applied applied = RelativeRelocations.apply(m.image(), layout);
        assertNotNull(applied, "a RELA table");
        assertTrue(applied.count() > 10000, "relocations: " + applied.count());
        long after = b.getLong((int) table);
        assertEquals(Long.toHexString(nm.get(expectedSymbol)), Long.toHexString(after));
        return before;
    }

    @Test
    void arm64RelaKernelGetsItsDataPointersBack() throws Exception {
        assertEquals(0, firstSyscallAfterRelocation("bookworm-arm64-arm64", "__arm64_sys_io_setup"), "0 in the Image as shipped");
    }

    @Test
    void s390xRelaLeavesLinkTimeValuesAsTheyAre() throws Exception {
        long before = firstSyscallAfterRelocation("bookworm-s390x-s390x", "__s390_sys_ni_syscall");   // s390 syscall 0 is unused
        assertTrue(before != 0);
    }

    @Test
    void arm64RelrKernelKeepsItsPointersInPlaceAndNeedsNothing() throws Exception {
        // CONFIG_RELR: the addend is the value in place, so the Image already holds the pointers
        Corpus.Kernel k = Corpus.kernel("sid-arm64-arm64");
        KernelModel m = KernelReader.read(k.image(), KallsymsFinder.Hints.NONE);
        KernelLayout layout = LayoutInference.infer(m.image(), m.kallsyms(), LayoutInference.Overrides.NONE);
        assertNull(RelativeRelocations.apply(m.image(), layout));
        Map<String, Long> nm = k.firstAddresses();
        long at = layout.fileOffsetOf(nm.get("sys_call_table"));
        long first = ByteBuffer.wrap(m.image().data()).order(ByteOrder.LITTLE_ENDIAN).getLong((int) at);
        assertEquals(Long.toHexString(nm.get("__arm64_sys_io_setup")), Long.toHexString(first));
    }
}
